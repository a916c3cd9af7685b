#pragma once
// The host names and URL hosts in free text (a command line): what threat_intel looks up as domains. Text is split on
// whitespace, quotes and shell punctuation; each token gives at most one host: a URL's host
// ("https://user@evil.com:8443/x" -> evil.com), "host:port" or "user@host:path" -> host, or the token itself. The
// work is bounded whatever the text: at most `max_tokens` tokens and `max_scan_bytes` bytes are looked at, and a
// token longer than `max_token_bytes` is skipped.
#include <cstddef>
#include <string_view>

namespace saker {

struct HostTokenLimits {
  std::size_t max_tokens = 64;
  std::size_t max_token_bytes = 512;
  std::size_t max_scan_bytes = 16384;
};

struct HostToken {
  std::string_view host;  // without port, brackets, user or trailing dot
  bool url = false;       // the token was a URL (scheme://...)
};

// The host a token names, or an empty host.
HostToken token_host(std::string_view token) noexcept;

// Whether `host` looks like a domain name: labels of letters, digits, '-' and '_' joined by dots, at least two, the
// last (the top-level domain) letters only or an IDN "xn--" label.
bool looks_like_domain(std::string_view host) noexcept;

constexpr bool is_token_separator(char c) noexcept {
  switch (c) {
    case ' ': case '\t': case '\n': case '\r': case '\v': case '\f':
    case '"': case '\'': case '`': case '=': case ',': case ';': case '|': case '&': case '<': case '>':
    case '(': case ')': case '{': case '}':
      return true;
    default:
      return false;
  }
}

// Calls f(HostToken) for each token of `text` that names a host, within `limits`.
template <typename F>
void for_each_host(std::string_view text, const HostTokenLimits& limits, F&& f) {
  const std::size_t end = text.size() < limits.max_scan_bytes ? text.size() : limits.max_scan_bytes;
  std::size_t tokens = 0;
  std::size_t i = 0;
  while (i < end && tokens < limits.max_tokens) {
    while (i < end && is_token_separator(text[i])) ++i;
    const std::size_t from = i;
    while (i < end && !is_token_separator(text[i])) ++i;
    if (i == from) break;
    ++tokens;
    if (i == end && end < text.size()) break;  // cut by the scan limit: not a whole token
    if (i - from > limits.max_token_bytes) continue;
    const HostToken h = token_host(text.substr(from, i - from));
    if (!h.host.empty()) f(h);
  }
}

}  // namespace saker
