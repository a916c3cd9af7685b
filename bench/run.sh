#!/usr/bin/env bash
# saker's benchmark (`make bench`): the same job for saker, rsyslog and syslog-ng in one run —
# Falco alerts as NDJSON over ONE loopback TCP connection -> parse JSON -> keep priority >= Warning
# -> NDJSON file — then Falco-style HTTP (one alert per POST, keep-alive) against saker with wrk.
# Prints a table; it is not a test and never fails on slowness. See docs/benchmarks.md.
#
# Environment:
#   BENCH_ALERTS=N        alerts in the TCP workload (default 1000000)
#   BENCH_QUICK=1         smoke run: 100000 alerts, 3 s of HTTP, one run per system
#   BENCH_RUNS=N          runs per system of the TCP workload (default 3); the table shows the median run
#   BENCH_SYSTEMS="..."   subset of "saker saker-enrich speed-of-light rsyslog syslog-ng" (default all)
#                         saker-enrich: the same workload with the `fields` stage (2 static, 1 templated) and mitre;
#                         saker-enrich-all: with every enricher (fields, mitre, geoip, assets with 100,000 entries,
#                         threat_intel with 1,000,000 indicators);
#                         speed-of-light: bench/tools/speed_of_light.cpp, the least a program can do for the workload
#   BENCH_HTTP=0          skip the HTTP part; BENCH_HTTP_SECONDS (10), BENCH_HTTP_CONNECTIONS (16)
#   BENCH_SEED=N          load generator seed (default 1)
#   BENCH_FORMATS=0       skip bench/formats.sh (format and syslog benchmark)
#   BENCH_BUFFERS=0       skip bench/buffers.sh (buffer and recovery benchmark)
#   BENCH_ENRICH=0        skip enrich_bench (the enrichment stages alone, Google Benchmark)
#   BENCH_RELOAD=0        skip bench/reload.sh (alerts flowing while 1,000,000 indicators reload)
#   BENCH_KEEP=1          keep the work directory (outputs, configs, logs) for inspection
#   BENCH_OUT_TMPFS=0     write the outputs beside the work directory instead of on /dev/shm (tmpfs)
#   BUILD_DIR=DIR         where saker and saker_loadgen are (default build/)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
SAKER=$BUILD/saker
LOADGEN=$BUILD/saker_loadgen
if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
  ALERTS=${BENCH_ALERTS:-100000}
  HTTP_SECONDS=${BENCH_HTTP_SECONDS:-3}
  RUNS=${BENCH_RUNS:-1}
else
  RUNS=${BENCH_RUNS:-3}
  ALERTS=${BENCH_ALERTS:-1000000}
  HTTP_SECONDS=${BENCH_HTTP_SECONDS:-10}
fi
HTTP_CONNECTIONS=${BENCH_HTTP_CONNECTIONS:-16}
SEED=${BENCH_SEED:-1}
SYSTEMS=${BENCH_SYSTEMS:-saker saker-enrich saker-enrich-all speed-of-light rsyslog syslog-ng}
CLK_TCK=$(getconf CLK_TCK)

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }
wants() { [[ " $SYSTEMS " == *" $1 "* ]]; }

build_hint="build them with: cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C build saker saker_loadgen"
[[ -x "$LOADGEN" ]] || die "$LOADGEN not found; $build_hint"
if wants saker || [[ "${BENCH_HTTP:-1}" != 0 ]]; then
  [[ -x "$SAKER" ]] || die "$SAKER not found; $build_hint (or run only the peers: BENCH_SYSTEMS=\"rsyslog syslog-ng\" BENCH_HTTP=0)"
fi

