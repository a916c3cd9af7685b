#include "pipeline/sink_runner.hpp"

#include <algorithm>
#include <random>

#include <spdlog/spdlog.h>

namespace saker {

SinkRunner::SinkRunner(const SinkSpec& spec, Metrics& metrics, std::string data_dir, DecodeLimits limits)
    : spec_(spec),
      data_dir_(std::move(data_dir)),
      limits_(limits),
      metrics_(metrics),
      sent_(metrics.counter("saker_sink_sent_total", "Alerts delivered, by sink", {{"sink", spec.name}})),
      failed_(metrics.counter("saker_sink_failed_total", "Failed delivery attempts (batches), by sink",
                              {{"sink", spec.name}})),
      dropped_(metrics.counter("saker_sink_dropped_total",
                               "Alerts of a memory buffer given up at shutdown after the grace period, by sink",
                               {{"sink", spec.name}})),
      queued_gauge_(metrics.gauge("saker_sink_queued", "Alerts waiting for delivery, by sink", {{"sink", spec.name}})),
      healthy_gauge_(metrics.gauge("saker_sink_healthy", "1 when the sink's last delivery succeeded", {{"sink", spec.name}})) {
  healthy_gauge_.set(1);
}

SinkRunner::~SinkRunner() { stop(std::chrono::milliseconds(0)); }

Result<bool> SinkRunner::start() {
  // The dead-letter file first: a disk buffer's recovery puts damaged records there.
  dead_letters_ = std::make_unique<DeadLetterFile>(data_dir_, spec_.name, metrics_);
  auto buffer = open_buffer(spec_.buffer, BufferContext{spec_.name, data_dir_, metrics_, limits_, dead_letters_.get()});
  if (!buffer) return buffer.error();
  buffer_ = std::move(buffer).value();
  SinkContext ctx{spec_.name, metrics_, data_dir_, spec_.formatter, *dead_letters_};
  sink_ = spec_.build(ctx);
  if (auto r = sink_->open(); !r) return r;
  thread_ = std::thread([this] { run(); });
  return true;
}

void SinkRunner::request_stop(std::chrono::milliseconds grace) {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    deadline_ = std::chrono::steady_clock::now() + grace;
    stopping_ = true;
  }
  buffer_->close();
  wake_.notify_all();
}

void SinkRunner::stop(std::chrono::milliseconds grace) {
  request_stop(grace);
  if (thread_.joinable()) thread_.join();
}

std::vector<AlertPtr> SinkRunner::hand_over() {
  handover_ = true;
  stop(std::chrono::milliseconds(0));
  std::vector<AlertPtr> out = std::move(leftover_);
  leftover_.clear();
  if (!buffer_) return out;
  if (spec_.buffer.type == BufferSpec::Type::Disk) {
    buffer_.reset();  // closes the log: the next runner reopens it and delivers from the cursor
    return {};
  }
  std::vector<AlertPtr> rest;
  while (buffer_->take(rest, 65536, std::chrono::milliseconds(0)) && !rest.empty()) {
    out.insert(out.end(), std::make_move_iterator(rest.begin()), std::make_move_iterator(rest.end()));
    rest.clear();
  }
  buffer_.reset();
  return out;
}

bool SinkRunner::past_deadline() const {
  std::lock_guard lock(mu_);
  return stopping_ && std::chrono::steady_clock::now() >= deadline_;
}

bool SinkRunner::refusing() const noexcept {
  return spec_.buffer.when_full == WhenFull::Block && buffer_->full();
}

bool SinkRunner::push(std::vector<AlertPtr>& alerts) {
  // The router asked refusing() for this batch: a blocking buffer takes it even if it filled up since.
  auto r = buffer_->push(alerts, Buffer::Admission::Admitted);
  if (r) {
    if (!r.value()) return false;
    queued_gauge_.set(static_cast<std::int64_t>(buffer_->queued()));
    return true;
  }
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_push_error_log_ >= std::chrono::seconds(5)) {
    last_push_error_log_ = now;
    spdlog::error("sink {}: {}; sources push back until it can be written", spec_.name, r.error().message);
  }
  return false;
}

