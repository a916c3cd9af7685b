#pragma once
// What the threat-intel feed parsers share: the formats, their limits, what a load counts, and the dispatch from a
// format to its parser. Each parser reads a feed's whole text into a ThreatIntelIndex::Builder and reports the first
// problem that makes the feed unusable with where it is: "file:line: ..." (list, csv) or "file: $.json.path: ..."
// (stix, misp). Values a feed holds that are no indicator saker matches (an unsupported STIX pattern, a MISP
// attribute type it does not read) are skipped and counted, not errors, in the JSON formats; in list and csv, which
// saker's users write themselves, every line must be an indicator.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "enrich/feeds/threat_intel_index.hpp"

namespace saker {

enum class FeedFormat : std::uint8_t { List, Csv, Stix, Misp };
// "list", "csv", "stix", "misp"
std::optional<FeedFormat> parse_feed_format(std::string_view name) noexcept;
std::string_view feed_format_name(FeedFormat f) noexcept;

struct FeedLimits {
  std::uint64_t max_file_bytes = 256ull << 20;  // a bigger file is refused before it is read
  std::size_t max_line_bytes = 4096;            // list and csv: a longer line is an error
  std::size_t max_indicators = 5'000'000;       // per feed: one more is an error
  std::size_t max_json_depth = 64;              // stix and misp: deeper nesting is an error
};

// What a feed's load added and skipped (a value counted once per indicator it names).
struct FeedStats {
  std::uint64_t added = 0;
  std::uint64_t duplicate = 0;    // the same indicator again (in this feed or an earlier one): kept once
  std::uint64_t unsupported = 0;  // a STIX pattern or a MISP attribute type saker does not match on
  std::uint64_t invalid = 0;      // stix, misp: a value that is not what its type says (an IP that is not one)
  std::uint64_t expired = 0;      // stix: valid_until in the past
  std::uint64_t revoked = 0;      // stix: revoked; misp: deleted
  std::uint64_t not_ids = 0;      // misp: to_ids false
  std::uint64_t skipped() const noexcept { return unsupported + invalid + expired + revoked + not_ids; }
};

struct FeedInput {
  std::string_view text;
  std::string_view file;   // as messages name it
  std::uint16_t feed = 0;  // ThreatIntelIndex::Builder::add_feed
  FeedLimits limits;
  std::int64_t now_ns = 0;  // stix: an indicator whose valid_until is not after this is skipped
};

Result<FeedStats> parse_feed(FeedFormat format, const FeedInput& in, ThreatIntelIndex::Builder& b);

// The file's content; an error naming it when it cannot be read or is larger than `max_bytes`.
Result<std::string> read_feed_file(const std::string& path, std::uint64_t max_bytes);

namespace feed_detail {

// Counts what the builder said of each value; the indicator limit is an error.
struct Tally {
  FeedStats& stats;
  const FeedInput& in;
  // False when the value was invalid; `limit` set when the feed holds too many indicators.
  bool take(ThreatIntelIndex::Builder::Added a) noexcept;
  bool over_limit() const noexcept { return stats.added > in.limits.max_indicators; }
  Error limit_error(std::string_view where) const;
};

// The value shortened for a message (at most 64 characters).
std::string quoted(std::string_view v);

}  // namespace feed_detail

}  // namespace saker
