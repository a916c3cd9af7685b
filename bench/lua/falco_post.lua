-- wrk script: POST one Falco alert per request over keep-alive connections, the way Falco's
-- http_output does, cycling through the alerts of an NDJSON file.
--   SAKER_BENCH_ALERTS=alerts.ndjson wrk -t2 -c16 -d10s -s bench/lua/falco_post.lua http://127.0.0.1:2801/
-- Without SAKER_BENCH_ALERTS it reads examples/alerts.ndjson (relative to the current directory).
-- The last line printed is machine-readable: "wrk_result requests=... rps=... p99_ms=...".

local path = os.getenv("SAKER_BENCH_ALERTS") or "examples/alerts.ndjson"
local prepared = {}
local next_index = 0

function init(args)
  local f = io.open(path, "r")
  if not f then
    error("cannot read " .. path .. " (set SAKER_BENCH_ALERTS to an NDJSON file of alerts)")
  end
  local headers = { ["Content-Type"] = "application/json" }
  for line in f:lines() do
    if #line > 0 then
      prepared[#prepared + 1] = wrk.format("POST", nil, headers, line)
    end
  end
  f:close()
  if #prepared == 0 then
    error(path .. " holds no alert")
  end
  -- threads start at different alerts so they do not send the same one in lockstep
  next_index = (start_offset or 0) % #prepared
end

-- runs in the main Lua state, once per thread, before that thread's init()
local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  thread:set("start_offset", thread_count * 7919)
end

function request()
  next_index = next_index % #prepared + 1
  return prepared[next_index]
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "wrk_result requests=%d seconds=%.3f rps=%.0f non2xx=%d socket_errors=%d p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
    summary.requests, seconds, summary.requests / seconds, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
