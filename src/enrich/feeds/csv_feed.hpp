#pragma once
// `type: csv`: a header line naming the columns, then one indicator per line. The header must name `type` and
// `value` (any order, any case; other columns are ignored); fields may be double-quoted ("a,b", "" for a quote).
// Types: ip, ipv4, ipv6, ipv4-addr, ipv6-addr, cidr, ip-src, ip-dst; domain, domain-name, hostname; url; md5, sha1,
// sha256, hash (any of the three); process, process-name. `#` lines and blank lines are ignored. An unknown type or
// a value that is not of its type is an error naming its line.
#include "enrich/feeds/feed.hpp"

namespace saker {

Result<FeedStats> parse_csv_feed(const FeedInput& in, ThreatIntelIndex::Builder& b);

}  // namespace saker
