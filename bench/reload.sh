#!/usr/bin/env bash
# Reload benchmark (part of `make bench`): alerts keep flowing while a table of 1,000,000 threat-intel indicators is
# rebuilt. Senders POST one alert per request (keep-alive) to saker's http source, with every enricher's table
# loaded; midway the feed file is replaced (watch_files reloads on its own) BENCH_RELOADS times. Prints the
# longest time any POST waited, before and during the reloads, how long each reload took, and checks that every
# alert arrived once and that the alerts after the last reload carry the new feed's match. Not a test.
# Environment: BENCH_RELOADS (3), BUILD_DIR.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
BUILD=${BUILD_DIR:-$ROOT/build}
SAKER=$BUILD/saker
RELOADS=${BENCH_RELOADS:-3}
[[ -x "$SAKER" && -x "$BUILD/enrich_bench" ]] || { echo "[reload] build saker and enrich_bench first (make build)" >&2; exit 1; }

WORK=$(mktemp -d "$BUILD/bench/reload-XXXXXX")
PID=""
cleanup() { [[ -n "$PID" ]] && kill -9 "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

"$BUILD/enrich_bench" --write-tables "$WORK/tables"
port=$(free_port)
cat >"$WORK/saker.yaml" <<EOF
data_dir: $WORK/data
enrich:
  threat_intel: {feeds: [{name: bench, type: list, path: $WORK/tables/feed.txt}]}
sources: [{type: http, listen: "127.0.0.1:$port"}]
sinks:
  - {name: out, type: file, path: $WORK/out.ndjson}
EOF
"$SAKER" run -c "$WORK/saker.yaml" >"$WORK/saker.log" 2>&1 &
PID=$!
for _ in $(seq 300); do grep -q "running with" "$WORK/saker.log" && break; sleep 0.1; done

python3 - "$port" "$WORK" "$RELOADS" <<'PY'
import http.client, json, os, sys, threading, time
port, work, reloads = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
feed, log, out = f"{work}/tables/feed.txt", f"{work}/saker.log", f"{work}/out.ndjson"
stop = threading.Event()
waits = []  # (start, seconds) of every POST
sent = []
lock = threading.Lock()

def sender(n):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    i = 0
    while not stop.is_set():
        uid = f"s{n}-{i}"
        body = json.dumps({"uuid": uid, "rule": "r", "priority": "Warning", "output": "o",
                           "output_fields": {"fd.sip": "198.18.0.7", "proc.name": "curl"}})
        t0 = time.monotonic()
        c.request("POST", "/", body, {"Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        if r.status != 200:
            raise SystemExit(f"POST answered {r.status}")
        with lock:
            waits.append((t0, time.monotonic() - t0)); sent.append(uid)
        i += 1

threads = [threading.Thread(target=sender, args=(n,)) for n in range(2)]
for t in threads: t.start()
time.sleep(3)
calm_end = time.monotonic()
took = []
for k in range(reloads):
    before = open(log).read().count("reloaded")
    t0 = time.monotonic()
    tmp = feed + ".new"
    with open(feed) as f, open(tmp, "w") as g:
        g.write(f.read())
        if k == reloads - 1:
            g.write("198.18.0.7\n")  # the last feed knows the senders' address
    os.replace(tmp, feed)
    while open(log).read().count("reloaded") == before:
        time.sleep(0.01)
    took.append(time.monotonic() - t0)
    time.sleep(1)
stop.set()
for t in threads: t.join()
calm = max(w for s, w in waits if s < calm_end)
during = max(w for s, w in waits if s >= calm_end)
deadline = time.time() + 30
while time.time() < deadline:
    lines = [l for l in open(out).read().split("\n") if l.endswith("}")]
    if len(lines) >= len(sent): break
    time.sleep(0.1)
got = [json.loads(l) for l in lines]
uids = [a["uuid"] for a in got]
ok = sorted(uids) == sorted(sent)
hit_after = any(a["output_fields"].get("threat.matched") for a in got[-50:])
print(f"reload under load (1,000,000 indicators, 2 senders, one alert per POST): {len(sent)} POSTs, "
      f"all delivered once: {'yes' if ok else 'NO'}; the last feed's match seen after its reload: {'yes' if hit_after else 'NO'}")
print(f"  longest POST before the reloads {calm * 1000:.1f} ms, during {reloads} reloads {during * 1000:.1f} ms; "
      f"reloads took {', '.join(f'{t:.2f}' for t in took)} s (change to 'reloaded', settle time 0.3 s included)")
PY
