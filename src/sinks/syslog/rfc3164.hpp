#pragma once
// RFC 3164 (BSD) messages: <PRI>Mmm dd hh:mm:ss HOSTNAME TAG: MSG, for receivers that predate RFC 5424.
#include <cstdint>
#include <string>

#include "core/alert.hpp"
#include "format/formatter.hpp"
#include "sinks/syslog/config.hpp"

namespace saker {

// "Mmm dd hh:mm:ss" in UTC, the day padded with a space ("May  7 18:54:19"); RFC 3164 has no year or zone.
void append_rfc3164_timestamp(std::string& out, std::int64_t ns);

// Appends one message without framing. HOSTNAME falls back to this machine's name when the alert has none
// (what RFC 3164 section 4.3.3 asks of a relay); TAG is app_name.
void format_rfc3164(const Alert& alert, const SyslogMessageOptions& o, const Formatter& formatter, std::string& out);

}  // namespace saker
