#include "sinks/syslog/config.hpp"

#include <unistd.h>

#include <charconv>
#include <climits>
#include <utility>

#include <fmt/format.h>

#include "sinks/sink.hpp"

namespace saker {
namespace {

constexpr std::pair<std::string_view, int> kFacilities[] = {
    {"kern", 0},     {"user", 1},      {"mail", 2},     {"daemon", 3},   {"auth", 4},    {"syslog", 5},
    {"lpr", 6},      {"news", 7},      {"uucp", 8},     {"cron", 9},     {"authpriv", 10}, {"ftp", 11},
    {"ntp", 12},     {"security", 13}, {"audit", 13},   {"console", 14}, {"alert", 14},  {"clock", 15},
    {"local0", 16},  {"local1", 17},   {"local2", 18},  {"local3", 19},  {"local4", 20}, {"local5", 21},
    {"local6", 22},  {"local7", 23},   {"solaris-cron", 15}, {"logalert", 14},
};

bool printusascii(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 33 || c > 126) return false;
  }
  return true;
}

// Checks a fixed header value: RFC 5424 allows only PRINTUSASCII, up to `max` characters.
void check_header(const ConfigReader& r, const char* key, const std::string& value, std::size_t max) {
  if (value.empty() || value.size() > max || !printusascii(value)) {
    r.errors.add(r.node[key], r.key_name(key),
                 fmt::format("must be 1 to {} printable ASCII characters without spaces (RFC 5424), got \"{}\"", max,
                             value));
  }
}

// SD-ID = SD-NAME (1*32 PRINTUSASCII except = SP ] "), a private one being name@<enterprise number>.
bool valid_sd_id(std::string_view id) {
  if (id.empty() || id.size() > 32 || !printusascii(id) || id.find_first_of("=]\"") != std::string_view::npos) {
    return false;
  }
  const auto at = id.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == id.size()) return false;
  for (char c : id.substr(at + 1)) {
    if ((c < '0' || c > '9') && c != '.') return false;
  }
  return true;
}

std::string this_host() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "-";
  return buf;
}

}  // namespace

std::optional<SyslogAddress> parse_syslog_address(std::string_view text) {
  SyslogAddress a;
  a.text = std::string(text);
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  const std::string_view scheme = text.substr(0, sep);
  std::string_view rest = text.substr(sep + 3);
  std::uint16_t default_port = 0;
  if (scheme == "udp") {
    a.kind = SyslogTransportKind::Udp;
    default_port = 514;
  } else if (scheme == "tcp") {
    a.kind = SyslogTransportKind::Tcp;
    default_port = 601;
  } else if (scheme == "tls") {
    a.kind = SyslogTransportKind::Tls;
    default_port = 6514;
  } else {
    return std::nullopt;
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  std::string_view port_text;
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    a.host = std::string(rest.substr(1, close - 1));
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return std::nullopt;
      port_text = after.substr(1);
      if (port_text.empty()) return std::nullopt;
    }
  } else {
    const auto colon = rest.rfind(':');
    if (colon != std::string_view::npos) {
      if (rest.find(':') != colon) return std::nullopt;  // a bare IPv6 address needs brackets
      port_text = rest.substr(colon + 1);
      if (port_text.empty()) return std::nullopt;
      rest = rest.substr(0, colon);
    }
    a.host = std::string(rest);
  }
  if (a.host.empty() || a.host.find_first_of("/ ?#@") != std::string::npos) return std::nullopt;
  a.port = default_port;
  if (!port_text.empty()) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), v);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || v == 0 || v > 65535) return std::nullopt;
    a.port = static_cast<std::uint16_t>(v);
  }
  return a;
}

std::optional<int> parse_syslog_facility(std::string_view text) {
  int n = -1;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc() && p == text.data() + text.size()) {
    if (n >= 0 && n <= 23) return n;
    return std::nullopt;
  }
  for (const auto& [name, code] : kFacilities) {
    if (name == text) return code;
  }
  return std::nullopt;
}

