#include "sinks/kafka/config.hpp"

#include <algorithm>
#include <limits>
#include <string_view>

namespace saker::kafka {
namespace {

struct Refused {
  std::string_view key;
  const char* reason;
};

// Keys that would bypass saker's own options or its delivery tracking.
constexpr Refused kRefused[] = {
    {"bootstrap.servers", "set `brokers` instead"},
    {"metadata.broker.list", "set `brokers` instead"},
    {"acks", "set the sink's `acks` instead"},
    {"request.required.acks", "set the sink's `acks` instead"},
    {"enable.idempotence", "set the sink's `idempotence` instead"},
    {"compression.codec", "set the sink's `compression` instead"},
    {"compression.type", "set the sink's `compression` instead"},
    {"delivery.report.only.error", "saker needs every delivery report to acknowledge alerts"},
    {"dr_cb", "saker installs its own delivery report callback"},
    {"dr_msg_cb", "saker installs its own delivery report callback"},
    {"event_cb", "saker installs its own event callback"},
    {"error_cb", "saker installs its own event callback"},
    {"log_cb", "saker installs its own event callback"},
    {"opaque", "saker installs its own callbacks"},
    {"transactional.id", "transactions are not supported; the idempotent producer already avoids duplicates"},
};

}  // namespace

int timeout_ms(std::chrono::milliseconds d) noexcept {
  return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(d.count(), 0, std::numeric_limits<int>::max()));
}

const char* refused_property(std::string_view key) noexcept {
  for (const auto& r : kRefused) {
    if (r.key == key) return r.reason;
  }
  return nullptr;
}

Properties producer_properties(const KafkaSinkConfig& cfg) {
  Properties p = {
      {"bootstrap.servers", cfg.brokers},
      {"client.id", "saker"},
      {"acks", cfg.acks},
      {"enable.idempotence", cfg.idempotence ? "true" : "false"},
      {"compression.codec", cfg.compression},
      // Fewer, bigger requests without adding noticeable latency to an alert.
      {"linger.ms", "20"},
  };
  p.insert(p.end(), cfg.librdkafka.begin(), cfg.librdkafka.end());
  return p;
}

std::unique_ptr<RdKafka::Conf> make_conf(const Properties& props, std::vector<ConfError>& errors) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  const std::size_t before = errors.size();
  std::string err;
  for (std::size_t i = 0; i < props.size(); ++i) {
    if (conf->set(props[i].first, props[i].second, err) != RdKafka::Conf::CONF_OK) errors.push_back(ConfError{i, err});
  }
  if (errors.size() != before) return nullptr;
  return conf;
}

}  // namespace saker::kafka
