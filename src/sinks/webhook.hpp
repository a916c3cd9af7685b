#pragma once
#include "sinks/sink.hpp"

namespace saker {

// `webhook`: alerts to any HTTP endpoint.
//   url: https://hooks.example/falco (required)
//   method: POST|PUT                        (default POST)
//   batch_format: json_array|ndjson|single  (default json_array; single: one request per alert)
//   content_type: default application/json (application/x-ndjson for ndjson)
//   max_bytes: 4MiB                         per request (json_array, ndjson)
//   plus the HTTP keys of http_client.hpp (headers, auth, tls, compression, timeout, …)
// 2xx: delivered. 408, 429, 5xx, 401/403 and connection errors: retried. 413: halved. Any other 4xx: the alerts
// of that request are dead-lettered with the answer. See docs/sinks/webhook.md.
SinkBuilder parse_webhook_sink(const ConfigReader& r);

}  // namespace saker
