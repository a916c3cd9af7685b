#include "sinks/kafka/producer.hpp"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <map>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace saker::kafka {

bool is_permanent(RdKafka::ErrorCode err) noexcept {
  switch (err) {
    case RdKafka::ERR_MSG_SIZE_TOO_LARGE:
    case RdKafka::ERR_INVALID_MSG:
    case RdKafka::ERR_INVALID_MSG_SIZE:
    case RdKafka::ERR_RECORD_LIST_TOO_LARGE:
    case RdKafka::ERR_INVALID_RECORD:
    case RdKafka::ERR_INVALID_TIMESTAMP:
    case RdKafka::ERR_TOPIC_EXCEPTION:
    case RdKafka::ERR_POLICY_VIOLATION:
    case RdKafka::ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
    case RdKafka::ERR__BAD_MSG:
      return true;
    default:
      return false;
  }
}

std::string error_label(RdKafka::ErrorCode err) {
  std::string name = rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err));
  name.erase(0, name.find_first_not_of('_'));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return name;
}

namespace {

using SteadyClock = std::chrono::steady_clock;

std::string describe(RdKafka::ErrorCode err) {
  return fmt::format("{} ({})", RdKafka::err2str(err), rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)));
}

// Where each alert of the batch being delivered stands; survives failed write() calls of the same batch.
struct BatchState {
  enum class Slot : std::uint8_t { Pending, InFlight, Delivered, Dead };
  std::vector<AlertPtr> alerts;  // kept alive so late delivery reports can still dead-letter their alert
  std::vector<Slot> slots;
  std::vector<std::uint8_t> attempts;
  std::vector<bool> alone;  // rejected for good inside a shared request: sent again by itself before dead-lettering
  std::uint64_t first_seq = 0;  // message opaque = first_seq + index; never reused, so stale reports are told apart
  std::size_t in_flight = 0;
  std::size_t done = 0;

  bool matches(std::span<const AlertPtr> batch) const {
    if (batch.size() != alerts.size()) return false;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].get() != alerts[i].get()) return false;
    }
    return true;
  }
  bool owns(std::uint64_t seq) const { return seq >= first_seq && seq - first_seq < alerts.size(); }
};

class KafkaSink final : public Sink, public RdKafka::DeliveryReportCb, public RdKafka::EventCb {
 public:
  KafkaSink(KafkaSinkConfig cfg, SinkContext& ctx)
      : cfg_(std::move(cfg)),
        ctx_(ctx),
        delivered_(ctx.metrics.counter("saker_kafka_delivered_total", "Alerts acknowledged by Kafka, by sink",
                                       {{"sink", ctx.name}})),
        retried_(ctx.metrics.counter("saker_kafka_retried_total",
                                     "Alerts produced again after a failed delivery report (possible duplicates)",
                                     {{"sink", ctx.name}})) {}

  ~KafkaSink() override {
    if (!producer_) return;
    producer_->flush(timeout_ms(std::min<std::chrono::milliseconds>(cfg_.flush_timeout, std::chrono::seconds(5))));
    if (const int left = producer_->outq_len(); left > 0) {
      spdlog::error("kafka sink {}: {} messages still undelivered at shutdown", ctx_.name, left);
    }
  }

