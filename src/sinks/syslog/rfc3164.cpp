#include "sinks/syslog/rfc3164.hpp"

#include <fmt/format.h>

#include "core/time.hpp"
#include "sinks/syslog/message.hpp"
#include "sinks/syslog/rfc5424.hpp"

namespace saker {

void append_rfc3164_timestamp(std::string& out, std::int64_t ns) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // Reuse the RFC 3339 rendering "YYYY-MM-DDTHH:MM:SS..." (int64 nanoseconds always give a 4-digit year).
  const std::string t = format_rfc3339_ns(ns);
  const int month = (t[5] - '0') * 10 + (t[6] - '0');
  const int day = (t[8] - '0') * 10 + (t[9] - '0');
  fmt::format_to(std::back_inserter(out), "{} {:>2} {}", kMonths[(month + 11) % 12], day, std::string_view(t).substr(11, 8));
}

void format_rfc3164(const Alert& a, const SyslogMessageOptions& o, const Formatter& formatter, std::string& out) {
  fmt::format_to(std::back_inserter(out), "<{}>", syslog_pri(o.facility, a.priority));
  append_rfc3164_timestamp(out, a.time_ns);
  out.push_back(' ');
  const std::string_view host = header_hostname(a, o);
  append_header_field(out, host.empty() ? std::string_view(o.local_hostname) : host, kSyslogHostnameMax);
  out.push_back(' ');
  out.append(o.app_name);  // checked at config time: 1..32 printable characters without ':' '[' ']'
  out.append(": ");
  formatter.format(a, out);
}

}  // namespace saker
