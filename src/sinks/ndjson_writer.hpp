#pragma once
// Formats batches into one buffer and writes it to a file descriptor with as few syscalls as possible.
// A write that fails half-way keeps the unwritten rest, so a retry continues the same line instead of
// repeating or tearing records.
#include <cstdint>
#include <span>
#include <string>

#include "core/alert.hpp"
#include "core/result.hpp"
#include "format/formatter.hpp"

namespace saker {

class NdjsonWriter {
 public:
  explicit NdjsonWriter(std::shared_ptr<const Formatter> formatter) : formatter_(std::move(formatter)) {}

  // Formats `batch` (unless a previous attempt left bytes pending) and writes it all to `fd`.
  Result<bool> write(int fd, std::span<const AlertPtr> batch, const std::string& what);
  std::size_t pending_bytes() const noexcept { return pending_.size() - written_; }
  // Every byte written so far (for size-based rotation).
  std::uint64_t total_written() const noexcept { return total_written_; }

 private:
  std::shared_ptr<const Formatter> formatter_;
  std::string pending_;
  std::size_t written_ = 0;
  std::uint64_t total_written_ = 0;
};

}  // namespace saker
