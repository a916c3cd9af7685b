#include "enrich/feeds/stix_feed.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <limits>
#include <string>

#include "core/time.hpp"
#include "enrich/feeds/json_feed.hpp"

namespace saker {

namespace dom = simdjson::dom;

namespace {

class PatternReader {
 public:
  explicit PatternReader(std::string_view p) : p_(p) {}
  void skip_space() noexcept {
    while (i_ < p_.size() && (p_[i_] == ' ' || p_[i_] == '\t' || p_[i_] == '\n' || p_[i_] == '\r')) ++i_;
  }
  bool eat(char c) noexcept {
    skip_space();
    if (i_ < p_.size() && p_[i_] == c) return ++i_, true;
    return false;
  }
  // A keyword (OR, AND, ...) followed by a space or a bracket.
  bool eat_word(std::string_view w) noexcept {
    skip_space();
    if (p_.substr(i_, w.size()) != w) return false;
    const std::size_t after = i_ + w.size();
    if (after < p_.size() && p_[after] != ' ' && p_[after] != '\t' && p_[after] != '[' && p_[after] != '(') return false;
    i_ = after;
    return true;
  }
  // An object path: everything up to a space or an operator character (quoted parts without spaces are kept).
  std::string_view path() noexcept {
    skip_space();
    const std::size_t from = i_;
    bool quoted = false;
    while (i_ < p_.size()) {
      const char c = p_[i_];
      if (c == '\'') quoted = !quoted;
      if (!quoted && (c == ' ' || c == '\t' || c == '=' || c == '!' || c == '<' || c == '>' || c == ']')) break;
      ++i_;
    }
    return p_.substr(from, i_ - from);
  }
  // A string literal '...' with \' and \\ escapes.
  bool string(std::string& out) {
    skip_space();
    if (i_ >= p_.size() || p_[i_] != '\'') return false;
    ++i_;
    out.clear();
    while (i_ < p_.size()) {
      const char c = p_[i_++];
      if (c == '\'') return true;
      if (c == '\\') {
        if (i_ >= p_.size()) return false;
        out.push_back(p_[i_++]);
        continue;
      }
      out.push_back(c);
    }
    return false;
  }
  bool at_end() noexcept {
    skip_space();
    return i_ >= p_.size();
  }

 private:
  std::string_view p_;
  std::size_t i_ = 0;
};

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// What a comparison's object path says; nullopt: a path saker does not match on.
std::optional<ValueKind> path_kind(std::string_view path) {
  if (path == "ipv4-addr:value" || path == "ipv6-addr:value") return ValueKind::Ip;
  if (path == "domain-name:value") return ValueKind::Domain;
  if (path == "url:value") return ValueKind::Url;
  if (path == "process:name") return ValueKind::Process;
  constexpr std::string_view kHashes = "file:hashes.";
  if (path.substr(0, kHashes.size()) != kHashes) return std::nullopt;
  std::string algo;  // MD5, 'SHA-256', sha1, ... as md5, sha256, sha1
  for (char c : path.substr(kHashes.size())) {
    if (c != '\'' && c != '"' && c != '-') algo.push_back(lower(c));
  }
  if (algo == "md5") return ValueKind::Md5;
  if (algo == "sha1") return ValueKind::Sha1;
  if (algo == "sha256") return ValueKind::Sha256;
  return std::nullopt;
}

// A time after 2262, past what nanoseconds since the epoch hold (feeds write 9999-12-31T23:59:59Z for "never").
bool far_future(std::string_view t) noexcept {
  if (t.size() < 20 || t[4] != '-') return false;
  int year = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    if (t[i] < '0' || t[i] > '9') return false;
    year = year * 10 + (t[i] - '0');
  }
  return year >= 2262 && parse_rfc3339_ns(std::string("2000").append(t.substr(4)));
}

}  // namespace

