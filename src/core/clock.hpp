#pragma once
// One clock for "now": the wall clock in live mode; replay drives one from the alerts' event time, so that what
// depends on "now" (the arrival time of an alert without a time, windows, cooldowns) is the same on every replay.
#include <atomic>
#include <cstdint>

namespace saker {

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds since the epoch (UTC).
  virtual std::int64_t now_ns() const noexcept = 0;
};

// The wall clock.
class SystemClock final : public Clock {
 public:
  std::int64_t now_ns() const noexcept override;
  static const SystemClock& instance() noexcept;
};

// Event time: "now" is the latest event time it was told (advance()); it never runs backwards.
class EventClock final : public Clock {
 public:
  explicit EventClock(std::int64_t start_ns = 0) : now_(start_ns) {}
  std::int64_t now_ns() const noexcept override { return now_.load(std::memory_order_relaxed); }
  void advance(std::int64_t event_ns) noexcept {
    std::int64_t cur = now_.load(std::memory_order_relaxed);
    while (event_ns > cur && !now_.compare_exchange_weak(cur, event_ns, std::memory_order_relaxed)) {
    }
  }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace saker
