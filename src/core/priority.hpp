#pragma once
// Falco priorities, ordered by severity (Falco's own numeric codes run the other way).
#include <cstdint>
#include <optional>
#include <string_view>

namespace saker {

enum class Priority : std::uint8_t {
  Debug = 0,
  Informational = 1,
  Notice = 2,
  Warning = 3,
  Error = 4,
  Critical = 5,
  Alert = 6,
  Emergency = 7,
};

// Case-insensitive; accepts Falco's names and the short forms users type ("info", "warn", "err", "crit", "emerg").
std::optional<Priority> parse_priority(std::string_view name) noexcept;

// Falco's canonical spelling: "Warning", "Informational", ...
std::string_view to_string(Priority p) noexcept;

// syslog severity (RFC 5424: 0 = emergency ... 7 = debug); equals Falco's numeric code.
inline int syslog_severity(Priority p) noexcept { return 7 - static_cast<int>(p); }

}  // namespace saker
