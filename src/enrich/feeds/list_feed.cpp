#include "enrich/feeds/list_feed.hpp"

#include <fmt/format.h>

#include "enrich/feeds/feed_lines.hpp"

namespace saker {

Result<FeedStats> parse_list_feed(const FeedInput& in, ThreatIntelIndex::Builder& b) {
  FeedStats stats;
  feed_detail::Tally tally{stats, in};
  feed_detail::Lines lines(in.text);
  std::string_view line;
  while (lines.next(line)) {
    if (line.size() > in.limits.max_line_bytes) {
      return make_error("feed_line_too_long", fmt::format("{}:{}: line longer than {} bytes", in.file, lines.number(),
                                                         in.limits.max_line_bytes));
    }
    const std::string_view value = feed_detail::strip_comment(line);
    if (value.empty()) continue;
    if (!tally.take(b.add(ValueKind::Infer, value, in.feed))) {
      return make_error("feed_bad_line", fmt::format("{}:{}: {} is not an IP address, CIDR, domain, URL or MD5/SHA-1/SHA-256 hash",
                                                     in.file, lines.number(), feed_detail::quoted(value)));
    }
    if (tally.over_limit()) return tally.limit_error(fmt::format("{}:{}", in.file, lines.number()));
  }
  return stats;
}

}  // namespace saker
