#include "enrich/ip_fields.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace saker {

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

IpAddress IpAddress::unmapped() const noexcept {
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (v4 || std::memcmp(bytes.data(), kMapped, 12) != 0) return *this;
  IpAddress out;
  out.v4 = true;
  std::memcpy(out.bytes.data(), bytes.data() + 12, 4);
  return out;
}

std::optional<IpAddress> parse_ip(std::string_view text) noexcept {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (const auto zone = text.find('%'); zone != std::string_view::npos) text = text.substr(0, zone);
  // The longest textual address (an IPv6 address ending in IPv4 form) is 45 characters.
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip;
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, ip.bytes.data()) != 1) return std::nullopt;
    ip.v4 = true;
    return ip;
  }
  if (inet_pton(AF_INET6, buf, ip.bytes.data()) != 1) return std::nullopt;
  return ip;
}

IpScope ip_scope(const IpAddress& in) noexcept {
  const IpAddress ip = in.unmapped();
  const auto& b = ip.bytes;
  if (ip.v4) {
    if (b[0] == 0) return b[1] == 0 && b[2] == 0 && b[3] == 0 ? IpScope::Unspecified : IpScope::Reserved;
    if (b[0] == 127) return IpScope::Loopback;
    if (b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168)) return IpScope::Private;
    if (b[0] == 100 && (b[1] & 0xc0) == 64) return IpScope::Private;  // 100.64.0.0/10, carrier-grade NAT
    if (b[0] == 169 && b[1] == 254) return IpScope::LinkLocal;
    if (b[0] >= 224 && b[0] <= 239) return IpScope::Multicast;
    if (b[0] >= 240) return IpScope::Reserved;
    return IpScope::Public;
  }
  bool zero = true;
  for (int i = 0; i < 15; ++i) zero = zero && b[i] == 0;
  if (zero) return b[15] == 0 ? IpScope::Unspecified : b[15] == 1 ? IpScope::Loopback : IpScope::Reserved;
  if ((b[0] & 0xfe) == 0xfc) return IpScope::Private;                 // fc00::/7, unique local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return IpScope::LinkLocal;  // fe80::/10
  if (b[0] == 0xff) return IpScope::Multicast;
  return IpScope::Public;
}

std::string_view ip_scope_name(IpScope s) noexcept {
  switch (s) {
    case IpScope::Public: return "public";
    case IpScope::Private: return "private";
    case IpScope::Loopback: return "loopback";
    case IpScope::LinkLocal: return "link_local";
    case IpScope::Multicast: return "multicast";
    case IpScope::Unspecified: return "unspecified";
    case IpScope::Reserved: return "reserved";
  }
  return "reserved";
}

namespace {

// "addr:port" (IPv4), "addr:port" with addr IPv6 (the port after the last ':'), "[addr]:port": the address part.
std::string_view endpoint_address(std::string_view end) noexcept {
  if (!end.empty() && end.front() == '[') {
    const auto close = end.find(']');
    return close == std::string_view::npos ? std::string_view() : end.substr(1, close - 1);
  }
  const auto colon = end.rfind(':');
  if (colon == std::string_view::npos) return {};
  const std::string_view port = end.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) return {};
  return end.substr(0, colon);
}

}  // namespace

IpTuple parse_ip_tuple(std::string_view fd_name) noexcept {
  IpTuple t;
  const auto arrow = fd_name.find("->");
  if (arrow == std::string_view::npos || fd_name.size() > 128) return t;
  t.client_text = endpoint_address(fd_name.substr(0, arrow));
  t.server_text = endpoint_address(fd_name.substr(arrow + 2));
  if (!t.client_text.empty()) t.client = parse_ip(t.client_text);
  if (!t.server_text.empty()) t.server = parse_ip(t.server_text);
  if (!t.client) t.client_text = {};
  if (!t.server) t.server_text = {};
  return t;
}

void alert_ips(const Alert& alert, const std::vector<std::string>& fields, std::vector<AlertIp>& out) {
  out.clear();
  const auto named = [&out](std::string_view field) {
    for (const AlertIp& a : out) {
      if (a.field == field) return true;
    }
    return false;
  };
  std::string_view tuple;
  for (const std::string& name : fields) {
    Value v;
    if (!alert.lookup(name, v) || v.kind != Value::Kind::String) continue;
    if (name == "fd.name") {
      tuple = v.text;  // after the fields themselves: fd.cip and fd.sip win over what fd.name says
      continue;
    }
    if (named(name)) continue;
    if (auto ip = parse_ip(v.text)) out.push_back({name, name, v.text, *ip});
  }
  if (tuple.empty()) return;
  const IpTuple t = parse_ip_tuple(tuple);
  const auto has = [&alert](std::string_view name) {
    Value v;
    return alert.lookup(name, v);
  };
  if (t.client && !named("fd.cip") && !has("fd.cip")) out.push_back({"fd.cip", "fd.name", t.client_text, *t.client});
  if (t.server && !named("fd.sip") && !has("fd.sip")) out.push_back({"fd.sip", "fd.name", t.server_text, *t.server});
}

}  // namespace saker
