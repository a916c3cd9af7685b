#include "sinks/dead_letter.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <openssl/evp.h>
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
  // The persisted form, so added fields survive `saker dlq replay`; last, so the reader can take its bytes verbatim.
  line.append(",\"alert\":");
  alert.append_persisted(line);
  line.append("}\n");
  count_.inc();
  append(line);
}

void DeadLetterFile::add_raw(std::string_view bytes, std::string_view reason) {
  std::string line = "{\"time\":";
  append_json_string(line, format_rfc3339_ms(now_ns()));
  line.append(",\"sink\":");
  append_json_string(line, sink_);
  line.append(",\"reason\":");
  append_json_string(line, reason);
  line.append(",\"raw\":\"");
  // EVP_EncodeBlock takes an int length: encode in chunks of whole 3-byte groups.
  constexpr std::size_t kChunk = 3 * 64 * 1024;
  for (std::size_t from = 0; from < bytes.size(); from += kChunk) {
    const std::size_t n = std::min(kChunk, bytes.size() - from);
    const std::size_t at = line.size();
    line.resize(at + 4 * ((n + 2) / 3) + 1);  // and a NUL after the base64
    const int wrote = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(line.data() + at),
                                      reinterpret_cast<const unsigned char*>(bytes.data() + from), static_cast<int>(n));
    line.resize(at + static_cast<std::size_t>(wrote));
  }
  line.append("\"}\n");
  append(line);
}

void DeadLetterFile::append(const std::string& line) {
  std::lock_guard lock(mu_);
  if (fd_ < 0) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd_ < 0) {
      spdlog::error("sink {}: cannot open dead-letter file {}: {}; the dead letter is logged here instead: {}", sink_,
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
