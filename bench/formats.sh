#!/usr/bin/env bash
# Format benchmark (part of `make bench`): the core workload (alerts over one TCP connection -> keep priority >=
# Warning) written to a file in each format, and as RFC 5424 syslog (json and cef bodies) over TCP to a local
# receiver that counts lines. Prints alerts/s and each format's cost relative to json. Not a test.
# Environment: BENCH_ALERTS (1000000), BENCH_QUICK=1 (100000), BUILD_DIR.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
BUILD=${BUILD_DIR:-$ROOT/build}
SAKER=$BUILD/saker
LOADGEN=$BUILD/saker_loadgen
if [[ "${BENCH_QUICK:-0}" == 1 ]]; then ALERTS=${BENCH_ALERTS:-100000}; else ALERTS=${BENCH_ALERTS:-1000000}; fi
[[ -x "$SAKER" && -x "$LOADGEN" ]] || { echo "[formats] build saker and saker_loadgen first (make build)" >&2; exit 1; }
mkdir -p "$BUILD/bench/cache"
# On a tmpfs when there is one (BENCH_OUT_TMPFS=0: under build/bench), as bench/run.sh does: what is measured is
# saker, not the disk's cost per byte, which on this kind of virtual machine varies from run to run.
if [[ "${BENCH_OUT_TMPFS:-1}" != 0 && -d /dev/shm && -w /dev/shm ]] &&
  [[ $(df -Pk /dev/shm | awk 'NR == 2 {print $4}') -gt $((4 * 1024 * 1024)) ]]; then
  WORK=$(mktemp -d /dev/shm/saker-bench-formats-XXXXXX)
else
  WORK=$(mktemp -d "$BUILD/bench/formats-XXXXXX")
fi
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
INPUT=$BUILD/bench/cache/alerts-$ALERTS.ndjson
[[ -s "$INPUT" ]] || "$LOADGEN" --count "$ALERTS" --seed 1 --out "$INPUT" >/dev/null
KEPT=$(grep -c -E '"priority":"(Warning|Error|Critical|Alert|Emergency)"' "$INPUT")

# A syslog receiver that only counts records (newline framing) into a file, so it never is the bottleneck.
receiver() {  # port, count file
  python3 - "$1" "$2" <<'PY' &
import socket, sys
port, out = int(sys.argv[1]), sys.argv[2]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", port)); s.listen(4)
c, _ = s.accept(); n = 0
while True:
    b = c.recv(1 << 20)
    if not b: break
    n += b.count(b"\n")
    with open(out + ".tmp", "w") as f: f.write(str(n))
    import os; os.replace(out + ".tmp", out)
PY
  PIDS+=($!)
}

