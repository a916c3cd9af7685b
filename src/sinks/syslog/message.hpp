#pragma once
// Pieces both syslog formats and the transport share: PRI, header sanitizing, framing, UTF-8-safe truncation.
#include <cstddef>
#include <string>
#include <string_view>

#include "core/alert.hpp"
#include "sinks/syslog/config.hpp"

namespace saker {

// PRI = facility * 8 + severity (RFC 5424 section 6.2.1), severity from the Falco priority.
inline int syslog_pri(int facility, Priority p) noexcept { return facility * 8 + syslog_severity(p); }

// Appends `value` as a header field: bytes outside PRINTUSASCII (33..126) become '_', the value is cut at
// `max` characters, and an empty value is the NILVALUE "-" (RFC 5424 section 6).
void append_header_field(std::string& out, std::string_view value, std::size_t max);

// The HOSTNAME for `alert`: the fixed one, else the alert's ("" when it has none; each format decides).
std::string_view header_hostname(const Alert& alert, const SyslogMessageOptions& o) noexcept;

// Appends one message for a stream: "LEN SP MSG" (RFC 6587 octet-counting) or MSG LF, where every raw LF/CR
// inside MSG is written as the two characters \n / \r so it cannot split the record. None: MSG as is.
void append_frame(std::string& out, std::string_view msg, SyslogFraming framing);

// Length of the longest prefix of `s` of at most `max` bytes that does not cut a UTF-8 sequence.
std::size_t utf8_prefix(std::string_view s, std::size_t max) noexcept;

}  // namespace saker