  Result<bool> open() override {
    std::vector<ConfError> ce;
    const Properties props = producer_properties(cfg_);
    std::unique_ptr<RdKafka::Conf> conf = make_conf(props, ce);
    if (!conf) {
      const ConfError& first = ce.front();
      return make_error("kafka_config",
                        fmt::format("kafka sink {}: {}: {}", ctx_.name, props[first.index].first, first.message));
    }
    std::string err;
    if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(this), err) != RdKafka::Conf::CONF_OK ||
        conf->set("event_cb", static_cast<RdKafka::EventCb*>(this), err) != RdKafka::Conf::CONF_OK) {
      return make_error("kafka_config", fmt::format("kafka sink {}: {}", ctx_.name, err));
    }
    producer_.reset(RdKafka::Producer::create(conf.get(), err));
    if (!producer_) return make_error("kafka_config", fmt::format("kafka sink {}: cannot create producer: {}", ctx_.name, err));
    fatal_ = false;
    return true;
  }

  Result<bool> write(std::span<const AlertPtr> batch) override {
    if (!producer_ || fatal_) {
      if (auto r = recreate(); !r) return r;
    }
    if (!state_.matches(batch)) start(batch);
    const auto deadline = SteadyClock::now() + cfg_.flush_timeout;
    for (std::size_t i = 0; i < state_.slots.size() && !fatal_; ++i) {
      if (state_.slots[i] == BatchState::Slot::Pending && !state_.alone[i] && !produce(i, deadline)) break;
    }
    wait_reports(deadline);
    // Kafka rejects whole record batches: an alert is only dead-lettered once it was refused on its own.
    for (std::size_t i = 0; i < state_.slots.size() && !fatal_ && state_.in_flight == 0; ++i) {
      if (state_.slots[i] == BatchState::Slot::Pending && state_.alone[i] && produce(i, deadline)) {
        wait_reports(deadline);
      }
    }
    if (state_.done == state_.slots.size()) {
      state_ = BatchState{};
      return true;
    }
    const std::size_t pending = state_.slots.size() - state_.done - state_.in_flight;
    return make_error("kafka_undelivered",
                      fmt::format("kafka: {} of {} alerts not acknowledged yet ({} awaiting delivery reports, {} to "
                                  "produce again): {}",
                                  state_.slots.size() - state_.done, state_.slots.size(), state_.in_flight, pending,
                                  last_error_.empty() ? "timed out waiting for delivery reports" : last_error_));
  }

  void wait_reports(SteadyClock::time_point deadline) {
    while (state_.in_flight > 0 && !fatal_ && SteadyClock::now() < deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
      producer_->poll(static_cast<int>(std::clamp<std::int64_t>(left, 1, 100)));
    }
  }

  void flush() override {
    if (!producer_) return;
    producer_->poll(0);
    if (producer_->outq_len() > 0) producer_->flush(timeout_ms(cfg_.flush_timeout));
  }

 private:
  void start(std::span<const AlertPtr> batch) {
    if (state_.in_flight > 0) {
      spdlog::warn("kafka sink {}: moving on with {} alerts of an abandoned batch still in flight", ctx_.name,
                   state_.in_flight);
    }
    state_ = BatchState{};
    state_.alerts.assign(batch.begin(), batch.end());
    state_.slots.assign(batch.size(), BatchState::Slot::Pending);
    state_.attempts.assign(batch.size(), 0);
    state_.alone.assign(batch.size(), false);
    state_.first_seq = next_seq_;
    next_seq_ += batch.size();
    last_error_.clear();
  }

  // Hands one alert to librdkafka; false when the caller should stop producing (queue full until the deadline).
  bool produce(std::size_t i, SteadyClock::time_point deadline) {
    const Alert& alert = *state_.alerts[i];
    topic_.clear();
    cfg_.topic.render(alert, topic_, FieldTemplate::Values::NameSafe);
    key_.clear();
    cfg_.key.render(alert, key_);
    value_.clear();
    ctx_.formatter->format(alert, value_);
    if (topic_.empty()) {  // every field of the topic template was missing: no retry can fix that
      ctx_.dead_letters.add(alert, fmt::format("kafka: topic template \"{}\" rendered empty", cfg_.topic.text()));
      state_.slots[i] = BatchState::Slot::Dead;
      ++state_.done;
      return true;
    }
    RdKafka::Headers* headers = RdKafka::Headers::create();
    for (const auto& [k, v] : cfg_.headers) headers->add(k, v);
    if (cfg_.alert_headers) {
      const std::string_view prio = to_string(alert.priority);
      headers->add("priority", prio.data(), prio.size());
      headers->add("rule", alert.rule.data(), alert.rule.size());
      headers->add("uuid", alert.uuid.data(), alert.uuid.size());
    }
    void* opaque = reinterpret_cast<void*>(static_cast<std::uintptr_t>(state_.first_seq + i));
    for (;;) {
      const RdKafka::ErrorCode err = producer_->produce(
          topic_, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY, value_.data(), value_.size(),
          key_.empty() ? nullptr : key_.data(), key_.size(), 0, headers, opaque);
      if (err == RdKafka::ERR_NO_ERROR) {
        if (state_.attempts[i]++ > 0) retried_.inc();
        state_.slots[i] = BatchState::Slot::InFlight;
        ++state_.in_flight;
        return true;
      }
      if (err == RdKafka::ERR__QUEUE_FULL && SteadyClock::now() < deadline) {
        producer_->poll(50);  // serving delivery reports frees room in librdkafka's queue
        continue;
      }
      delete headers;  // produce() leaves them to us when it fails
      count_error(err);
      if (is_permanent(err)) {
        dead_letter(i, err);
        return true;
      }
      last_error_ = describe(err);
      if (err == RdKafka::ERR__FATAL) fatal_ = true;
      return err != RdKafka::ERR__QUEUE_FULL;
    }
  }

  void dr_cb(RdKafka::Message& m) override {
    const auto seq = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(m.msg_opaque()));
    const RdKafka::ErrorCode err = m.err();
    if (err == RdKafka::ERR_NO_ERROR) {
      delivered_.inc();
    } else {
      count_error(err);
    }
    if (!state_.owns(seq)) {
      if (err != RdKafka::ERR_NO_ERROR) {
        spdlog::error("kafka sink {}: an alert of an abandoned batch failed: {}", ctx_.name, describe(err));
      }
      return;
    }
    const std::size_t i = seq - state_.first_seq;
    if (state_.slots[i] != BatchState::Slot::InFlight) return;
    --state_.in_flight;
    if (err == RdKafka::ERR_NO_ERROR) {
      state_.slots[i] = BatchState::Slot::Delivered;
      ++state_.done;
    } else if (is_permanent(err) && state_.alone[i]) {
      dead_letter(i, err);
    } else if (is_permanent(err)) {
      state_.alone[i] = true;
      state_.slots[i] = BatchState::Slot::Pending;
      last_error_ = describe(err);
    } else {
      state_.slots[i] = BatchState::Slot::Pending;  // produced again by the next write() of this batch
      last_error_ = describe(err);
      if (err == RdKafka::ERR__FATAL) fatal_ = true;
    }
  }

  void event_cb(RdKafka::Event& e) override {
    switch (e.type()) {
      case RdKafka::Event::EVENT_ERROR:
        if (e.fatal()) {
          fatal_ = true;  // librdkafka refuses further messages; the next write() builds a new producer
          spdlog::error("kafka sink {}: fatal producer error: {}", ctx_.name, e.str());
        } else if (should_log(e.err())) {
          spdlog::warn("kafka sink {}: {} ({})", ctx_.name, e.str(), RdKafka::err2str(e.err()));
        }
        break;
      case RdKafka::Event::EVENT_LOG: {
        // librdkafka logs from its own threads; its levels are syslog's (0 emerg ... 7 debug).
        const int level = static_cast<int>(e.severity());
        const auto lvl = level <= 3 ? spdlog::level::warn : level <= 5 ? spdlog::level::info : spdlog::level::debug;
        spdlog::log(lvl, "kafka sink {}: librdkafka {}: {}", ctx_.name, e.fac(), e.str());
        break;
      }
      default:
        break;
    }
  }

  // Connection errors repeat every reconnect; one line per error kind every 30 s is enough.
  bool should_log(RdKafka::ErrorCode err) {
    const auto now = SteadyClock::now();
    auto [it, fresh] = last_logged_.try_emplace(static_cast<int>(err), now);
    if (!fresh && now - it->second < std::chrono::seconds(30)) return false;
    it->second = now;
    return true;
  }

  void dead_letter(std::size_t i, RdKafka::ErrorCode err) {
    ctx_.dead_letters.add(*state_.alerts[i], "kafka: " + describe(err));
    state_.slots[i] = BatchState::Slot::Dead;
    ++state_.done;
  }

  void count_error(RdKafka::ErrorCode err) {
    Counter*& c = errors_[static_cast<int>(err)];
    if (!c) {
      c = &ctx_.metrics.counter("saker_kafka_errors_total", "Failed produce calls and delivery reports, by sink and reason",
                                {{"sink", ctx_.name}, {"reason", error_label(err)}});
    }
    c->inc();
  }

  // A fatal error (idempotence state lost) makes the producer unusable: its unacknowledged alerts are produced
  // again by a new one, at the cost of possible duplicates.
  Result<bool> recreate() {
    if (producer_) {
      std::string reason;
      producer_->fatal_error(reason);
      spdlog::error("kafka sink {}: recreating the producer after a fatal error: {}", ctx_.name, reason);
      producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT |
                       RdKafka::Producer::PURGE_NON_BLOCKING);
      producer_->poll(0);
      producer_.reset();
      for (auto& s : state_.slots) {
        if (s == BatchState::Slot::InFlight) s = BatchState::Slot::Pending;
      }
      state_.in_flight = 0;
    }
    return open();
  }

  KafkaSinkConfig cfg_;
  SinkContext ctx_;  // a copy: the runner's context is a temporary
  Counter& delivered_;
  Counter& retried_;
  std::map<int, Counter*> errors_;
  std::map<int, SteadyClock::time_point> last_logged_;
  BatchState state_;
  std::uint64_t next_seq_ = 1;
  std::string last_error_;
  bool fatal_ = false;
  std::string topic_, key_, value_;  // reused buffers
  std::unique_ptr<RdKafka::Producer> producer_;  // last: destroyed before the callbacks it points to
};

}  // namespace

std::unique_ptr<Sink> make_kafka_sink(KafkaSinkConfig cfg, SinkContext& ctx) {
  return std::make_unique<KafkaSink>(std::move(cfg), ctx);
}

}  // namespace saker::kafka
