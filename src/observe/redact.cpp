#include "observe/redact.hpp"

#include <cctype>

namespace saker {
namespace {

constexpr std::string_view kHidden = "***";

bool scheme_char(char c) {  // RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
}

// Where a URL's authority ends: its path, query or fragment, or whatever cannot be part of a URL in a message.
bool authority_end(char c) {
  return c == '/' || c == '?' || c == '#' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '\\' ||
         std::isspace(static_cast<unsigned char>(c)) != 0;
}

// `scheme://user:password@host` -> `scheme://user:***@host`.
std::string hide_userinfo(std::string_view text) {
  std::string out;
  std::size_t copied = 0;
  std::size_t from = 0;
  for (std::size_t at; (at = text.find("://", from)) != std::string_view::npos;) {
    const std::size_t begin = at + 3;
    std::size_t end = begin;
    while (end < text.size() && !authority_end(text[end])) ++end;
    from = end > begin ? end : begin;
    if (at == 0 || !scheme_char(text[at - 1])) continue;
    const std::size_t atsign = text.substr(begin, end - begin).rfind('@');
    if (atsign == std::string_view::npos || atsign == 0) continue;
    const std::size_t colon = text.substr(begin, atsign).find(':');
    const std::size_t hide_from = colon == std::string_view::npos ? begin : begin + colon + 1;
    out.append(text.substr(copied, hide_from - copied)).append(kHidden);
    copied = begin + atsign;  // the '@' and the host stay
  }
  if (copied == 0) return std::string(text);
  out.append(text.substr(copied));
  return out;
}

bool iequals_at(std::string_view text, std::size_t at, std::string_view word) {
  if (text.size() - at < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[at + i])) != word[i]) return false;
  }
  return true;
}

// The schemes of the IANA HTTP Authentication Scheme Registry, and those of the SIEMs saker sends to.
bool auth_scheme(std::string_view word) {
  static constexpr std::string_view kSchemes[] = {"basic",        "bearer",      "digest",        "dpop",
                                                  "gnap",         "hoba",        "mutual",        "negotiate",
                                                  "ntlm",         "oauth",       "privatetoken",  "scram-sha-1",
                                                  "scram-sha-256", "vapid",      "concealed",     "apikey",
                                                  "splunk",       "token",       "aws4-hmac-sha256"};
  for (const std::string_view s : kSchemes) {
    if (word.size() == s.size() && iequals_at(word, 0, s)) return true;
  }
  return false;
}

// `Authorization: Basic dXNlcjpwYXNz` -> `Authorization: Basic ***`; also `"authorization":"Bearer x"` and
// `authorization=x`. The value runs to the end of its line or its closing quote.
std::string hide_authorization(std::string_view text) {
  static constexpr std::string_view kName = "authorization";
  std::string out;
  std::size_t copied = 0;
  for (std::size_t i = 0; i + kName.size() <= text.size(); ++i) {
    if (!iequals_at(text, i, kName)) continue;
    std::size_t p = i + kName.size();
    if (p < text.size() && (text[p] == '"' || text[p] == '\'')) ++p;
    while (p < text.size() && text[p] == ' ') ++p;
    if (p >= text.size() || (text[p] != ':' && text[p] != '=')) continue;
    ++p;
    while (p < text.size() && text[p] == ' ') ++p;
    char quote = 0;
    if (p < text.size() && (text[p] == '"' || text[p] == '\'')) quote = text[p++];
    auto ends = [&](char c) {
      if (c == '\r' || c == '\n') return true;
      return quote != 0 ? c == quote : c == '"' || c == '\'';
    };
    std::size_t end = p;
    while (end < text.size() && !ends(text[end])) ++end;
    // Keep a known scheme ("Basic", "Bearer", …): it says which credential was sent, not what it is. Any other
    // first word may be the credential itself.
    std::size_t value = p;
    while (value < end && text[value] != ' ') ++value;
    value = value < end && auth_scheme(text.substr(p, value - p)) ? value + 1 : p;
    if (value == end) continue;  // nothing to hide
    out.append(text.substr(copied, value - copied)).append(kHidden);
    copied = end;
    i = end - 1;
  }
  if (copied == 0) return std::string(text);
  out.append(text.substr(copied));
  return out;
}

}  // namespace

std::string hide_credentials(std::string_view text) { return hide_authorization(hide_userinfo(text)); }

void SecretRedactor::add(const Redactions& redactions) {
  const Redactions long_enough = redactions.at_least(4);
  std::lock_guard lock(mu_);
  redactions_.add_all(long_enough);
}

std::string SecretRedactor::apply(std::string_view text) const {
  std::string placeholders;
  {
    std::lock_guard lock(mu_);
    placeholders = redactions_.apply(text);
  }
  return hide_credentials(placeholders);
}

}  // namespace saker
