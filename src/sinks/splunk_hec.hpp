#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "sinks/sink.hpp"

namespace saker {

// `splunk_hec`: Splunk's HTTP Event Collector, /services/collector/event, "Authorization: Splunk <token>".
//   url: https://splunk.example:8088 (required; the endpoint path is added unless given)
//   token: (required)   sourcetype: falco   source: falco   index: (none: the token's default)
//   host: (none: each alert's hostname)   max_bytes: 1MiB per request
//   plus the HTTP keys of http_client.hpp except `auth` (tls, compression, timeout, headers, …)
// A request is events back to back: {"time":1715108059.341,"host":…,"source":…,"sourcetype":…,"index":…,
// "event":<the formatted alert>}{…}. See docs/sinks/splunk_hec.md.
SinkBuilder parse_splunk_hec_sink(const ConfigReader& r);

struct HecEventFields {
  std::string source = "falco";
  std::string sourcetype = "falco";
  std::string index;  // empty: omitted
  std::string host;   // empty: the alert's hostname (omitted when that is empty too)
};

// Appends one event object; `formatted` goes in as JSON when it is a JSON object, else as a JSON string.
void append_hec_event(const Alert& alert, const HecEventFields& f, std::string_view formatted, std::string& out);

struct HecAnswer {
  int code = -1;  // -1: the body was not HEC's {"text":…,"code":…}
  std::string text;
  std::optional<std::size_t> invalid_event;  // "invalid-event-number": the 0-based event that code 6 refers to
};
HecAnswer parse_hec_answer(std::string_view body);

}  // namespace saker
