#pragma once
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sinks/sink.hpp"

namespace saker {

// `loki`: Grafana Loki's push API (POST /loki/api/v1/push, JSON), one stream per label set.
//   url: http://loki:3100 (required; the push path is added unless given)
//   labels: {rule: rule, priority: priority, hostname: hostname, source: source}  label name: alert field
//   static_labels: {job: falco}   tenant: (X-Scope-OrgID; none)   max_bytes: 4MiB per request
//   plus the HTTP keys of http_client.hpp (auth, tls, compression, timeout, headers, …)
// See docs/sinks/loki.md.
SinkBuilder parse_loki_sink(const ConfigReader& r);

struct LokiLabel {
  std::string name;   // a valid Loki label name
  std::string field;  // the alert field its value comes from (rule, priority, hostname, any output field, …)
};

// Label names match [a-zA-Z_][a-zA-Z0-9_]*: other characters become '_', a leading digit gets a '_' before it.
std::string sanitize_loki_label_name(std::string_view name);
// Values: cut to 2048 bytes (Loki's default limit) on a UTF-8 boundary.
std::string sanitize_loki_label_value(std::string_view value);

struct LokiEntry {
  const Alert* alert;
  std::string_view line;  // the formatted alert
};
// {"streams":[{"stream":{<labels, sorted by name>},"values":[["<ns>","<line>"],…]},…]}: streams in order of first
// appearance, entries sorted by time within each. Empty label values are left out; an alert with no label at all
// gets job="falco" (Loki needs one).
std::string build_loki_push(std::span<const LokiEntry> entries, std::span<const LokiLabel> labels,
                            std::span<const std::pair<std::string, std::string>> static_labels);

}  // namespace saker
