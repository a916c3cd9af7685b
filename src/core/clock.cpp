#include "core/clock.hpp"

#include "core/time.hpp"

namespace saker {

std::int64_t SystemClock::now_ns() const noexcept { return saker::now_ns(); }

const SystemClock& SystemClock::instance() noexcept {
  static const SystemClock clock;
  return clock;
}

}  // namespace saker
