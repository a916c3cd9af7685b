#pragma once
// A log line per key at most once per period: hostile or broken senders can make saker refuse thousands of alerts
// a second, and the log must say so without drowning. Each line says how many were left unsaid since the last.
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace saker {

class RateLimitedLog {
 public:
  explicit RateLimitedLog(std::chrono::milliseconds period = std::chrono::minutes(1)) : period_(period) {}
  // True when a line for `key` should be written now; `suppressed` is how many were held back since the last one.
  bool should_log(std::string_view key, std::uint64_t& suppressed);

 private:
  struct Entry {
    std::chrono::steady_clock::time_point last{};
    std::uint64_t held = 0;
    bool logged = false;
  };
  std::chrono::milliseconds period_;
  std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace saker
