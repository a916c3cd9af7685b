#pragma once
#include <condition_variable>
#include <deque>
#include <mutex>

#include "sinks/queue/buffer.hpp"

namespace saker {

// `buffer: {type: memory}`: a bounded in-memory queue. Fast; alerts in it are lost if the process dies.
class MemoryBuffer final : public Buffer {
 public:
  MemoryBuffer(const BufferSpec& spec, const BufferContext& ctx);

  using Buffer::push;
  Result<bool> push(std::vector<AlertPtr>& alerts, Admission admission) override;
  bool full() const noexcept override;
  bool take(std::vector<AlertPtr>& out, std::size_t max, std::chrono::milliseconds wait) override;
  void ack(std::size_t n) override;
  void close() override;
  std::size_t queued() const noexcept override { return count_.load(std::memory_order_relaxed); }
  std::uint64_t queued_bytes() const noexcept override { return bytes_.load(std::memory_order_relaxed); }

  // What one alert costs in memory, roughly: its JSON, the decoded copy of its strings, the field table, and the
  // storage of what stages added.
  static std::uint64_t estimate(const Alert& a) noexcept { return a.json().size() * 3 + 256 + a.additions_bytes(); }

 private:
  BufferSpec spec_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::size_t waiting_ = 0;  // take() calls blocked on cv_: push() signals only when someone waits
  std::deque<AlertPtr> q_;
  std::deque<std::uint64_t> in_flight_bytes_;  // sizes of alerts taken but not yet acked, oldest first
  bool closed_ = false;
  std::atomic<std::size_t> count_{0};      // queued + in flight
  std::atomic<std::uint64_t> bytes_{0};
  Counter& dropped_;
};

}  // namespace saker
