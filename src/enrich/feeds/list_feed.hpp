#pragma once
// `type: list`: one indicator per line, its type inferred: an IPv4 or IPv6 address, a CIDR, a hex MD5 / SHA-1 /
// SHA-256, a URL (its host), else a domain. `#` starts a comment (a whole line, or after whitespace); blank lines
// and surrounding whitespace are ignored; CRLF is fine. A line that is none of these is an error naming its line.
#include "enrich/feeds/feed.hpp"

namespace saker {

Result<FeedStats> parse_list_feed(const FeedInput& in, ThreatIntelIndex::Builder& b);

}  // namespace saker
