#!/usr/bin/env bash
# Buffer benchmark (part of `make bench`): the core workload (alerts over one TCP connection -> keep
# priority >= Warning -> NDJSON file) with the file sink's buffer in memory and on disk under each fsync
# policy, then the recovery time after kill -9 with BENCH_RECOVERY_ALERTS alerts in a disk buffer.
# Prints a table; not a test. Environment: BENCH_ALERTS (1000000), BENCH_QUICK=1 (100000), BUILD_DIR.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
BUILD=${BUILD_DIR:-$ROOT/build}
SAKER=$BUILD/saker
LOADGEN=$BUILD/saker_loadgen
if [[ "${BENCH_QUICK:-0}" == 1 ]]; then ALERTS=${BENCH_ALERTS:-100000}; else ALERTS=${BENCH_ALERTS:-1000000}; fi
RECOVERY_ALERTS=${BENCH_RECOVERY_ALERTS:-$ALERTS}
[[ -x "$SAKER" && -x "$LOADGEN" ]] || { echo "[buffers] build saker and saker_loadgen first (make build)" >&2; exit 1; }

mkdir -p "$BUILD/bench/cache"
WORK=$(mktemp -d "$BUILD/bench/buffers-XXXXXX")
PID=""
cleanup() { [[ -n "$PID" ]] && kill -9 "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

INPUT=$BUILD/bench/cache/alerts-$ALERTS.ndjson
[[ -s "$INPUT" ]] || "$LOADGEN" --count "$ALERTS" --seed 1 --out "$INPUT" >/dev/null
KEPT=$(grep -c -E '"priority":"(Warning|Error|Critical|Alert|Emergency)"' "$INPUT")

run_case() {  # name, buffer yaml
  local name=$1 buffer=$2 port dir
  port=$(free_port); dir=$WORK/$name; mkdir -p "$dir"
  tcp_saker_config "$dir" "$port" "{name: out, type: file, path: $dir/out.ndjson, min_priority: warning, buffer: $buffer}"
  "$SAKER" run -c "$dir/saker.yaml" 2>"$dir/saker.log" & PID=$!
  wait_listen "$port"
  local start end
  start=$(date +%s.%N)
  "$LOADGEN" --in "$INPUT" --tcp "127.0.0.1:$port" --wait-file "$dir/out.ndjson" --expect-lines "$KEPT" >"$dir/loadgen.out"
  end=$(date +%s.%N)
  local secs rate
  secs=$(echo "$end - $start" | bc -l)
  rate=$(echo "$ALERTS / $secs" | bc -l)
  printf '%-22s %12.0f %10.2f %8s\n' "$name" "$rate" "$(cpu_seconds $PID)" "$(rss_mb $PID)"
  echo "$rate" >"$dir/rate"
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
}

echo
echo "== buffers: $ALERTS alerts over TCP -> priority >= warning ($KEPT kept) -> file, by buffer =="
printf '%-22s %12s %10s %8s\n' buffer alerts/s cpu_s rss_mb
run_case memory '{type: memory}'
run_case disk-fsync-never '{type: disk, fsync: never, max_bytes: 4GiB}'
run_case disk-fsync-interval '{type: disk, fsync: interval, max_bytes: 4GiB}'
run_case disk-fsync-always '{type: disk, fsync: always, max_bytes: 4GiB}'
mem=$(cat "$WORK/memory/rate")
for c in disk-fsync-never disk-fsync-interval disk-fsync-always; do
  printf '%-22s %11.1f%% of memory\n' "$c" "$(echo "100 * $(cat "$WORK/$c/rate") / $mem" | bc -l)"
done

# Recovery: the sink writes into a FIFO nobody reads, so every alert stays in the disk buffer; kill -9;
# replace the FIFO by a file; measure start-up (log scan) and the time until every alert is delivered.
echo
echo "== recovery after kill -9 with $RECOVERY_ALERTS alerts in a disk buffer =="
dir=$WORK/recovery; mkdir -p "$dir"; port=$(free_port)
RIN=$INPUT
if [[ "$RECOVERY_ALERTS" != "$ALERTS" ]]; then RIN=$dir/in.ndjson; head -n "$RECOVERY_ALERTS" "$INPUT" >"$RIN"; fi
mkfifo "$dir/out.ndjson"
tcp_saker_config "$dir" "$port" "{name: out, type: file, path: $dir/out.ndjson, buffer: {type: disk, max_bytes: 8GiB}}"
"$SAKER" run -c "$dir/saker.yaml" 2>"$dir/saker.log" & PID=$!
wait_listen "$port"
"$LOADGEN" --in "$RIN" --tcp "127.0.0.1:$port" >/dev/null
# Until the whole input is in the buffer (the queued gauge is not reachable without http): at least the input's
# size and no longer growing (alerts still being decoded are not in it yet; a kill -9 then would lose them, as any
# receiver without acknowledgements does).
prev=-1
for _ in $(seq 600); do
  size=$(du -sb "$dir/data/buffers/out" | cut -f1)
  [[ "$size" -ge $(( $(stat -c %s "$RIN") )) && "$size" -eq "$prev" ]] && break
  prev=$size
  sleep 0.5
done
kill -9 "$PID"; wait "$PID" 2>/dev/null || true; PID=""
buffered=$(du -sb "$dir/data/buffers/out" | cut -f1)
rm -f "$dir/out.ndjson"
total=$(wc -l <"$RIN")
start=$(date +%s.%N)
"$SAKER" run -c "$dir/saker.yaml" 2>"$dir/saker2.log" & PID=$!
wait_listen "$port"
up=$(date +%s.%N)
deadline=$((SECONDS + 600))
while [[ $(wc -l <"$dir/out.ndjson" 2>/dev/null || echo 0) -lt $total ]]; do
  if ((SECONDS > deadline)); then
    echo "[buffers] recovery: only $(wc -l <"$dir/out.ndjson") of $total alerts delivered after 600 s" >&2
    break
  fi
  sleep 0.05
done
done_t=$(date +%s.%N)
printf 'buffered: %d alerts, %.0f MB on disk\n' "$total" "$(echo "$buffered / 1048576" | bc -l)"
printf 'start-up until listening (log scan): %.2f s\n' "$(echo "$up - $start" | bc -l)"
printf 'start-up until every alert delivered: %.2f s (%.0f alerts/s)\n' "$(echo "$done_t - $start" | bc -l)" \
  "$(echo "$total / ($done_t - $start)" | bc -l)"
kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