mkdir -p "$BUILD/bench/cache"
WORK=$(mktemp -d "$BUILD/bench/run-XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
    log "work directory kept: $WORK${OUT_TMPFS:+ (outputs in $OUT_TMPFS)}"
  else
    rm -rf "$WORK"
    if [[ -n "${OUT_TMPFS:-}" ]]; then rm -rf "$OUT_TMPFS"; fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- helpers -------------------------------------------------------------------------------------

# Waits until something listens on 127.0.0.1:$2 (from /proc/net/tcp, so no probe connection is made);
# fails early when process $1 died. $3 names the system, $4 is its log.
wait_listening() {
  local pid=$1 port=$2 name=$3 logf=$4 hex i
  hex=$(printf '%04X' "$port")
  for ((i = 0; i < 400; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$name exited during startup; last lines of $logf:"
      tail -n 20 "$logf" >&2 || true
      return 1
    fi
    if awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" {found=1} END {exit !found}' /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
      return 0
    fi
    sleep 0.05
  done
  log "$name did not listen on 127.0.0.1:$port within 20 s; last lines of $logf:"
  tail -n 20 "$logf" >&2 || true
  return 1
}

# utime+stime of a process in clock ticks (fields 14 and 15 of /proc/PID/stat, counted after the
# command name, which may hold spaces).
cpu_ticks() {
  local stat
  stat=$(<"/proc/$1/stat")
  stat=${stat##*) }
  awk '{print $12 + $13}' <<<"$stat"
}

peak_rss_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

kv() { awk -F= -v k="$1" '$1 == k {print $2}' "$2" | tail -n 1; }

free_port() { "$LOADGEN" --free-port; }

declare -A R_RATE R_WALL R_CPU R_RSS R_LINES R_OK R_NOTE R_RUNS

# Runs `$2 $1` (a function that starts system $1, calls measure and stops it) RUNS times and keeps the median run
# by alerts/s in R_*[$1]; R_RUNS[$1] lists every run's alerts/s. A run that failed its checks is kept if it is the
# median, so the table shows it.
# The TCP workload's runs go round-robin over the systems (run 1 of each, then run 2 of each, ...), so drift in the
# machine's state (page cache, the host's memory behind it) falls on every system alike rather than on whichever
# ran last; `sync` before each run keeps one run's output from being written back during the next.
RR_NAMES=()
RR_FNS=()
round_robin_add() { RR_NAMES+=("$1"); RR_FNS+=("$2"); }
record_run() {  # $1 name, $2 run number
  local k
  for k in RATE WALL CPU RSS LINES OK NOTE; do
    local -n tbl="R_$k"
    tbl["$1#$2"]=${tbl[$1]:-}
  done
}
pick_median() {  # $1 name: the table shows its median run by alerts/s
  local name=$1 i k rates=() order
  for ((i = 1; i <= RUNS; i++)); do rates+=("${R_RATE["$name#$i"]:-0}"); done
  R_RUNS[$name]=$(IFS=' '; echo "${rates[*]}")
  order=$(for ((i = 1; i <= RUNS; i++)); do echo "${rates[i - 1]} $i"; done | sort -n | awk -v m=$(((RUNS + 1) / 2)) 'NR == m {print $2}')
  for k in RATE WALL CPU RSS LINES OK NOTE; do
    local -n tbl="R_$k"
    tbl[$name]=${tbl["$name#$order"]:-}
  done
  [[ -z "${R_RATE[$name]}" ]] && unset "R_RATE[$name]"
  [[ -z "${R_NOTE[$name]}" ]] && unset "R_NOTE[$name]"
  return 0
}
run_round_robin() {
  local i j
  for ((i = 1; i <= RUNS; i++)); do
    for ((j = 0; j < ${#RR_NAMES[@]}; j++)); do
      unset "R_RATE[${RR_NAMES[j]}]" "R_NOTE[${RR_NAMES[j]}]"
      sync
      "${RR_FNS[j]}"
      record_run "${RR_NAMES[j]}" "$i"
    done
  done
  for ((j = 0; j < ${#RR_NAMES[@]}; j++)); do pick_median "${RR_NAMES[j]}"; done
}

# Runs the TCP workload against a receiver that is already listening; fills the R_* tables.
measure() {
  local name=$1 pid=$2 port=$3 out=$4 res="$WORK/$1.result" c0 c1 rc=0
  c0=$(cpu_ticks "$pid")
  "$LOADGEN" --in "$ALERTS_FILE" --tcp "127.0.0.1:$port" --wait-file "$out" --expect-lines "$EXPECTED" \
    --timeout 1800 --stall 60 >"$res" || rc=$?
  if ! kill -0 "$pid" 2>/dev/null; then
    R_NOTE[$name]="died during the run"
    R_OK[$name]=no
    return
  fi
  c1=$(cpu_ticks "$pid")
  R_RSS[$name]=$(awk -v kb="$(peak_rss_kb "$pid")" 'BEGIN {printf "%.1f", kb / 1024}')
  R_CPU[$name]=$(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" 'BEGIN {printf "%.2f", t / hz}')
  R_WALL[$name]=$(kv elapsed_seconds "$res")
  R_RATE[$name]=$(kv alerts_per_second "$res")
  # correctness: every kept line is valid JSON at Warning or above, and there are exactly EXPECTED of them
  "$LOADGEN" --in "$out" --stats >"$WORK/$name.check"
  local lines kept invalid
  lines=$(kv alerts "$WORK/$name.check")
  kept=$(kv warning_or_above "$WORK/$name.check")
  invalid=$(kv invalid "$WORK/$name.check")
  R_LINES[$name]=$lines
  if [[ $rc -eq 0 && "$lines" == "$EXPECTED" && "$kept" == "$EXPECTED" && "$invalid" == 0 ]]; then
    R_OK[$name]=yes
  else
    R_OK[$name]=no
    R_NOTE[$name]="lines=$lines (expected $EXPECTED), >=Warning=$kept, invalid JSON=$invalid, loadgen rc=$rc"
  fi
}

# A receiver just started in the background: once it listens, runs the workload against it (or notes that it did
# not start), then stops it. $1 name, $2 pid, $3 port, $4 its log, $5 its output file.
measure_started() {
  PIDS+=("$2")
  if wait_listening "$2" "$3" "$1" "$4"; then
    measure "$1" "$2" "$3" "$5"
  else
    R_OK[$1]=no
    R_NOTE[$1]="did not start (see above)"
  fi
  stop "$2"
}

stop() {
  local pid=$1
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

saker_config() {  # $1 = source yaml line, $2 = config path, $3 = extra top-level yaml (stages)
  cat >"$2" <<EOF
data_dir: $WORK/data
${3:-}
sources:
  - $1
sinks:
  - {name: out, type: file, path: $WORK/out/saker.ndjson, format: json, min_priority: warning}
EOF
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOAD_BEFORE%% *}" -v n="$(nproc)" 'BEGIN {exit !(l > n / 2)}'; then
  log "warning: load average is $LOAD_BEFORE on $(nproc) cores; other work skews every figure"
fi

# --- the workload --------------------------------------------------------------------------------

# The outputs go to a tmpfs when there is one (BENCH_OUT_TMPFS=0: beside the work directory): what is measured is
# the receivers, not the disk. On this kind of virtual machine, ext4 (mounted with `discard`) made writing a file
# cost several times more per byte in some runs than in others, which fell hardest on whichever output was largest.
OUT_TMPFS=""
if [[ "${BENCH_OUT_TMPFS:-1}" != 0 && -d /dev/shm && -w /dev/shm ]] &&
  [[ $(df -Pk /dev/shm | awk 'NR == 2 {print $4}') -gt $((4 * 1024 * 1024)) ]]; then
  OUT_TMPFS=$(mktemp -d /dev/shm/saker-bench-out-XXXXXX)
  ln -s "$OUT_TMPFS" "$WORK/out"
fi
mkdir -p "$WORK/out" "$WORK/data"
# the cache key is a fingerprint of what this generator makes, so a changed generator regenerates
lg_sum=$("$LOADGEN" --count 2000 --seed "$SEED" --out - 2>/dev/null | cksum | cut -d' ' -f1)
ALERTS_FILE="$BUILD/bench/cache/alerts-$ALERTS-s$SEED-$lg_sum.ndjson"
if [[ ! -s "$ALERTS_FILE" || ! -s "$ALERTS_FILE.stats" ]]; then
  find "$BUILD/bench/cache" -name 'alerts-*.ndjson*' -delete
  log "generating $ALERTS alerts (seed $SEED) once into $ALERTS_FILE"
  "$LOADGEN" --count "$ALERTS" --seed "$SEED" --out "$ALERTS_FILE" --stats >"$ALERTS_FILE.stats.tmp"
  mv "$ALERTS_FILE.stats.tmp" "$ALERTS_FILE.stats"
fi
EXPECTED=$(kv warning_or_above "$ALERTS_FILE.stats")
AVG_BYTES=$(kv avg_bytes "$ALERTS_FILE.stats")
log "workload: $ALERTS alerts, ${AVG_BYTES} bytes on average, $EXPECTED (Warning or above) to keep"

# --- saker -----------------------------------------------------------------------------------------

run_saker() {
  local port pid
  rm -rf "$WORK/out/saker.ndjson" "$WORK/data"
  port=$(free_port)
  saker_config "{type: tcp, listen: \"127.0.0.1:$port\"}" "$WORK/saker-tcp.yaml"
  log "saker: $SAKER run -c saker-tcp.yaml (tcp 127.0.0.1:$port)"
  "$SAKER" run -c "$WORK/saker-tcp.yaml" >"$WORK/saker-tcp.log" 2>&1 &
  pid=$!
  measure_started saker "$pid" "$port" "$WORK/saker-tcp.log" "$WORK/out/saker.ndjson"
}
if wants saker; then
  round_robin_add saker run_saker
fi

# --- saker with stages: the core workload with fields (2 static, 1 templated) and MITRE from tags ------------

ENRICH_YAML='enrich:
  fields: {static: {env: prod, cluster: eu-1}, templated: {summary: "{rule} on {hostname} by {user.name}"}}
  mitre: true'
run_saker_enrich() {
  local port pid
  rm -rf "$WORK/out/saker-enrich.ndjson" "$WORK/data"
  port=$(free_port)
  saker_config "{type: tcp, listen: \"127.0.0.1:$port\"}" "$WORK/saker-enrich.yaml" "$ENRICH_YAML"
  sed -i "s|$WORK/out/saker.ndjson|$WORK/out/saker-enrich.ndjson|" "$WORK/saker-enrich.yaml"
  log "saker-enrich: $SAKER run -c saker-enrich.yaml (tcp 127.0.0.1:$port, fields + mitre stages)"
  "$SAKER" run -c "$WORK/saker-enrich.yaml" >"$WORK/saker-enrich.log" 2>&1 &
  pid=$!
  measure_started saker-enrich "$pid" "$port" "$WORK/saker-enrich.log" "$WORK/out/saker-enrich.ndjson"
}
if wants saker-enrich; then
  round_robin_add saker-enrich run_saker_enrich
fi

# --- saker with every enricher: fields, mitre, geoip (MaxMind's test databases), assets, threat_intel ---------

run_saker_enrich_all() {
  local port pid
  rm -rf "$WORK/out/saker-enrich-all.ndjson" "$WORK/data"
  [[ -f "$WORK/tables/feed.txt" ]] || "$BUILD/enrich_bench" --write-tables "$WORK/tables"
  port=$(free_port)
  saker_config "{type: tcp, listen: \"127.0.0.1:$port\"}" "$WORK/saker-enrich-all.yaml" "$ENRICH_YAML
  geoip: {city_database: $ROOT/tests/data/geoip/GeoIP2-City-Test.mmdb, asn_database: $ROOT/tests/data/geoip/GeoLite2-ASN-Test.mmdb}
  assets: {path: $WORK/tables/inventory.csv}
  threat_intel: {feeds: [{name: bench, type: list, path: $WORK/tables/feed.txt}]}"
  sed -i "s|$WORK/out/saker.ndjson|$WORK/out/saker-enrich-all.ndjson|" "$WORK/saker-enrich-all.yaml"
  log "saker-enrich-all: $SAKER run -c saker-enrich-all.yaml (tcp 127.0.0.1:$port, every enricher)"
  "$SAKER" run -c "$WORK/saker-enrich-all.yaml" >"$WORK/saker-enrich-all.log" 2>&1 &
  pid=$!
  measure_started saker-enrich-all "$pid" "$port" "$WORK/saker-enrich-all.log" "$WORK/out/saker-enrich-all.ndjson"
}
if wants saker-enrich-all; then
  [[ -x "$BUILD/enrich_bench" ]] || die "$BUILD/enrich_bench not found; $build_hint enrich_bench"
  round_robin_add saker-enrich-all run_saker_enrich_all
fi

# --- the speed of light: a minimal TCP -> simdjson -> >= Warning -> file program on 2 threads ----------------

run_speed_of_light() {
  local port pid
  rm -f "$WORK/out/sol.ndjson"
  port=$(free_port)
  log "speed-of-light: $BUILD/speed_of_light --listen $port"
  "$BUILD/speed_of_light" --listen "$port" --out "$WORK/out/sol.ndjson" >"$WORK/sol.log" 2>&1 &
  pid=$!
  measure_started speed-of-light "$pid" "$port" "$WORK/sol.log" "$WORK/out/sol.ndjson"
}
if wants speed-of-light; then
  round_robin_add speed-of-light run_speed_of_light
fi

# --- rsyslog ---------------------------------------------------------------------------------------

run_rsyslog() {
  local port pid
  rm -rf "$WORK/out/rsyslog.ndjson" "$WORK/rsyslog-work"
  port=$(free_port)
  mkdir -p "$WORK/rsyslog-work"
  sed -e "s|@WORK_DIR@|$WORK|g" -e "s|@PORT@|$port|g" "$ROOT/bench/peers/rsyslog.conf" >"$WORK/rsyslog.conf"
  log "rsyslog $RSYSLOG_VERSION: rsyslogd -n -f rsyslog.conf (imptcp 127.0.0.1:$port)"
  rsyslogd -n -f "$WORK/rsyslog.conf" -i "$WORK/rsyslog.pid" >"$WORK/rsyslog.log" 2>&1 &
  pid=$!
  measure_started rsyslog "$pid" "$port" "$WORK/rsyslog.log" "$WORK/out/rsyslog.ndjson"
}

RSYSLOG_VERSION=""
if wants rsyslog; then
  if ! command -v rsyslogd >/dev/null; then
    R_OK[rsyslog]=skipped
    R_NOTE[rsyslog]="rsyslogd not installed (apt-get install rsyslog; scripts/setup.sh does)"
  else
    RSYSLOG_VERSION=$(rsyslogd -v 2>/dev/null | head -n 1 | awk '{print $2}' | tr -d ',')
    round_robin_add rsyslog run_rsyslog
  fi
fi
run_round_robin

# --- syslog-ng (unpacked beside rsyslog, see bench/peers/syslog-ng.conf) ----------------------------

SNG_VERSION=""
# Prints the unpacked root on success; on failure prints nothing and logs why.
syslog_ng_root() {
  local dir="$BUILD/bench/cache/syslog-ng" missing pkgs
  if [[ ! -x "$dir/root/usr/sbin/syslog-ng" ]]; then
    command -v apt-get >/dev/null || { log "syslog-ng: no apt-get here"; return 1; }
    rm -rf "$dir" && mkdir -p "$dir"
    if ! (cd "$dir" && apt-get download syslog-ng-core >"$dir/download.log" 2>&1); then
      log "syslog-ng: apt-get download syslog-ng-core failed:"
      tail -n 3 "$dir/download.log" >&2
      return 1
    fi
    dpkg -x "$dir"/syslog-ng-core_*.deb "$dir/root" || return 1
  fi
  missing=$(LD_LIBRARY_PATH="$dir/root/usr/lib/syslog-ng" ldd "$dir/root/usr/sbin/syslog-ng" \
    "$dir/root/usr/lib/syslog-ng/3.38/libafsocket.so" "$dir/root/usr/lib/syslog-ng/3.38/libjson-plugin.so" \
    2>/dev/null | awk '/not found/ {print $1}' | sort -u)
  if [[ -n "$missing" ]]; then
    # the package's runtime libraries (libivykis0, libnet1, libwrap0, ...) install without conflict
    pkgs=$(dpkg-deb -f "$dir"/syslog-ng-core_*.deb Depends | tr ',' '\n' | awk '{print $1}' | grep '^lib' || true)
    log "syslog-ng: $(echo $missing) missing; installing the package's libraries: $(echo $pkgs)"
    if [[ $(id -u) -ne 0 ]] || ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs \
      >"$dir/install.log" 2>&1; then
      log "syslog-ng: could not install $(echo $missing) (run as root: apt-get install $(echo $pkgs))"
      return 1
    fi
  fi
  echo "$dir/root"
}

if wants syslog-ng; then
  if SNG=$(syslog_ng_root) && [[ -n "$SNG" ]]; then
    SNG_LIB="$SNG/usr/lib/syslog-ng"
    SNG_VERSION=$(LD_LIBRARY_PATH="$SNG_LIB" "$SNG/usr/sbin/syslog-ng" --version 2>/dev/null | awk '/^syslog-ng/ {gsub(/[()]/, "", $3); print $3; exit}')
    port=$(free_port)
    mkdir -p "$WORK/sng"
    sed -e "s|@WORK_DIR@|$WORK|g" -e "s|@PORT@|$port|g" "$ROOT/bench/peers/syslog-ng.conf" >"$WORK/syslog-ng.conf"
    log "syslog-ng $SNG_VERSION: syslog-ng -F -f syslog-ng.conf (network tcp 127.0.0.1:$port)"
    LD_LIBRARY_PATH="$SNG_LIB" "$SNG/usr/sbin/syslog-ng" -F --no-caps -f "$WORK/syslog-ng.conf" \
      --module-path="$SNG_LIB/3.38" --persist-file="$WORK/sng/persist" --pidfile="$WORK/sng/pid" \
      --control="$WORK/sng/ctl" >"$WORK/syslog-ng.log" 2>&1 &
    pid=$!
    measure_started syslog-ng "$pid" "$port" "$WORK/syslog-ng.log" "$WORK/out/syslog-ng.ndjson"
  else
    R_OK[syslog-ng]=skipped
    R_NOTE[syslog-ng]="could not be unpacked and run beside rsyslog (see the note above)"
  fi
fi

# --- HTTP: Falco's http_output, one alert per POST --------------------------------------------------

HTTP_CHECK="" HTTP_WRK=""
if [[ "${BENCH_HTTP:-1}" != 0 ]]; then
  if ! command -v wrk >/dev/null; then
    HTTP_WRK="skipped: wrk not installed (apt-get install wrk)"
  else
    port=$(free_port)
    rm -f "$WORK/out/saker.ndjson"
    saker_config "{type: http, listen: \"127.0.0.1:$port\"}" "$WORK/saker-http.yaml"
    log "saker: $SAKER run -c saker-http.yaml (http 127.0.0.1:$port)"
    "$SAKER" run -c "$WORK/saker-http.yaml" >"$WORK/saker-http.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    if wait_listening "$pid" "$port" saker "$WORK/saker-http.log"; then
      # correctness first: 20,000 distinct alerts over 8 connections, all kept ones must land in the file
      head -n 20000 "$ALERTS_FILE" >"$WORK/http-alerts.ndjson"
      "$LOADGEN" --in "$WORK/http-alerts.ndjson" --stats >"$WORK/http-alerts.stats"
      http_expected=$(kv warning_or_above "$WORK/http-alerts.stats")
      if "$LOADGEN" --in "$WORK/http-alerts.ndjson" --http "http://127.0.0.1:$port/" --connections 8 \
        --wait-file "$WORK/out/saker.ndjson" --expect-lines "$http_expected" --stall 30 >"$WORK/http-check.result" 2>&1; then
        HTTP_CHECK="ok: $(kv requests "$WORK/http-check.result") POSTs, $http_expected kept lines in the file"
      else
        HTTP_CHECK="FAILED: $(tr '\n' ' ' <"$WORK/http-check.result")"
      fi
      log "wrk -t2 -c$HTTP_CONNECTIONS -d${HTTP_SECONDS}s -s bench/lua/falco_post.lua"
      c0=$(cpu_ticks "$pid")
      SAKER_BENCH_ALERTS="$WORK/http-alerts.ndjson" wrk -t2 -c"$HTTP_CONNECTIONS" -d"${HTTP_SECONDS}s" \
        -s "$ROOT/bench/lua/falco_post.lua" "http://127.0.0.1:$port/" >"$WORK/wrk.out" 2>&1 || true
      c1=$(cpu_ticks "$pid")
      HTTP_WRK=$(awk '/^wrk_result/ {$1=""; print substr($0, 2)}' "$WORK/wrk.out")
      if [[ -z "$HTTP_WRK" ]]; then
        HTTP_WRK="wrk failed: $(tail -n 3 "$WORK/wrk.out" | tr '\n' ' ')"
      else
        HTTP_WRK="$HTTP_WRK saker_cpu_s=$(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" 'BEGIN {printf "%.2f", t / hz}')"
        HTTP_WRK="$HTTP_WRK saker_peak_rss_mb=$(awk -v kb="$(peak_rss_kb "$pid")" 'BEGIN {printf "%.1f", kb / 1024}')"
      fi
    else
      HTTP_WRK="saker with an http source did not start"
    fi
    stop "$pid"
  fi
fi

# --- report --------------------------------------------------------------------------------------

report() {
  local cpu_model
  cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  echo
  echo "saker benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($cpu_model), $(uname -sr)"
  echo "workload: $ALERTS Falco alerts (seed $SEED, $AVG_BYTES bytes on average) over one TCP connection on"
  echo "loopback -> parse JSON -> keep priority >= Warning ($EXPECTED alerts) -> NDJSON file"
  echo "versions: rsyslog ${RSYSLOG_VERSION:-n/a}, syslog-ng ${SNG_VERSION:-n/a}; load average before the run: $LOAD_BEFORE"
  echo
  printf '%-14s %12s %9s %8s %7s %13s %10s  %s\n' system alerts/s wall_s cpu_s cores peak_rss_MB kept_lines correct
  local s
  for s in saker saker-enrich saker-enrich-all speed-of-light rsyslog syslog-ng; do
    wants "$s" || continue
    if [[ -n "${R_RATE[$s]:-}" ]]; then
      printf '%-14s %12s %9s %8s %7s %13s %10s  %s\n' "$s" "${R_RATE[$s]}" "${R_WALL[$s]}" "${R_CPU[$s]}" \
        "$(awk -v c="${R_CPU[$s]}" -v w="${R_WALL[$s]}" 'BEGIN {printf "%.2f", (w > 0 ? c / w : 0)}')" \
        "${R_RSS[$s]}" "${R_LINES[$s]}" "${R_OK[$s]}"
    else
      printf '%-14s %12s %9s %8s %7s %13s %10s  %s\n' "$s" - - - - - - "${R_OK[$s]:-no}"
    fi
    [[ -n "${R_NOTE[$s]:-}" ]] && printf '           note: %s\n' "${R_NOTE[$s]}"
  done
  echo
  echo "each row is the median of $RUNS run(s) by alerts/s (syslog-ng: one run); every run's alerts/s:"
  for s in saker saker-enrich saker-enrich-all speed-of-light rsyslog syslog-ng; do
    [[ -n "${R_RUNS[$s]:-}" ]] && printf '  %-14s %s\n' "$s" "${R_RUNS[$s]}"
  done
  echo
  local peer
  if [[ -n "${R_RATE[saker]:-}" && -n "${R_RATE[speed-of-light]:-}" ]]; then
    awk -v a="${R_RATE[saker]}" -v b="${R_RATE[speed-of-light]}" -v ca="${R_CPU[saker]}" -v cb="${R_CPU[speed-of-light]}" 'BEGIN {
      printf "saker/speed-of-light throughput %.1f%% (target >= 85%%), CPU seconds %.2fx (target <= 1.4x)\n", 100 * a / b, (cb > 0 ? ca / cb : 0) }'
  fi
  if [[ -n "${R_RATE[saker]:-}" && -n "${R_RATE[saker-enrich]:-}" ]]; then
    awk -v a="${R_RATE[saker-enrich]}" -v b="${R_RATE[saker]}" -v ca="${R_CPU[saker-enrich]}" -v cb="${R_CPU[saker]}" 'BEGIN {
      printf "saker with stages/without: throughput %.1f%% (target >= 90%%), CPU seconds %.2fx\n", 100 * a / b, (cb > 0 ? ca / cb : 0) }'
  fi
  if [[ -n "${R_RATE[saker]:-}" && -n "${R_RATE[saker-enrich-all]:-}" ]]; then
    awk -v a="${R_RATE[saker-enrich-all]}" -v b="${R_RATE[saker]}" -v ca="${R_CPU[saker-enrich-all]}" -v cb="${R_CPU[saker]}" 'BEGIN {
      printf "saker with every enricher/without: throughput %.1f%% (target >= 70%%), CPU seconds %.2fx\n", 100 * a / b, (cb > 0 ? ca / cb : 0) }'
  fi
  for peer in rsyslog syslog-ng; do
    if [[ -n "${R_RATE[saker]:-}" && -n "${R_RATE[$peer]:-}" ]]; then
      awk -v a="${R_RATE[saker]}" -v b="${R_RATE[$peer]}" -v ca="${R_CPU[saker]}" -v cb="${R_CPU[$peer]}" \
        -v ra="${R_RSS[saker]}" -v rb="${R_RSS[$peer]}" -v p="$peer" 'BEGIN {
          printf "saker/%-9s throughput %.2fx, CPU seconds %.2fx, peak RSS %.2fx\n", p, a / b, (cb > 0 ? ca / cb : 0), (rb > 0 ? ra / rb : 0) }'
    fi
  done
  if [[ "${BENCH_HTTP:-1}" != 0 ]]; then
    echo
    echo "HTTP (saker http source, one alert per POST, keep-alive; wrk -t2 -c$HTTP_CONNECTIONS -d${HTTP_SECONDS}s):"
    echo "  correctness: ${HTTP_CHECK:-not run}"
    echo "  wrk: ${HTTP_WRK:-not run}"
  fi
}

report | tee "$BUILD/bench/last-results.txt"

# Formats (file in each format; RFC 5424 syslog over TCP): bench/formats.sh.
if [[ "${BENCH_FORMATS:-1}" != 0 ]]; then
  "$ROOT/bench/formats.sh" | tee -a "$BUILD/bench/last-results.txt"
fi

# The enrichment stages alone (Google Benchmark): bench/tools/enrich_bench.cpp.
if [[ "${BENCH_ENRICH:-1}" != 0 && -x "$BUILD/enrich_bench" ]]; then
  "$BUILD/enrich_bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true --benchmark_color=false \
    | tee -a "$BUILD/bench/last-results.txt"
fi

# Alerts flowing while a table of 1,000,000 indicators reloads: bench/reload.sh.
if [[ "${BENCH_RELOAD:-1}" != 0 && -x "$BUILD/enrich_bench" ]]; then
  "$ROOT/bench/reload.sh" | tee -a "$BUILD/bench/last-results.txt"
fi

# Buffers (memory vs disk per fsync policy) and recovery after kill -9: bench/buffers.sh.
if [[ "${BENCH_BUFFERS:-1}" != 0 ]]; then
  "$ROOT/bench/buffers.sh" | tee -a "$BUILD/bench/last-results.txt"
fi
