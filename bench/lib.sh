# Helpers shared by bench/formats.sh and bench/buffers.sh (sourced, not run).

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_listen() { for _ in $(seq 200); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
cpu_seconds() { awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14+$15)/t}' "/proc/$1/stat"; }
rss_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

# Writes DIR/saker.yaml: a tcp source on 127.0.0.1:PORT and one sink (a YAML flow mapping), data in DIR/data.
tcp_saker_config() {  # dir, port, sink yaml
  cat >"$1/saker.yaml" <<YAML
data_dir: $1/data
log_level: warn
sources:
  - {type: tcp, listen: "127.0.0.1:$2"}
sinks:
  - $3
YAML
}
