#include "sinks/syslog/sink.hpp"

#include <algorithm>
#include <vector>

#include <spdlog/spdlog.h>

#include "sinks/syslog/message.hpp"
#include "sinks/syslog/rfc3164.hpp"
#include "sinks/syslog/rfc5424.hpp"
#include "sinks/syslog/transport.hpp"

namespace saker {
namespace {

class SyslogSink final : public Sink {
 public:
  SyslogSink(SyslogConfig cfg, SinkContext& ctx)
      : cfg_(std::move(cfg)),
        name_(ctx.name),
        formatter_(ctx.formatter),
        transport_(cfg_),
        truncated_(ctx.metrics.counter("saker_syslog_truncated_total",
                                       "Syslog messages cut to max_udp_size (RFC 5426), by sink", {{"sink", ctx.name}})),
        connects_(ctx.metrics.counter("saker_syslog_connects_total", "Syslog connections opened, by sink",
                                      {{"sink", ctx.name}})) {}

  // Only the TLS material is loaded here: connecting is lazy, so a receiver that is down doesn't stop the daemon.
  Result<bool> open() override { return transport_.init(); }

  Result<bool> write(std::span<const AlertPtr> batch) override {
    if (batch.empty()) return true;
    // A retry brings the same batch (holding its first alert keeps the address from being reused by another).
    if (first_ != batch.front() || batch_size_ != batch.size()) render(batch);
    if (auto r = ensure_connected(); !r) return r;
    auto r = cfg_.address.kind == SyslogTransportKind::Udp ? send_datagrams() : send_stream();
    if (r) {
      first_.reset();
      batch_size_ = 0;
    }
    return r;
  }

 private:
  void render(std::span<const AlertPtr> batch) {
    buf_.clear();
    ends_.clear();
    done_ = 0;
    for (const auto& alert : batch) {
      if (append_syslog_record(*alert, cfg_, *formatter_, scratch_, buf_)) truncated_.inc();
      ends_.push_back(buf_.size());
    }
    first_ = batch.front();
    batch_size_ = batch.size();
  }

  Result<bool> ensure_connected() {
    if (transport_.is_open() && transport_.peer_gone()) {
      spdlog::warn("sink {}: {} closed the connection; reconnecting", name_, transport_.address());
    }
    if (transport_.is_open()) return true;
    if (auto r = transport_.connect(); !r) return r;
    connects_.inc();
    spdlog::info("sink {}: connected to {}", name_, transport_.address());
    return true;
  }

  std::size_t offset(std::size_t record) const { return record == 0 ? 0 : ends_[record - 1]; }

  // The batch's unsent records in one write; records fully handed over count as sent, and a record cut by
  // a failure is sent whole on the next connection.
  Result<bool> send_stream() {
    const std::size_t start = offset(done_);
    std::size_t written = 0;
    auto r = transport_.write(std::string_view(buf_).substr(start), written);
    done_ = static_cast<std::size_t>(std::upper_bound(ends_.begin(), ends_.end(), start + written) - ends_.begin());
    return r;
  }

  Result<bool> send_datagrams() {
    views_.clear();
    for (std::size_t i = done_; i < ends_.size(); ++i) {
      views_.emplace_back(buf_.data() + offset(i), ends_[i] - offset(i));
    }
    std::size_t sent = 0;
    auto r = transport_.send_datagrams(views_, sent);
    done_ += sent;
    return r;
  }

  SyslogConfig cfg_;
  std::string name_;
  std::shared_ptr<const Formatter> formatter_;
  SyslogTransport transport_;
  Counter& truncated_;
  Counter& connects_;

  // The batch being delivered: its records back to back, where each ends, and how many were sent.
  AlertPtr first_;
  std::size_t batch_size_ = 0;
  std::string buf_;
  std::vector<std::size_t> ends_;
  std::size_t done_ = 0;
  std::string scratch_;
  std::vector<std::string_view> views_;
};

}  // namespace

bool append_syslog_record(const Alert& alert, const SyslogConfig& cfg, const Formatter& formatter,
                          std::string& scratch, std::string& out) {
  scratch.clear();
  if (cfg.message.protocol == SyslogProtocol::Rfc3164) {
    format_rfc3164(alert, cfg.message, formatter, scratch);
  } else {
    format_rfc5424(alert, cfg.message, formatter, scratch);
  }
  bool cut = false;
  if (cfg.address.kind == SyslogTransportKind::Udp && scratch.size() > cfg.max_udp_size) {
    scratch.resize(utf8_prefix(scratch, cfg.max_udp_size));  // RFC 5426 section 3.2: truncate rather than drop
    cut = true;
  }
  append_frame(out, scratch, cfg.message.framing);
  return cut;
}

SinkBuilder parse_syslog_sink(const ConfigReader& r) {
  SyslogConfig cfg = read_syslog_config(r);
  return [cfg](SinkContext& ctx) -> std::unique_ptr<Sink> { return std::make_unique<SyslogSink>(cfg, ctx); };
}

}  // namespace saker
