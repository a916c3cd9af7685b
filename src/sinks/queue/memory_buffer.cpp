#include "sinks/queue/memory_buffer.hpp"

namespace saker {

MemoryBuffer::MemoryBuffer(const BufferSpec& spec, const BufferContext& ctx)
    : spec_(spec),
      dropped_(ctx.metrics.counter("saker_buffer_dropped_total",
                                   "Alerts dropped because the buffer was full (when_full: drop_newest/drop_oldest)",
                                   {{"sink", ctx.sink}})) {}

bool MemoryBuffer::full() const noexcept {
  return count_.load(std::memory_order_relaxed) >= spec_.max_alerts ||
         bytes_.load(std::memory_order_relaxed) >= spec_.max_bytes;
}

Result<bool> MemoryBuffer::push(std::vector<AlertPtr>& alerts, Admission admission) {
  if (alerts.empty()) return true;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (full()) {
      switch (spec_.when_full) {
        case WhenFull::Block:
          if (admission == Admission::CheckFull) return false;
          break;
        case WhenFull::DropNewest:
          dropped_.inc(alerts.size());
          alerts.clear();
          return true;
        case WhenFull::DropOldest: {
          std::size_t dropped = 0;
          while (!q_.empty() && full()) {
            bytes_.fetch_sub(estimate(*q_.front()), std::memory_order_relaxed);
            count_.fetch_sub(1, std::memory_order_relaxed);
            q_.pop_front();
            ++dropped;
          }
          dropped_.inc(dropped);
          break;
        }
      }
    }
    std::uint64_t bytes = 0;
    for (auto& a : alerts) {
      bytes += estimate(*a);
      q_.push_back(std::move(a));
    }
    count_.fetch_add(alerts.size(), std::memory_order_relaxed);
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
    wake = waiting_ > 0;
  }
  alerts.clear();
  if (wake) cv_.notify_one();
  return true;
}

bool MemoryBuffer::take(std::vector<AlertPtr>& out, std::size_t max, std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  if (q_.empty() && !closed_) {
    ++waiting_;
    cv_.wait_for(lock, wait, [&] { return !q_.empty() || closed_; });
    --waiting_;
  }
  if (q_.empty()) return !closed_;
  const std::size_t n = std::min(max, q_.size());
  for (std::size_t i = 0; i < n; ++i) {
    in_flight_bytes_.push_back(estimate(*q_.front()));
    out.push_back(std::move(q_.front()));
    q_.pop_front();
  }
  return true;
}

void MemoryBuffer::ack(std::size_t n) {
  std::lock_guard lock(mu_);
  std::uint64_t bytes = 0;
  for (std::size_t i = 0; i < n && !in_flight_bytes_.empty(); ++i) {
    bytes += in_flight_bytes_.front();
    in_flight_bytes_.pop_front();
  }
  count_.fetch_sub(n, std::memory_order_relaxed);
  bytes_.fetch_sub(bytes, std::memory_order_relaxed);
}

void MemoryBuffer::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

}  // namespace saker
