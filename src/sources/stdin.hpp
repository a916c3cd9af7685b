#pragma once
// `stdin` source (Falco's program_output, pipes) and the reusable core that reads NDJSON from any descriptor.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "sources/source.hpp"

namespace saker {

// Reads NDJSON from a file descriptor (not owned, not closed) into an AlertIntake, one read chunk per flush.
// run() blocks; request_stop() and the progress getters may be called from other threads.
class NdjsonFdReader {
 public:
  NdjsonFdReader(int fd, std::string source, AlertIntake& intake, std::size_t max_line = 1024 * 1024);
  ~NdjsonFdReader();
  NdjsonFdReader(const NdjsonFdReader&) = delete;
  NdjsonFdReader& operator=(const NdjsonFdReader&) = delete;

  // Reads to EOF, decoding each line; while sinks are full it stops reading and retries every 10ms.
  // At EOF a last line without newline counts too, and everything is submitted before it returns.
  // true: EOF reached and all submitted; false: request_stop() came first (the intake may hold a pending
  // batch); Error: read() failed.
  Result<bool> run();
  // Wakes run() out of a blocking read or backpressure wait; it then returns false.
  void request_stop() noexcept;

  std::uint64_t bytes_read() const noexcept { return bytes_.load(std::memory_order_relaxed); }
  // Non-blank lines seen, and of those the ones refused (bad JSON, over max_line, ...).
  std::uint64_t lines() const noexcept { return lines_.load(std::memory_order_relaxed); }
  std::uint64_t bad_lines() const noexcept { return bad_.load(std::memory_order_relaxed); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> lines_{0};
  std::atomic<std::uint64_t> bad_{0};
};

struct StdinSourceOptions {
  std::size_t max_line = 1024 * 1024;
};

class StdinSource : public Source {
 public:
  // `fd` is for tests; the daemon reads standard input (0).
  StdinSource(SourceContext& ctx, StdinSourceOptions options, int fd = 0);
  ~StdinSource() override;

  Result<bool> start() override;
  void stop() override;
  bool finished() const override;

  std::uint64_t bytes_read() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Keys: max_line (1MiB).
SourceBuilder parse_stdin_source(const ConfigReader& r);

}  // namespace saker
