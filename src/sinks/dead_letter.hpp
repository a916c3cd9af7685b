#pragma once
// Dead letters: alerts a sink rejected for good (e.g. an Elasticsearch mapping error), kept with the reason in
// <data_dir>/dead_letter/<sink>.ndjson so nothing is silently lost and they can be re-sent later.
#include <mutex>
#include <string>

#include "core/alert.hpp"
#include "observe/metrics.hpp"

namespace saker {

class DeadLetterFile {
 public:
  DeadLetterFile(std::string data_dir, std::string sink, Metrics& metrics);
  ~DeadLetterFile();
  DeadLetterFile(const DeadLetterFile&) = delete;
  DeadLetterFile& operator=(const DeadLetterFile&) = delete;

  // One line: {"time":"…","sink":"…","reason":"…","alert":<the alert's JSON>}. Thread-safe.
  void add(const Alert& alert, std::string_view reason);
  // Bytes that are no longer an alert (a damaged disk-buffer record), kept as they were:
  // {"time":"…","sink":"…","reason":"…","raw":"<the bytes in base64>"}. Not counted as a dead letter; the buffer
  // counts them. Thread-safe.
  void add_raw(std::string_view bytes, std::string_view reason);
  const std::string& path() const noexcept { return path_; }

 private:
  void append(const std::string& line);

  std::string path_;
  std::string sink_;
  std::mutex mu_;
  int fd_ = -1;
  Counter& count_;
};

}  // namespace saker
