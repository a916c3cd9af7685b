#include "observe/rate_limited_log.hpp"

namespace saker {

bool RateLimitedLog::should_log(std::string_view key, std::uint64_t& suppressed) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= 1024) entries_.clear();  // keys come from a fixed set of reasons; bound it anyway
    it = entries_.emplace(std::string(key), Entry{}).first;
  }
  Entry& e = it->second;
  if (e.logged && now - e.last < period_) {
    ++e.held;
    return false;
  }
  suppressed = e.held;
  e.held = 0;
  e.last = now;
  e.logged = true;
  return true;
}

}  // namespace saker
