#pragma once
// NDJSON plumbing shared by the byte-stream sources (tcp, file, stdin): a read buffer that splits complete lines
// without copying them, and a line handler that feeds them to an AlertIntake with rate-limited error logs.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "sources/source.hpp"

namespace saker {

// A line's length without the '\r' of a "\r\n" ending: what max_line limits.
inline std::size_t line_body_size(std::string_view line) noexcept {
  return (!line.empty() && line.back() == '\r') ? line.size() - 1 : line.size();
}

// Reads go straight into space(); commit() hands out each complete line as a view into the buffer.
// A line over max_line is dropped (reported once) and skipped up to its newline; memory stays bounded.
class LineSplitter {
 public:
  static constexpr std::size_t kDefaultChunk = 256 * 1024;

  explicit LineSplitter(std::size_t max_line, std::size_t chunk = kDefaultChunk);

  // Where the next read should land; never empty.
  std::span<char> space() noexcept { return {buf_.get() + end_, cap_ - end_}; }

  // `n` bytes were read into space(): calls on_line(std::string_view) for each complete line (without its
  // '\n'; a trailing '\r' is kept) and on_drop(std::size_t bytes) once for each line over max_line.
  template <typename OnLine, typename OnDrop>
  void commit(std::size_t n, OnLine&& on_line, OnDrop&& on_drop);

  // Complete lines handed out at once: the buffer they sit in, given away without a copy.
  struct Block {
    std::unique_ptr<char[]> data;
    std::string_view lines;  // into data: complete lines, each ending in '\n'; empty when none was completed
  };
  // Like commit(), but hands every complete line of the buffer out as one Block (for another thread to split and
  // decode): the incomplete last line moves to a new buffer. Lines over max_line are not checked here, except an
  // incomplete one, which is dropped as by commit() once it outgrows max_line.
  template <typename OnDrop>
  Block commit_block(std::size_t n, OnDrop&& on_drop);

  // End of input: the incomplete last line, if any, is handed out as a line too.
  template <typename OnLine, typename OnDrop>
  void finish(OnLine&& on_line, OnDrop&& on_drop);

  // Input bytes fully dealt with (lines handed out or dropped, with their newlines) since construction/reset().
  std::uint64_t consumed() const noexcept { return consumed_; }
  // Bytes held of a line whose newline has not arrived yet.
  std::size_t partial() const noexcept { return end_ - begin_; }
  // Forgets everything held (truncation, rotation) and restarts consumed() at 0.
  void reset() noexcept;
  // Skips input up to and including the next newline without reporting it (starting in the middle of a line).
  void skip_to_next_line() noexcept { discarding_ = true; }

 private:
  void compact();
  // While discarding the rest of an over-long line: skips up to its newline; false when the input ran out first.
  bool skip_discarded() noexcept;
  // After a read: the incomplete line stays for the next read, unless it is already over max_line (dropped, and the
  // rest of it discarded).
  template <typename OnDrop>
  void keep_partial(OnDrop& on_drop);
  template <typename OnLine, typename OnDrop>
  void deliver(std::size_t len, OnLine& on_line, OnDrop& on_drop);

  std::size_t max_line_;
  std::size_t min_read_;
  std::size_t cap_;
  std::unique_ptr<char[]> buf_;  // uninitialised: idle connections cost no resident memory
  std::size_t begin_ = 0;        // first byte of the incomplete line
  std::size_t end_ = 0;          // end of valid data
  std::size_t scanned_ = 0;      // [begin_, scanned_) is known to hold no '\n'
  bool discarding_ = false;
  std::uint64_t consumed_ = 0;
};

template <typename OnLine, typename OnDrop>
void LineSplitter::deliver(std::size_t len, OnLine& on_line, OnDrop& on_drop) {
  const std::string_view line(buf_.get() + begin_, len);
  if (const std::size_t body = line_body_size(line); body > max_line_) {
    on_drop(body);
  } else {
    on_line(line);
  }
}

inline bool LineSplitter::skip_discarded() noexcept {
  if (!discarding_) return true;
  char* const base = buf_.get();
  const void* nl = std::memchr(base + begin_, '\n', end_ - begin_);
  if (nl == nullptr) {
    consumed_ += end_ - begin_;
    begin_ = end_ = scanned_ = 0;
    return false;
  }
  const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(nl) - base) + 1;
  consumed_ += at - begin_;
  begin_ = scanned_ = at;
  discarding_ = false;
  return true;
}

