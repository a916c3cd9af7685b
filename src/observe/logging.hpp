#pragma once
// saker's own log on stderr: `text` for people, or `json` for log shippers, one object per line:
//   {"time":"2025-06-02T08:00:00.104+00:00","level":"warning","message":"sink siem: ..."}
#include <string>
#include <string_view>

namespace saker {

// `level` is one of spdlog's names (trace ... off); `format` is "text" or "json".
void setup_logging(const std::string& level, std::string_view format);

// Appends `s` to `out` escaped for the inside of a JSON string; bytes that are not valid UTF-8 become U+FFFD,
// so a line stays parseable whatever an alert or a peer put in the message.
void append_json_escaped(std::string& out, std::string_view s);

}  // namespace saker
