#pragma once
// The `syslog` sink's settings, read and checked once at config time (see docs/sinks/syslog.md).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/node.hpp"
#include "sinks/tls_options.hpp"

namespace saker {

enum class SyslogTransportKind : std::uint8_t { Udp, Tcp, Tls };
enum class SyslogProtocol : std::uint8_t { Rfc5424, Rfc3164 };
enum class SyslogFraming : std::uint8_t { OctetCounting, Newline, None };  // None: UDP, one datagram per message
enum class SyslogMsgId : std::uint8_t { None, Rule, Fixed };

// What goes into each message's header; shared by both formats.
struct SyslogMessageOptions {
  SyslogProtocol protocol = SyslogProtocol::Rfc5424;
  int facility = 16;  // local0
  std::string app_name = "falco";
  bool hostname_from_alert = true;
  std::string hostname;           // fixed hostname when !hostname_from_alert
  std::string local_hostname;     // RFC 3164 relay fallback for alerts without a hostname
  SyslogMsgId msg_id = SyslogMsgId::None;
  std::string msg_id_text;        // when msg_id == Fixed
  std::string sd_id = "falco@32473";  // "" turns structured data off
  bool bom = false;               // UTF-8 BOM before MSG (RFC 5424 only)
  SyslogFraming framing = SyslogFraming::OctetCounting;
};

struct SyslogAddress {
  SyslogTransportKind kind = SyslogTransportKind::Udp;
  std::string host;
  std::uint16_t port = 0;
  std::string text;  // as configured, for messages
};

struct SyslogConfig {
  SyslogAddress address;
  SyslogMessageOptions message;
  std::size_t max_udp_size = 2048;
  TlsOptions tls;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds write_timeout{10000};
};

// "udp://host:514", "tcp://[::1]:601", "tls://siem.example:6514"; the port defaults to 514/601/6514.
std::optional<SyslogAddress> parse_syslog_address(std::string_view text);
// "local0".."local7", "user", "daemon", "auth", ... or "0".."23".
std::optional<int> parse_syslog_facility(std::string_view text);

// Reads and checks every option, recording errors in r.errors.
SyslogConfig read_syslog_config(const ConfigReader& r);

}  // namespace saker
