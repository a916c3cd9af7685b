#include "enrich/feeds/csv_feed.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "enrich/feeds/feed_lines.hpp"

namespace saker {

namespace {

// Splits one CSV line into `out` (quoted fields unquoted); false for an unterminated quote.
bool split_csv(std::string_view line, std::vector<std::string>& out) {
  out.clear();
  std::string field;
  std::size_t i = 0;
  for (;;) {
    field.clear();
    while (i < line.size() && feed_detail::is_space(line[i])) ++i;
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size()) return false;
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field.push_back(line[i++]);
      }
      while (i < line.size() && line[i] != ',') ++i;  // after the closing quote: only spaces are expected
    } else {
      const std::size_t end = std::min(line.find(',', i), line.size());
      field.assign(feed_detail::trim(line.substr(i, end - i)));
      i = end;
    }
    out.push_back(field);
    if (i >= line.size()) return true;
    ++i;  // the comma
  }
}

std::string lower_text(std::string_view s) {
  std::string out(feed_detail::trim(s));
  for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

std::optional<ValueKind> csv_kind(const std::string& t) {
  if (t == "ip" || t == "ipv4" || t == "ipv6" || t == "ipv4-addr" || t == "ipv6-addr" || t == "cidr" || t == "ip-src" ||
      t == "ip-dst") {
    return ValueKind::Ip;
  }
  if (t == "domain" || t == "domain-name" || t == "hostname") return ValueKind::Domain;
  if (t == "url") return ValueKind::Url;
  if (t == "md5") return ValueKind::Md5;
  if (t == "sha1" || t == "sha-1") return ValueKind::Sha1;
  if (t == "sha256" || t == "sha-256") return ValueKind::Sha256;
  if (t == "hash") return ValueKind::AnyHash;
  if (t == "process" || t == "process-name") return ValueKind::Process;
  return std::nullopt;
}

}  // namespace

Result<FeedStats> parse_csv_feed(const FeedInput& in, ThreatIntelIndex::Builder& b) {
  FeedStats stats;
  feed_detail::Tally tally{stats, in};
  feed_detail::Lines lines(in.text);
  std::string_view line;
  std::vector<std::string> fields;
  std::size_t type_col = 0, value_col = 0, columns = 0;
  bool header = false;
  auto at = [&] { return fmt::format("{}:{}", in.file, lines.number()); };
  while (lines.next(line)) {
    if (line.size() > in.limits.max_line_bytes) {
      return make_error("feed_line_too_long", fmt::format("{}: line longer than {} bytes", at(), in.limits.max_line_bytes));
    }
    const std::string_view trimmed = feed_detail::trim(line);
    if (trimmed.empty() || trimmed.front() == '#') continue;
    if (!split_csv(trimmed, fields)) return make_error("feed_bad_line", fmt::format("{}: a quote is not closed", at()));
    if (!header) {
      bool has_type = false, has_value = false;
      for (std::size_t i = 0; i < fields.size(); ++i) {
        const std::string name = lower_text(fields[i]);
        if (name == "type") type_col = i, has_type = true;
        if (name == "value") value_col = i, has_value = true;
      }
      if (!has_type || !has_value) {
        return make_error("feed_bad_header",
                          fmt::format("{}: the first line must be a header naming the columns type and value, e.g. "
                                      "\"type,value\"", at()));
      }
      columns = fields.size();
      header = true;
      continue;
    }
    if (fields.size() < columns) {
      return make_error("feed_bad_line", fmt::format("{}: {} columns where the header names {}", at(), fields.size(), columns));
    }
    const std::string type = lower_text(fields[type_col]);
    const auto kind = csv_kind(type);
    if (!kind) {
      return make_error("feed_bad_line", fmt::format("{}: unknown type {}: use ip, cidr, domain, url, md5, sha1, sha256, "
                                                     "hash or process", at(), feed_detail::quoted(type)));
    }
    const std::string& value = fields[value_col];
    if (!tally.take(b.add(*kind, value, in.feed))) {
      return make_error("feed_bad_line", fmt::format("{}: {} is not a valid {}", at(), feed_detail::quoted(value), type));
    }
    if (tally.over_limit()) return tally.limit_error(at());
  }
  if (!header) {
    return make_error("feed_bad_header", fmt::format("{}: no header line: the first line must name the columns, e.g. "
                                                     "\"type,value\"", in.file));
  }
  return stats;
}

}  // namespace saker
