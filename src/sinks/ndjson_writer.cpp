#include "sinks/ndjson_writer.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace saker {

Result<bool> NdjsonWriter::write(int fd, std::span<const AlertPtr> batch, const std::string& what) {
  if (written_ >= pending_.size()) {
    pending_.clear();
    written_ = 0;
    for (const auto& alert : batch) {
      formatter_->format(*alert, pending_);
      pending_.push_back('\n');
    }
  }
  while (written_ < pending_.size()) {
    const ssize_t n = ::write(fd, pending_.data() + written_, pending_.size() - written_);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error("write_failed", fmt::format("cannot write to {}: {}", what, std::strerror(errno)));
    }
    written_ += static_cast<std::size_t>(n);
    total_written_ += static_cast<std::uint64_t>(n);
  }
  return true;
}

}  // namespace saker
