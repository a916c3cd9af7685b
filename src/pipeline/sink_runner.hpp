#pragma once
// One sink's bounded queue, its thread, its retry loop and its metrics. Sources push batches (one lock per
// batch); the thread hands the sink slices of up to `queue.batch` alerts and retries failures with backoff.
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
#include "sinks/sink.hpp"

namespace saker {

class SinkRunner {
 public:
  SinkRunner(const SinkSpec& spec, Metrics& metrics, std::string data_dir);
  ~SinkRunner();
  SinkRunner(const SinkRunner&) = delete;
  SinkRunner& operator=(const SinkRunner&) = delete;

  Result<bool> start();
  // Stops after delivering what is queued, giving up (and counting the rest as dropped) after `grace`.
  void stop(std::chrono::milliseconds grace);

  const std::string& name() const noexcept { return spec_.name; }
  const Route& route() const noexcept { return spec_.route; }
  // Approximate, lock-free: the queue holds as many alerts or bytes as it may.
  bool full() const noexcept {
    return queued_.load(std::memory_order_relaxed) >= spec_.queue.max_alerts ||
           queued_bytes_.load(std::memory_order_relaxed) >= spec_.queue.max_bytes;
  }
  void push(std::vector<AlertPtr>& alerts);

  bool healthy() const noexcept { return healthy_.load(std::memory_order_relaxed); }
  std::size_t queued() const noexcept { return queued_.load(std::memory_order_relaxed); }
  std::string last_error() const;
  // Blocks until the queue is empty and the sink flushed (for replay and tests); false on timeout.
  bool wait_idle(std::chrono::milliseconds timeout);

 private:
  void run();
  bool deliver(std::span<const AlertPtr> slice);  // false: gave up (stopping past the grace period)
  static std::size_t estimate_bytes(const Alert& a) noexcept { return a.json().size() * 3 + 256; }

  SinkSpec spec_;
  std::string data_dir_;
  Metrics& metrics_;
  std::unique_ptr<DeadLetterFile> dead_letters_;
  std::unique_ptr<Sink> sink_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable idle_cv_;
  std::vector<AlertPtr> incoming_;
  bool stopping_ = false;
  bool busy_ = false;
  std::chrono::steady_clock::time_point deadline_;
  std::string last_error_;
  std::thread thread_;

  std::atomic<std::size_t> queued_{0};
  std::atomic<std::size_t> queued_bytes_{0};
  std::atomic<bool> healthy_{true};

  Counter& sent_;
  Counter& failed_;
  Counter& dropped_;
  Gauge& queued_gauge_;
  Gauge& healthy_gauge_;
};

}  // namespace saker
