#include "sources/line_splitter.hpp"

#include <algorithm>
#include <thread>

#include <spdlog/spdlog.h>

namespace saker {

namespace {

// Reads smaller than this waste syscalls, so the buffer grows (bounded by max_line) rather than read less.
constexpr std::size_t kMinRead = 16 * 1024;

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

LineSplitter::LineSplitter(std::size_t max_line, std::size_t chunk)
    : max_line_(std::max<std::size_t>(max_line, 1)),
      min_read_(std::min(kMinRead, std::max<std::size_t>(chunk, 1))),
      cap_(std::max<std::size_t>(chunk, 1)),
      buf_(new char[cap_]) {}

void LineSplitter::reset() noexcept {
  begin_ = end_ = scanned_ = 0;
  discarding_ = false;
  consumed_ = 0;
}

void LineSplitter::compact() {
  const std::size_t held = end_ - begin_;
  if (begin_ > 0) {
    if (held > 0) std::memmove(buf_.get(), buf_.get() + begin_, held);
    begin_ = 0;
    end_ = scanned_ = held;
  }
  if (cap_ - end_ < min_read_) {
    // Only a long incomplete line gets here; it is at most max_line + 1 bytes, so the buffer stays bounded.
    const std::size_t cap = std::max(cap_ * 2, end_ + min_read_);
    std::unique_ptr<char[]> bigger(new char[cap]);
    if (held > 0) std::memcpy(bigger.get(), buf_.get(), held);
    buf_ = std::move(bigger);
    cap_ = cap;
  }
}

bool RateLimiter::allow(std::uint64_t& suppressed) noexcept {
  const std::int64_t now = steady_ns();
  std::int64_t next = next_ns_.load(std::memory_order_relaxed);
  const std::int64_t step = std::chrono::duration_cast<std::chrono::nanoseconds>(interval_).count();
  while (now >= next) {
    if (next_ns_.compare_exchange_weak(next, now + step, std::memory_order_relaxed)) {
      suppressed = suppressed_.exchange(0, std::memory_order_relaxed);
      return true;
    }
  }
  suppressed_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

LineDecoder::LineDecoder(std::string source, AlertIntake& intake, std::shared_ptr<RateLimiter> log_limit,
                         std::size_t max_line)
    : source_(std::move(source)),
      intake_(intake),
      log_limit_(log_limit ? std::move(log_limit) : std::make_shared<RateLimiter>()),
      max_line_(max_line) {}

void LineDecoder::line(std::string_view text) {
  // Falco lines start with '{'; anything else is checked for being blank before it counts as bad.
  if (text.empty() || text.front() != '{') {
    const auto pos = text.find_first_not_of(" \t\r");
    if (pos == std::string_view::npos) return;
  }
  ++lines_;
  auto r = intake_.add(text, /*one_line=*/true);
  if (r) return;
  ++bad_;
  std::uint64_t suppressed = 0;
  if (log_limit_->allow(suppressed)) {
    spdlog::warn("source {}: dropped a bad line ({}): {}{}", source_, r.error().code, r.error().message,
                 suppressed ? fmt::format(" ({} more bad lines not logged)", suppressed) : std::string());
  }
}

void LineDecoder::too_large(std::size_t bytes) {
  ++lines_;
  ++bad_;
  intake_.refuse("too_large");
  std::uint64_t suppressed = 0;
  if (log_limit_->allow(suppressed)) {
    spdlog::warn("source {}: dropped a line longer than max_line {} (at least {} bytes){}", source_, max_line_, bytes,
                 suppressed ? fmt::format(" ({} more bad lines not logged)", suppressed) : std::string());
  }
}

bool flush_until(AlertIntake& intake, std::chrono::steady_clock::time_point deadline,
                 std::chrono::milliseconds retry) {
  while (!intake.flush()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(retry);
  }
  return true;
}

}  // namespace saker
