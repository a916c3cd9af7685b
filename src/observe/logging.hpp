#pragma once
// saker's own log on stderr: `text` for people, or `json` for log shippers, one object per line:
//   {"time":"2025-06-02T08:00:00.104+00:00","level":"warning","message":"sink siem: ..."}
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "config/node.hpp"

namespace saker {

// The values placeholders brought into the config, kept out of every log message (shown as their placeholder).
// Values shorter than 4 characters (a port digit, "info") are left alone: a log line would lose too much.
class LogRedactor {
 public:
  void add(const Redactions& redactions);  // a reloaded config's too; the old ones stay
  std::string apply(std::string_view message) const;

 private:
  mutable std::mutex mu_;
  Redactions redactions_;
};

// `level` is one of spdlog's names (trace ... off); `format` is "text" or "json". The returned redactor takes
// the values of configs loaded later.
std::shared_ptr<LogRedactor> setup_logging(const std::string& level, std::string_view format,
                                           const Redactions& redactions = {});

}  // namespace saker