run_case() {  # name, sink yaml, file whose line count (or count file) proves delivery
  local name=$1 sink=$2 done_file=$3 port dir
  port=$(free_port); dir=$WORK/$name; mkdir -p "$dir"
  tcp_saker_config "$dir" "$port" "$sink"
  "$SAKER" run -c "$dir/saker.yaml" 2>"$dir/saker.log" & local pid=$!
  PIDS+=($pid)
  wait_listen "$port"
  # Timed by the sender from its first byte until the proof of delivery is complete (loading the input is not).
  local wait=(--wait-file "$done_file" --expect-lines "$KEPT")
  if [[ "$done_file" == *.count ]]; then
    wait+=(--wait-count)
  elif [[ "$done_file" == *.kafka ]]; then  # kafka_mock prints one line per message plus its "ready" line
    wait=(--wait-file "$done_file" --expect-lines $((KEPT + 1)))
  fi
  "$LOADGEN" --in "$INPUT" --tcp "127.0.0.1:$port" "${wait[@]}" --timeout 1800 --stall 120 >"$dir/result" ||
    echo "[formats] $name: not every alert arrived: $(tr '\n' ' ' <"$dir/result")" >&2
  local rate; rate=$(awk -F= '$1 == "alerts_per_second" {print $2}' "$dir/result")
  printf '%-18s %12.0f %10.2f\n' "$name" "$rate" "$(cpu_seconds $pid)"
  echo "$rate" >"$WORK/$name.rate"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo
echo "== formats: $ALERTS alerts over TCP -> priority >= warning ($KEPT kept) -> each format =="
printf '%-18s %12s %10s\n' case alerts/s cpu_s
for f in json ecs ocsf cef leef; do
  run_case "file-$f" "{name: out, type: file, path: $WORK/file-$f/out.log, format: $f, min_priority: warning}" "$WORK/file-$f/out.log"
done
for f in json cef; do
  p=$(free_port); receiver "$p" "$WORK/syslog-$f.count"; sleep 0.3
  run_case "syslog5424-$f" "{name: out, type: syslog, address: \"tcp://127.0.0.1:$p\", framing: newline, format: $f, min_priority: warning}" "$WORK/syslog-$f.count"
done
# Kafka: librdkafka's mock cluster (3 brokers, 6 partitions) in the kafka_mock test tool; acks=all, idempotence, lz4.
if [[ -x "$BUILD/kafka_mock" ]]; then
  "$BUILD/kafka_mock" --brokers 3 --partitions 6 --topic falco >"$WORK/mock.kafka" 2>"$WORK/mock.log" < <(sleep 100000) &
  PIDS+=($!)
  for _ in $(seq 300); do grep -q '"event":"ready"' "$WORK/mock.kafka" 2>/dev/null && break; sleep 0.05; done
  bootstrap=$(grep -o '"bootstrap":"[^"]*"' "$WORK/mock.kafka" | cut -d'"' -f4)
  run_case "kafka-json" "{name: out, type: kafka, brokers: \"$bootstrap\", topic: falco, format: json, min_priority: warning}" "$WORK/mock.kafka"
fi
# Elasticsearch _bulk into the test server (tests/integration/es_bulk_server.py, a Python program: it is likely
# the bottleneck, so this measures the pair, not saker alone).
esp=$(free_port)
python3 - "$ROOT/tests/integration" "$esp" "$WORK/es.count" <<'PY' &
import os, sys, time
sys.path.insert(0, sys.argv[1])
from es_bulk_server import EsBulkServer
s = EsBulkServer(port=int(sys.argv[2])).start()
while True:
    with s.lock:
        n = sum(len(d) for d in s.indices.values())
        s.requests.clear()
    with open(sys.argv[3] + ".tmp", "w") as f: f.write(str(n))
    os.replace(sys.argv[3] + ".tmp", sys.argv[3])
    time.sleep(0.05)
PY
PIDS+=($!)
wait_listen "$esp"
run_case "elasticsearch-ecs" "{name: out, type: elasticsearch, url: \"http://127.0.0.1:$esp\", format: ecs, min_priority: warning}" "$WORK/es.count"
base=$(cat "$WORK/file-json.rate")
for f in ecs ocsf cef leef; do
  printf 'file %-5s throughput %5.1f%% of json\n' "$f" "$(echo "100 * $(cat "$WORK/file-$f.rate") / $base" | bc -l)"
done
printf 'elasticsearch _bulk (ecs, test server): %5.1f%% of file ecs\n' "$(echo "100 * $(cat "$WORK/elasticsearch-ecs.rate") / $(cat "$WORK/file-ecs.rate")" | bc -l)"
[[ -f "$WORK/kafka-json.rate" ]] && printf 'kafka (mock cluster): %5.1f%% of file json\n' "$(echo "100 * $(cat "$WORK/kafka-json.rate") / $base" | bc -l)"
printf 'syslog RFC 5424 + cef: %5.1f%% of syslog + json\n' "$(echo "100 * $(cat "$WORK/syslog5424-cef.rate") / $(cat "$WORK/syslog5424-json.rate")" | bc -l)"
