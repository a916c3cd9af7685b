#include "sinks/syslog/message.hpp"

#include <fmt/format.h>

namespace saker {

void append_header_field(std::string& out, std::string_view value, std::size_t max) {
  if (value.empty()) {
    out.push_back('-');
    return;
  }
  if (value.size() > max) value = value.substr(0, max);
  for (unsigned char c : value) out.push_back(c >= 33 && c <= 126 ? static_cast<char>(c) : '_');
}

std::string_view header_hostname(const Alert& alert, const SyslogMessageOptions& o) noexcept {
  return o.hostname_from_alert ? alert.hostname : std::string_view(o.hostname);
}

void append_frame(std::string& out, std::string_view msg, SyslogFraming framing) {
  switch (framing) {
    case SyslogFraming::OctetCounting:
      fmt::format_to(std::back_inserter(out), "{} ", msg.size());
      out.append(msg);
      return;
    case SyslogFraming::Newline:
      for (char c : msg) {
        if (c == '\n') {
          out.append("\\n");
        } else if (c == '\r') {
          out.append("\\r");
        } else {
          out.push_back(c);
        }
      }
      out.push_back('\n');
      return;
    case SyslogFraming::None:
      out.append(msg);
      return;
  }
}

std::size_t utf8_prefix(std::string_view s, std::size_t max) noexcept {
  if (s.size() <= max) return s.size();
  std::size_t n = max;
  // Step back over continuation bytes (10xxxxxx) to the start of the sequence that would be cut.
  while (n > 0 && max - n < 3 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

}  // namespace saker