SyslogConfig read_syslog_config(const ConfigReader& r) {
  r.only({"address", "protocol", "framing", "facility", "app_name", "hostname", "msg_id", "sd_id", "bom",
          "max_udp_size", "tls", "connect_timeout", "write_timeout"},
         kCommonSinkKeys);
  SyslogConfig cfg;
  SyslogMessageOptions& m = cfg.message;

  const std::string address = r.string("address", "", true);
  if (auto a = parse_syslog_address(address)) {
    cfg.address = std::move(*a);
  } else if (!address.empty()) {
    r.errors.add(r.node["address"], r.key_name("address"),
                 fmt::format("must be udp://host:port, tcp://host:port or tls://host:port, got \"{}\"", address));
  }
  const bool stream = cfg.address.kind != SyslogTransportKind::Udp;

  const std::string protocol = r.string("protocol", "rfc5424");
  if (protocol == "rfc3164") {
    m.protocol = SyslogProtocol::Rfc3164;
  } else if (protocol != "rfc5424") {
    r.errors.add(r.node["protocol"], r.key_name("protocol"), fmt::format("must be rfc5424 or rfc3164, got \"{}\"", protocol));
  }

  m.framing = stream ? SyslogFraming::OctetCounting : SyslogFraming::None;
  if (r.has("framing")) {
    const std::string framing = r.string("framing");
    if (!stream) {
      r.errors.add(r.node["framing"], r.key_name("framing"), "applies to tcp:// and tls:// only (UDP sends one message per datagram)");
    } else if (framing == "newline") {
      m.framing = SyslogFraming::Newline;
    } else if (framing != "octet-counting") {
      r.errors.add(r.node["framing"], r.key_name("framing"), fmt::format("must be octet-counting or newline, got \"{}\"", framing));
    }
  }

  const std::string facility = r.string("facility", "local0");
  if (auto f = parse_syslog_facility(facility)) {
    m.facility = *f;
  } else {
    r.errors.add(r.node["facility"], r.key_name("facility"),
                 fmt::format("must be a facility name (local0..local7, user, daemon, auth, ...) or 0..23, got \"{}\"", facility));
  }

  m.app_name = r.string("app_name", "falco");
  check_header(r, "app_name", m.app_name, m.protocol == SyslogProtocol::Rfc3164 ? 32 : 48);
  if (m.protocol == SyslogProtocol::Rfc3164 && m.app_name.find_first_of(":[]") != std::string::npos) {
    r.errors.add(r.node["app_name"], r.key_name("app_name"), "must not contain ':', '[' or ']' with rfc3164 (it is the TAG)");
  }

  const std::string hostname = r.string("hostname", "alert");
  if (hostname != "alert") {
    m.hostname_from_alert = false;
    m.hostname = hostname;
    check_header(r, "hostname", hostname, 255);
  }
  m.local_hostname = this_host();

  const std::string msg_id = r.string("msg_id", "-");
  if (msg_id == "rule") {
    m.msg_id = SyslogMsgId::Rule;
  } else if (msg_id != "-" && msg_id != "none" && !msg_id.empty()) {
    m.msg_id = SyslogMsgId::Fixed;
    m.msg_id_text = msg_id;
    check_header(r, "msg_id", msg_id, 32);
  }

  m.sd_id = r.string("sd_id", m.sd_id);
  if (m.sd_id == "-" || m.sd_id == "none") m.sd_id.clear();
  if (!m.sd_id.empty() && !valid_sd_id(m.sd_id)) {
    r.errors.add(r.node["sd_id"], r.key_name("sd_id"),
                 fmt::format("must be name@<enterprise number> of at most 32 printable characters without = ] \" or "
                             "spaces (RFC 5424 section 6.3.2), or \"-\" for no structured data; got \"{}\"", m.sd_id));
  }
  m.bom = r.boolean("bom", false);

  cfg.max_udp_size = static_cast<std::size_t>(r.integer("max_udp_size", 2048, 480, 65507));
  for (auto [key, value] : {std::pair{"connect_timeout", &cfg.connect_timeout}, {"write_timeout", &cfg.write_timeout}}) {
    *value = r.duration(key, *value);
    if (value->count() <= 0) {
      r.errors.add(r.node[key], r.key_name(key), "must be greater than 0");
      *value = std::chrono::milliseconds(1000);
    }
  }

  cfg.tls = parse_tls_options(r);
  if (cfg.address.kind == SyslogTransportKind::Tls) {
    if (r.has("tls") && !cfg.tls.enabled) {
      r.errors.add(r.node["tls"], r.key_name("tls"), "cannot be disabled with a tls:// address (use tcp://)");
    }
    cfg.tls.enabled = true;
  } else if (r.has("tls") && cfg.tls.enabled) {
    r.errors.add(r.node["tls"], r.key_name("tls"), "needs a tls:// address (RFC 5425)");
  }
  if (cfg.tls.server_name.empty()) cfg.tls.server_name = cfg.address.host;
  return cfg;
}

}  // namespace saker
