#include "enrich/feeds/feed.hpp"

#include "enrich/feeds/table_file.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "enrich/feeds/csv_feed.hpp"
#include "enrich/feeds/list_feed.hpp"
#include "enrich/feeds/misp_feed.hpp"
#include "enrich/feeds/stix_feed.hpp"

namespace saker {

std::optional<FeedFormat> parse_feed_format(std::string_view name) noexcept {
  if (name == "list") return FeedFormat::List;
  if (name == "csv") return FeedFormat::Csv;
  if (name == "stix") return FeedFormat::Stix;
  if (name == "misp") return FeedFormat::Misp;
  return std::nullopt;
}

std::string_view feed_format_name(FeedFormat f) noexcept {
  switch (f) {
    case FeedFormat::List: return "list";
    case FeedFormat::Csv: return "csv";
    case FeedFormat::Stix: return "stix";
    case FeedFormat::Misp: return "misp";
  }
  return "list";
}

Result<FeedStats> parse_feed(FeedFormat format, const FeedInput& in, ThreatIntelIndex::Builder& b) {
  switch (format) {
    case FeedFormat::List: return parse_list_feed(in, b);
    case FeedFormat::Csv: return parse_csv_feed(in, b);
    case FeedFormat::Stix: return parse_stix_feed(in, b);
    case FeedFormat::Misp: return parse_misp_feed(in, b);
  }
  return make_error("feed_format", "unknown feed format");
}

Result<std::string> read_feed_file(const std::string& path, std::uint64_t max_bytes) {
  return read_table_file(path, max_bytes, "split the feed or raise max_feed_size");
}

namespace feed_detail {

bool Tally::take(ThreatIntelIndex::Builder::Added a) noexcept {
  switch (a) {
    case ThreatIntelIndex::Builder::Added::Added: ++stats.added; return true;
    case ThreatIntelIndex::Builder::Added::Duplicate: ++stats.duplicate; return true;
    case ThreatIntelIndex::Builder::Added::Invalid: return false;
  }
  return false;
}

Error Tally::limit_error(std::string_view where) const {
  return make_error("feed_too_many", fmt::format("{}: more than {} indicators: split the feed or raise max_indicators",
                                                 where, in.limits.max_indicators));
}

std::string quoted(std::string_view v) {
  std::string out = "\"";
  for (char c : v.substr(0, 64)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == '"' ? '?' : c);
  }
  if (v.size() > 64) out.append("...");
  out.push_back('"');
  return out;
}

}  // namespace feed_detail

}  // namespace saker
