#pragma once
// The kafka sink's settings, parsed from YAML (sinks/kafka.cpp), and the librdkafka configuration built from them.
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include "core/result.hpp"
#include "core/template.hpp"

namespace saker::kafka {

using Properties = std::vector<std::pair<std::string, std::string>>;

struct KafkaSinkConfig {
  std::string brokers;      // comma-separated host:port list
  FieldTemplate topic;
  FieldTemplate key;        // empty: no key (librdkafka spreads such messages over partitions)
  std::string acks = "all";
  bool idempotence = true;
  std::string compression = "lz4";
  Properties headers;       // static headers, on every message before saker's own
  bool alert_headers = true;  // add priority, rule and uuid headers
  Properties librdkafka;    // passthrough, applied after saker's own settings
  std::chrono::milliseconds flush_timeout{10000};
};

// flush_timeout's range (librdkafka takes its timeouts as an int of milliseconds).
inline constexpr std::chrono::milliseconds kMinFlushTimeout{100};
inline constexpr std::chrono::hours kMaxFlushTimeout{24};

// `d` as librdkafka's int of milliseconds: 0 for a negative duration, INT_MAX (24.8 days) at most, never wrapped.
int timeout_ms(std::chrono::milliseconds d) noexcept;

// Passthrough keys saker refuses, with the reason (nullptr when the key is allowed).
const char* refused_property(std::string_view key) noexcept;

// Every librdkafka property of the producer: saker's defaults, then the passthrough.
Properties producer_properties(const KafkaSinkConfig& cfg);

// Sets each property on a fresh global Conf. On errors: nothing, and for every property librdkafka refused its
// index in `props` and librdkafka's message (all of them, so `saker check` lists each).
struct ConfError {
  std::size_t index = 0;
  std::string message;
};
std::unique_ptr<RdKafka::Conf> make_conf(const Properties& props, std::vector<ConfError>& errors);

}  // namespace saker::kafka
