#include "enrich/feeds/host_tokens.hpp"

namespace saker {

namespace {

constexpr bool trailing_punct(char c) noexcept {
  return c == '.' || c == ':' || c == '!' || c == '?' || c == ']' || c == '[' || c == '/' || c == '\\' || c == '*';
}

constexpr bool digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool letter(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

}  // namespace

HostToken token_host(std::string_view t) noexcept {
  HostToken out;
  if (const auto scheme = t.find("://"); scheme != std::string_view::npos) {
    out.url = true;
    t.remove_prefix(scheme + 3);
    t = t.substr(0, t.find_first_of("/?#\\"));
    if (const auto at = t.rfind('@'); at != std::string_view::npos) t.remove_prefix(at + 1);
    if (!t.empty() && t.front() == '[') {
      const auto close = t.find(']');
      out.host = close == std::string_view::npos ? std::string_view() : t.substr(1, close - 1);
      return out;
    }
    t = t.substr(0, t.find(':'));
  } else {
    while (!t.empty() && (trailing_punct(t.front()) || t.front() == '-')) t.remove_prefix(1);
    if (const auto at = t.find('@'); at != std::string_view::npos) t.remove_prefix(at + 1);  // user@host
    t = t.substr(0, t.find_first_of("/?#\\"));
    if (const auto colon = t.find(':'); colon != std::string_view::npos) {
      // host:port or host:path (scp); a text with more colons is an IPv6 address or nothing saker looks up.
      if (t.find(':', colon + 1) != std::string_view::npos) return out;
      t = t.substr(0, colon);
    }
  }
  while (!t.empty() && trailing_punct(t.back())) t.remove_suffix(1);
  out.host = t;
  return out;
}

bool looks_like_domain(std::string_view host) noexcept {
  if (host.empty() || host.size() > 253) return false;
  std::size_t label = 0, labels = 1, last = 0;
  for (std::size_t i = 0; i < host.size(); ++i) {
    const char c = host[i];
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      last = i + 1;
      ++labels;
    } else if (letter(c) || digit(c) || c == '-' || c == '_') {
      if (++label > 63) return false;
    } else {
      return false;
    }
  }
  if (labels < 2 || label < 2) return false;
  const std::string_view tld = host.substr(last);
  if (tld.size() > 4 && (tld[0] == 'x' || tld[0] == 'X') && (tld[1] == 'n' || tld[1] == 'N') && tld[2] == '-' &&
      tld[3] == '-') {
    return true;
  }
  for (char c : tld) {
    if (!letter(c)) return false;
  }
  return true;
}

}  // namespace saker