bool parse_stix_pattern(std::string_view pattern, std::vector<StixComparison>& out, std::size_t& skipped) {
  out.clear();
  skipped = 0;
  PatternReader r(pattern);
  std::string value;
  for (;;) {  // observation expressions joined by OR
    if (!r.eat('[')) return false;
    for (;;) {  // comparisons joined by OR
      const std::string_view path = r.path();
      if (path.empty() || !r.eat('=') || !r.string(value)) return false;
      if (const auto kind = path_kind(path)) {
        out.push_back({*kind, value});
      } else {
        ++skipped;
      }
      if (r.eat(']')) break;
      if (!r.eat_word("OR")) return false;  // AND, or anything else
    }
    if (r.at_end()) break;
    if (!r.eat_word("OR")) return false;  // AND, FOLLOWEDBY, WITHIN, REPEATS, START, ...
  }
  return !out.empty();
}

Result<FeedStats> parse_stix_feed(const FeedInput& in, ThreatIntelIndex::Builder& b) {
  FeedStats stats;
  feed_detail::Tally tally{stats, in};
  dom::parser parser;
  dom::element root;
  if (auto e = feed_detail::parse_json(parser, in, root); !e.message.empty()) return e;
  auto error = [&](std::string path, std::string_view what) {
    return make_error("feed_bad_json", fmt::format("{}: {}: {}", in.file, path, what));
  };
  dom::object bundle;
  std::string_view type;
  if (root.get(bundle) || bundle["type"].get(type) || type != "bundle") {
    return error("$", "not a STIX 2.1 bundle (an object with \"type\": \"bundle\")");
  }
  dom::array objects;
  if (auto e = bundle["objects"].get(objects); e) {
    if (e == simdjson::NO_SUCH_FIELD) return stats;  // an empty bundle
    return error("$.objects", "must be a list of STIX objects");
  }
  std::vector<StixComparison> comparisons;
  std::size_t index = 0;
  for (dom::element el : objects) {
    const std::size_t i = index++;
    dom::object obj;
    if (el.get(obj)) return error(fmt::format("$.objects[{}]", i), "must be an object");
    std::string_view otype;
    if (obj["type"].get(otype)) return error(fmt::format("$.objects[{}].type", i), "missing or not a string");
    if (otype != "indicator") continue;
    std::string_view pattern;
    if (obj["pattern"].get(pattern)) return error(fmt::format("$.objects[{}].pattern", i), "missing or not a string");
    std::string_view pattern_type = "stix";
    if (auto pt = obj["pattern_type"]; pt.error() != simdjson::NO_SUCH_FIELD && pt.get(pattern_type)) {
      return error(fmt::format("$.objects[{}].pattern_type", i), "not a string");
    }
    if (pattern_type != "stix") {
      ++stats.unsupported;
      continue;
    }
    bool revoked = false;
    if (auto rv = obj["revoked"]; rv.error() != simdjson::NO_SUCH_FIELD && rv.get(revoked)) {
      return error(fmt::format("$.objects[{}].revoked", i), "not a boolean");
    }
    if (revoked) {
      ++stats.revoked;
      continue;
    }
    if (auto vu = obj["valid_until"]; vu.error() != simdjson::NO_SUCH_FIELD) {
      std::string_view text;
      std::optional<std::int64_t> until;
      if (!vu.get(text)) until = parse_rfc3339_ns(text);
      if (!until && far_future(text)) until = std::numeric_limits<std::int64_t>::max();
      if (!until) return error(fmt::format("$.objects[{}].valid_until", i), "not an RFC 3339 time");
      if (*until <= in.now_ns) {
        ++stats.expired;
        continue;
      }
    }
    std::size_t skipped = 0;
    if (!parse_stix_pattern(pattern, comparisons, skipped)) {
      ++stats.unsupported;
      continue;
    }
    stats.unsupported += skipped;
    for (const StixComparison& c : comparisons) {
      if (!tally.take(b.add(c.kind, c.value, in.feed))) ++stats.invalid;
    }
    if (tally.over_limit()) return tally.limit_error(fmt::format("{}: $.objects[{}]", in.file, i));
  }
  return stats;
}

}  // namespace saker
