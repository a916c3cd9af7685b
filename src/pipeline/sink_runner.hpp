#pragma once
// One sink's buffer, its thread, its retry loop and its metrics. Sources push batches into the buffer (one
// lock per batch); the thread takes slices of up to `batch_size` alerts, hands them to the sink, retries
// failures with exponential backoff and jitter, and acknowledges what was delivered.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "observe/metrics.hpp"
#include "pipeline/config.hpp"
#include "route/router.hpp"
#include "sinks/queue/buffer.hpp"
#include "sinks/sink.hpp"

namespace saker {

class SinkRunner final : public Consumer {
 public:
  SinkRunner(const SinkSpec& spec, Metrics& metrics, std::string data_dir, DecodeLimits limits);
  ~SinkRunner() override;
  SinkRunner(const SinkRunner&) = delete;
  SinkRunner& operator=(const SinkRunner&) = delete;

  Result<bool> start();
  // Delivers what is buffered, then stops; past `grace` it gives up: a disk buffer keeps the rest for the next
  // start, a memory buffer counts it as dropped.
  void stop(std::chrono::milliseconds grace);
  // Reload of a changed sink: stops at once (a batch being written is finished or given up) and returns what it
  // still holds, for the runner with the new config. A memory buffer's alerts are returned; a disk buffer is
  // closed with them in it, for the next runner to reopen.
  std::vector<AlertPtr> hand_over();
  // The first half of stop(): sets the deadline and wakes the thread, without waiting (stop many at once).
  void request_stop(std::chrono::milliseconds grace);

  const std::string& name() const noexcept { return spec_.name; }
  const Route& route() const noexcept { return spec_.route; }
  const SinkSpec& spec() const noexcept { return spec_; }
  // Consumer: a full blocking buffer refuses; push() takes an admitted batch, false only when it cannot be
  // written (disk full, I/O error).
  bool refusing() const noexcept override;
  bool push(std::vector<AlertPtr>& alerts) override;

  bool healthy() const noexcept { return healthy_.load(std::memory_order_relaxed); }
  std::size_t queued() const noexcept { return buffer_ ? buffer_->queued() : 0; }
  std::string last_error() const;
  // Blocks until everything buffered was delivered (for replay and tests); false on timeout.
  bool wait_idle(std::chrono::milliseconds timeout);

 private:
  void run();
  void fill_batch(std::vector<AlertPtr>& work);
  bool deliver(std::span<const AlertPtr> slice);  // false: gave up (stopping past the grace period)
  bool past_deadline() const;

  SinkSpec spec_;
  std::string data_dir_;
  DecodeLimits limits_;
  Metrics& metrics_;
  std::unique_ptr<DeadLetterFile> dead_letters_;  // before buffer_: the disk buffer writes to it
  std::unique_ptr<Buffer> buffer_;
  std::unique_ptr<Sink> sink_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
  std::chrono::steady_clock::time_point deadline_;
  std::string last_error_;
  std::chrono::steady_clock::time_point last_push_error_log_{};
  std::thread thread_;
  std::atomic<bool> healthy_{true};
  std::atomic<bool> handover_{false};
  std::vector<AlertPtr> leftover_;  // hand_over(): the batch the thread had taken but not delivered

  Counter& sent_;
  Counter& failed_;
  Counter& dropped_;
  Gauge& queued_gauge_;
  Gauge& healthy_gauge_;
};

}  // namespace saker