std::string SinkRunner::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

bool SinkRunner::wait_idle(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (buffer_->queued() > 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

void SinkRunner::run() {
  std::vector<AlertPtr> work;
  const bool durable = spec_.buffer.type == BufferSpec::Type::Disk;
  for (;;) {
    work.clear();
    const bool open = buffer_->take(work, spec_.batch_size, std::chrono::milliseconds(200));
    if (!work.empty() && open) fill_batch(work);
    if (work.empty()) {
      sink_->flush();
      if (!open || past_deadline()) break;
      continue;
    }
    if (!deliver(work)) {
      if (handover_) {  // the next runner takes them (a disk buffer still holds them)
        if (!durable) leftover_ = std::move(work);
        break;
      }
      // Stopping past the grace period: a disk buffer keeps these for the next start.
      if (!durable) dropped_.inc(buffer_->queued());
      break;
    }
    buffer_->ack(work.size());
    queued_gauge_.set(static_cast<std::int64_t>(buffer_->queued()));
    if (past_deadline()) {
      if (handover_) break;
      if (buffer_->queued() > 0) {
        if (durable) {
          spdlog::warn("sink {}: shutdown grace period over; {} alerts stay in the disk buffer for the next start",
                       spec_.name, buffer_->queued());
        } else {
          spdlog::error("sink {}: shutdown grace period over; {} alerts in memory are dropped", spec_.name,
                        buffer_->queued());
          dropped_.inc(buffer_->queued());
        }
      }
      break;
    }
  }
  sink_->flush();
}

void SinkRunner::fill_batch(std::vector<AlertPtr>& work) {
  if (spec_.batch_wait.count() <= 0) return;
  // batch_wait: more alerts join the batch until it is full or the wait is over (not while stopping).
  const auto until = std::chrono::steady_clock::now() + spec_.batch_wait;
  std::vector<AlertPtr> more;
  while (work.size() < spec_.batch_size && !stopping_.load(std::memory_order_relaxed)) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    const bool open = buffer_->take(more, spec_.batch_size - work.size(), left);
    work.insert(work.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    more.clear();
    if (!open) break;
  }
}

bool SinkRunner::deliver(std::span<const AlertPtr> slice) {
  std::chrono::milliseconds backoff = spec_.retry_initial;
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
                    spec_.retry_max.count());
      healthy_gauge_.set(0);
    }
    // Sleep with ±25% jitter, waking early only to give up once stopping past the grace period. The generator is
    // seeded here, on the failure path, not per batch: std::random_device costs a system call.
    thread_local std::minstd_rand jitter(std::random_device{}());
    const auto sleep = backoff + std::chrono::milliseconds(
                                     static_cast<std::int64_t>((jitter() % 500) * backoff.count() / 1000) -
                                     backoff.count() / 4);
    // Wake at the end of the backoff, or at the shutdown deadline if that comes first (also when stop() is
    // requested during the sleep).
    std::unique_lock lock(mu_);
    const auto until = std::chrono::steady_clock::now() + sleep;
    const bool was_stopping = stopping_;
    wake_.wait_until(lock, was_stopping ? std::min(until, deadline_) : until, [&] {
      return stopping_ != was_stopping || (stopping_ && std::chrono::steady_clock::now() >= deadline_);
    });
    if (stopping_ && !was_stopping) {
      wake_.wait_until(lock, std::min(until, deadline_), [&] { return std::chrono::steady_clock::now() >= deadline_; });
    }
    if (stopping_ && std::chrono::steady_clock::now() >= deadline_) {
      spdlog::error("sink {}: shutdown grace period over while the sink fails", spec_.name);
      return false;
    }
    backoff = std::min(backoff * 2, spec_.retry_max);
  }
}

}  // namespace saker
