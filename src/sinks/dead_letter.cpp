#include "sinks/dead_letter.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "core/json_text.hpp"
#include "core/time.hpp"

namespace saker {

DeadLetterFile::DeadLetterFile(std::string data_dir, std::string sink, Metrics& metrics)
    : path_(data_dir + "/dead_letter/" + sink + ".ndjson"),
      sink_(std::move(sink)),
      count_(metrics.counter("saker_sink_dead_letters_total", "Alerts a sink rejected for good, written to its dead-letter file",
                             {{"sink", sink_}})) {}

DeadLetterFile::~DeadLetterFile() {
  if (fd_ >= 0) ::close(fd_);
}

void DeadLetterFile::add(const Alert& alert, std::string_view reason) {
  std::string line = "{\"time\":";
  append_json_string(line, format_rfc3339_ms(now_ns()));
  line.append(",\"sink\":");
  append_json_string(line, sink_);
  line.append(",\"reason\":");
  append_json_string(line, reason);
  line.append(",\"alert\":").append(alert.json()).append("}\n");
  count_.inc();
  std::lock_guard lock(mu_);
  if (fd_ < 0) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd_ < 0) {
      spdlog::error("sink {}: cannot open dead-letter file {}: {}; the rejected alert is logged here instead: {}", sink_,
                    path_, std::strerror(errno), line);
      return;
    }
  }
  std::size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      spdlog::error("sink {}: cannot write dead-letter file {}: {}", sink_, path_, std::strerror(errno));
      return;
    }
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace saker
