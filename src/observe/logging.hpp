#pragma once
// saker's own log on stderr: `text` for people, or `json` for log shippers, one object per line:
//   {"time":"2025-06-02T08:00:00.104+00:00","level":"warning","message":"sink siem: ..."}
#include <memory>
#include <string>
#include <string_view>

#include "config/node.hpp"
#include "observe/redact.hpp"

namespace saker {

// `level` is one of spdlog's names (trace ... off); `format` is "text" or "json". Every message goes through the
// returned redactor, which takes the values of configs loaded later; /healthz and /metrics share it.
std::shared_ptr<SecretRedactor> setup_logging(const std::string& level, std::string_view format,
                                              const Redactions& redactions = {});
// A reload's log_level and log_format, applied to the logger setup_logging() made, with the same redactor (a log
// that started as JSON has no colours after a switch to text).
void reconfigure_logging(const std::string& level, std::string_view format,
                         std::shared_ptr<const SecretRedactor> redactor);

}  // namespace saker
