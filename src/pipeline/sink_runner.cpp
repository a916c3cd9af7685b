#include "pipeline/sink_runner.hpp"

#include <algorithm>
#include <random>

#include <spdlog/spdlog.h>

namespace saker {

SinkRunner::SinkRunner(const SinkSpec& spec, Metrics& metrics, std::string data_dir)
    : spec_(spec),
      data_dir_(std::move(data_dir)),
      metrics_(metrics),
      sent_(metrics.counter("saker_sink_sent_total", "Alerts delivered, by sink", {{"sink", spec.name}})),
      failed_(metrics.counter("saker_sink_failed_total", "Failed delivery attempts (batches), by sink",
                              {{"sink", spec.name}})),
      dropped_(metrics.counter("saker_sink_dropped_total", "Alerts given up on at shutdown, by sink",
                               {{"sink", spec.name}})),
      queued_gauge_(metrics.gauge("saker_sink_queued", "Alerts waiting for delivery, by sink", {{"sink", spec.name}})),
      healthy_gauge_(metrics.gauge("saker_sink_healthy", "1 when the sink's last delivery succeeded", {{"sink", spec.name}})) {
  healthy_gauge_.set(1);
}

SinkRunner::~SinkRunner() { stop(std::chrono::milliseconds(0)); }

Result<bool> SinkRunner::start() {
  dead_letters_ = std::make_unique<DeadLetterFile>(data_dir_, spec_.name, metrics_);
  SinkContext ctx{spec_.name, metrics_, data_dir_, spec_.formatter, *dead_letters_};
  sink_ = spec_.build(ctx);
  if (auto r = sink_->open(); !r) return r;
  thread_ = std::thread([this] { run(); });
  return true;
}

void SinkRunner::stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    deadline_ = std::chrono::steady_clock::now() + grace;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SinkRunner::push(std::vector<AlertPtr>& alerts) {
  const std::size_t n = alerts.size();
  std::size_t bytes = 0;
  for (const auto& a : alerts) bytes += estimate_bytes(*a);
  {
    std::lock_guard lock(mu_);
    if (incoming_.empty()) {
      incoming_.swap(alerts);
    } else {
      incoming_.insert(incoming_.end(), std::make_move_iterator(alerts.begin()), std::make_move_iterator(alerts.end()));
    }
  }
  alerts.clear();
  queued_.fetch_add(n, std::memory_order_relaxed);
  queued_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  wake_.notify_one();
}

std::string SinkRunner::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

bool SinkRunner::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [&] { return incoming_.empty() && !busy_; });
}

void SinkRunner::run() {
  std::vector<AlertPtr> work;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (incoming_.empty()) {
        busy_ = false;
        idle_cv_.notify_all();
        if (stopping_) break;
        wake_.wait(lock, [&] { return !incoming_.empty() || stopping_; });
        if (incoming_.empty()) break;
      }
      busy_ = true;
      work.swap(incoming_);
    }
    bool gave_up = false;
    for (std::size_t at = 0; at < work.size(); at += spec_.queue.batch) {
      const std::size_t n = std::min(spec_.queue.batch, work.size() - at);
      std::span<const AlertPtr> slice(work.data() + at, n);
      std::size_t bytes = 0;
      for (const auto& a : slice) bytes += estimate_bytes(*a);
      if (!gave_up && !deliver(slice)) gave_up = true;
      if (gave_up) dropped_.inc(n);
      queued_.fetch_sub(n, std::memory_order_relaxed);
      queued_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
      queued_gauge_.set(static_cast<std::int64_t>(queued_.load(std::memory_order_relaxed)));
    }
    work.clear();
    sink_->flush();
  }
  sink_->flush();
}

bool SinkRunner::deliver(std::span<const AlertPtr> slice) {
  std::chrono::milliseconds backoff = spec_.queue.retry_initial;
  std::minstd_rand jitter(std::random_device{}());
  for (;;) {
    auto r = sink_->write(slice);
    if (r) {
      sent_.inc(slice.size());
      if (!healthy_.exchange(true)) {
        spdlog::info("sink {}: delivering again", spec_.name);
        healthy_gauge_.set(1);
      }
      return true;
    }
    failed_.inc();
    {
      std::lock_guard lock(mu_);
      last_error_ = r.error().message;
    }
    if (healthy_.exchange(false)) {
      spdlog::error("sink {}: {} (retrying with backoff up to {} ms)", spec_.name, r.error().message,
                    spec_.queue.retry_max.count());
      healthy_gauge_.set(0);
    }
    // Sleep with ±25% jitter, waking early only to give up once stopping past the grace period.
    const auto sleep = backoff + std::chrono::milliseconds(
                                     static_cast<std::int64_t>((jitter() % 500) * backoff.count() / 1000) -
                                     backoff.count() / 4);
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, sleep, [&] { return stopping_ && std::chrono::steady_clock::now() >= deadline_; });
    if (stopping_ && std::chrono::steady_clock::now() >= deadline_) {
      spdlog::error("sink {}: shutdown grace period over, giving up on undelivered alerts", spec_.name);
      return false;
    }
    backoff = std::min(backoff * 2, spec_.queue.retry_max);
  }
}

}  // namespace saker
