#pragma once
// `syslog`: alerts as RFC 5424 (or RFC 3164) messages over UDP, TCP or TLS to rsyslog, syslog-ng or a SIEM.
//   address: tls://siem.example:6514   (required; udp://host:514 | tcp://host:601 | tls://host:6514)
//   protocol: rfc5424                  (or rfc3164)
//   framing: octet-counting            (tcp/tls; or newline)
//   facility: local0                   app_name: falco     hostname: alert (the alert's) | <fixed>
//   msg_id: "-" (none) | rule | <fixed>                    sd_id: falco@32473 | "-" (no structured data)
//   bom: false   max_udp_size: 2048   connect_timeout: 5s   write_timeout: 10s
//   tls: {ca, cert, key, server_name, verify}
// docs/sinks/syslog.md has the details and the exact message layout.
#include <string>

#include "sinks/sink.hpp"
#include "sinks/syslog/config.hpp"

namespace saker {

SinkBuilder parse_syslog_sink(const ConfigReader& r);

// One alert as it goes on the wire: the message in the configured protocol, cut to max_udp_size for UDP,
// framed for TCP/TLS; appended to `out` (`scratch` is working space). Returns true when the message was cut.
bool append_syslog_record(const Alert& alert, const SyslogConfig& cfg, const Formatter& formatter,
                          std::string& scratch, std::string& out);

}  // namespace saker
