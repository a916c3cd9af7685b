#pragma once
// The IP addresses an alert names, for the enrichers that look them up (geoip, threat_intel): Falco's address
// fields (fd.sip, fd.cip, fd.rip, fd.lip, ...) and the two ends of a connection in fd.name ("a:port->b:port", IPv4
// or IPv6, an IPv6 address with or without brackets).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/alert.hpp"

namespace saker {

// An IPv4 or IPv6 address: IPv4 as its 4 bytes in bytes[0..3], IPv6 as 16.
struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};
  bool v4 = false;

  std::size_t size() const noexcept { return v4 ? 4 : 16; }
  // The address's bit `i` (0: the most significant of the first byte).
  bool bit(std::size_t i) const noexcept { return (bytes[i / 8] >> (7 - i % 8)) & 1; }
  std::string to_string() const;
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address it maps; other addresses unchanged.
  IpAddress unmapped() const noexcept;
  bool operator==(const IpAddress&) const = default;
};

// Parses a textual IPv4 ("10.0.0.1") or IPv6 ("2001:db8::1", "[2001:db8::1]", "fe80::1%eth0": the zone is
// dropped) address; nothing else (no port, no name, no surrounding spaces).
std::optional<IpAddress> parse_ip(std::string_view text) noexcept;

// Address ranges that say where an address is, not who: these are not looked up in public databases or feeds.
enum class IpScope : std::uint8_t { Public, Private, Loopback, LinkLocal, Multicast, Unspecified, Reserved };
IpScope ip_scope(const IpAddress& ip) noexcept;
// The scope as a field value: "public", "private", "loopback", "link_local", "multicast", "unspecified",
// "reserved".
std::string_view ip_scope_name(IpScope s) noexcept;

// The two ends of a connection tuple as Falco writes fd.name: "10.0.0.1:40000->10.0.0.2:443",
// "2001:db8::1:40000->2001:db8::2:443", "[2001:db8::1]:40000->[2001:db8::2]:443". Either end may be absent (a
// text that is not a tuple gives neither).
struct IpTuple {
  std::optional<IpAddress> client, server;
  std::string_view client_text, server_text;  // the address texts, as in the tuple (without brackets or port)
};
IpTuple parse_ip_tuple(std::string_view fd_name) noexcept;

// One address an alert names: the field it is named by and the field it was read from (the same, but for the ends
// of fd.name: its client is named fd.cip and its server fd.sip, as Falco names them), and the address as written.
struct AlertIp {
  std::string field;       // "fd.sip", "fd.cip", ...: the enricher's fields are prefixed with it
  std::string_view from;   // the field read: `field`, or "fd.name"
  std::string_view text;   // the address as written there
  IpAddress ip;
};

// The addresses the alert holds in `fields` (each a field name; "fd.name" is read as a tuple and gives fd.cip and
// fd.sip, unless the alert has those fields itself). A field that is absent, not a string, or not an address is
// skipped; so is a name already given. `out` is cleared first.
void alert_ips(const Alert& alert, const std::vector<std::string>& fields, std::vector<AlertIp>& out);

// Falco's address fields, the default of the enrichers that read addresses.
inline const std::vector<std::string>& default_ip_fields() {
  static const std::vector<std::string> k{"fd.sip", "fd.cip", "fd.rip", "fd.lip", "fd.name"};
  return k;
}

}  // namespace saker