template <typename OnDrop>
void LineSplitter::keep_partial(OnDrop& on_drop) {
  scanned_ = end_;
  // +1: a line of exactly max_line bytes may still be waiting for the '\n' after its '\r'.
  if (end_ - begin_ > max_line_ + 1) {
    on_drop(end_ - begin_);
    consumed_ += end_ - begin_;
    begin_ = end_ = scanned_ = 0;
    discarding_ = true;
    return;
  }
  compact();
}

template <typename OnLine, typename OnDrop>
void LineSplitter::commit(std::size_t n, OnLine&& on_line, OnDrop&& on_drop) {
  char* const base = buf_.get();
  end_ += n;
  if (!skip_discarded()) return;
  while (scanned_ < end_) {
    const void* nl = std::memchr(base + scanned_, '\n', end_ - scanned_);
    if (nl == nullptr) break;
    const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
    deliver(at - begin_, on_line, on_drop);
    consumed_ += at + 1 - begin_;
    begin_ = scanned_ = at + 1;
  }
  keep_partial(on_drop);
}

template <typename OnDrop>
LineSplitter::Block LineSplitter::commit_block(std::size_t n, OnDrop&& on_drop) {
  Block block;
  char* const base = buf_.get();
  end_ += n;
  if (!skip_discarded()) return block;
  // Only the new bytes can hold the last newline: [begin_, scanned_) holds none.
  const void* nl = scanned_ < end_ ? ::memrchr(base + scanned_, '\n', end_ - scanned_) : nullptr;
  if (nl != nullptr) {
    const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(nl) - base) + 1;
    const std::size_t tail = end_ - at;
    std::unique_ptr<char[]> fresh(new char[cap_]);
    if (tail > 0) std::memcpy(fresh.get(), base + at, tail);
    block.lines = std::string_view(base + begin_, at - begin_);
    block.data = std::move(buf_);
    buf_ = std::move(fresh);
    consumed_ += at - begin_;
    begin_ = 0;
    end_ = tail;
  }
  keep_partial(on_drop);
  return block;
}

template <typename OnLine, typename OnDrop>
void LineSplitter::finish(OnLine&& on_line, OnDrop&& on_drop) {
  if (!discarding_ && end_ > begin_) deliver(end_ - begin_, on_line, on_drop);
  consumed_ += end_ - begin_;
  begin_ = end_ = scanned_ = 0;
  discarding_ = false;
}

// Allows one event per interval across threads, counting the ones it suppressed.
class RateLimiter {
 public:
  explicit RateLimiter(std::chrono::milliseconds interval = std::chrono::seconds(1)) : interval_(interval) {}
  // True when the caller may log now; `suppressed` gets how many were held back since the last allowed one.
  bool allow(std::uint64_t& suppressed) noexcept;

 private:
  std::chrono::milliseconds interval_;
  std::atomic<std::int64_t> next_ns_{0};
  std::atomic<std::uint64_t> suppressed_{0};
};

// Decodes NDJSON lines into an AlertIntake: skips blank lines, counts bad and over-long ones (logged at most
// once per second per source via the shared RateLimiter).
class LineDecoder {
 public:
  LineDecoder(std::string source, AlertIntake& intake, std::shared_ptr<RateLimiter> log_limit,
              std::size_t max_line);

  void line(std::string_view text);
  void too_large(std::size_t bytes);
  // A line nobody checked against max_line yet (split elsewhere): too_large() when over it, else line().
  void checked_line(std::string_view text) {
    if (const std::size_t body = line_body_size(text); body > max_line_) {
      too_large(body);
    } else {
      line(text);
    }
  }
  // Both as callables for LineSplitter::commit/finish.
  auto on_line() {
    return [this](std::string_view t) { line(t); };
  }
  auto on_drop() {
    return [this](std::size_t b) { too_large(b); };
  }

  std::uint64_t lines() const noexcept { return lines_; }
  std::uint64_t bad_lines() const noexcept { return bad_; }

 private:
  std::string source_;
  AlertIntake& intake_;
  std::shared_ptr<RateLimiter> log_limit_;
  std::size_t max_line_;
  std::uint64_t lines_ = 0;
  std::uint64_t bad_ = 0;
};

// Flushes the intake, retrying every `retry` while sinks are full, until `deadline`; false if still pending.
bool flush_until(AlertIntake& intake, std::chrono::steady_clock::time_point deadline,
                 std::chrono::milliseconds retry = std::chrono::milliseconds(10));

}  // namespace saker
