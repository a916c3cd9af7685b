#pragma once
// RFC 5424 messages: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID param="value" ...] MSG, plus
// [saker@<PEN> name="value" ... tags="..."] for the fields and tags stages added.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/alert.hpp"
#include "format/formatter.hpp"
#include "sinks/syslog/config.hpp"

namespace saker {

// RFC 5424 header limits (section 6).
inline constexpr std::size_t kSyslogHostnameMax = 255;
inline constexpr std::size_t kSyslogAppNameMax = 48;
inline constexpr std::size_t kSyslogProcIdMax = 128;
inline constexpr std::size_t kSyslogMsgIdMax = 32;
inline constexpr std::size_t kSdNameMax = 32;  // SD-NAME (section 6.3.3)

// RFC 3339 in UTC with microseconds ("2024-05-07T18:54:19.341081Z").
void append_rfc5424_timestamp(std::string& out, std::int64_t ns);

// Appends a PARAM-VALUE's content: '"', '\' and ']' escaped with '\' (section 6.3.3); control characters
// (which would break newline framing and many parsers) become spaces.
void append_sd_value(std::string& out, std::string_view value);

// Appends `name` as a PARAM-NAME (an SD-NAME): bytes outside PRINTUSASCII and '=', ']', '"' become '_', the name
// is cut at 32 characters, and an empty one is "_".
void append_sd_name(std::string& out, std::string_view name);

// Appends one message without framing; MSG is `formatter`'s record for the alert.
void format_rfc5424(const Alert& alert, const SyslogMessageOptions& o, const Formatter& formatter, std::string& out);

}  // namespace saker
