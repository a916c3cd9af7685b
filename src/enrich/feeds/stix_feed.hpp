#pragma once
// `type: stix`: a STIX 2.1 bundle. Objects of `type: indicator` with `pattern_type: stix` (or none) are read;
// patterns of comparisons joined by OR (inside one [...] or across several), each `=` on ipv4-addr:value,
// ipv6-addr:value, domain-name:value, url:value (its host), file:hashes.MD5 / 'SHA-1' / 'SHA-256' (quoted or not,
// any case), process:name. An AND, another operator or property, or a qualifier: the pattern is skipped and counted
// (an OR's unsupported comparisons are skipped, the others kept). Revoked indicators and those whose valid_until is
// not after FeedInput::now_ns are skipped and counted. Broken JSON or a bundle of the wrong shape is an error with
// its JSON path.
#include <string>
#include <vector>

#include "enrich/feeds/feed.hpp"

namespace saker {

Result<FeedStats> parse_stix_feed(const FeedInput& in, ThreatIntelIndex::Builder& b);

}  // namespace saker

namespace saker {

// One comparison of a STIX pattern saker matches on: what it compares and the value (unescaped).
struct StixComparison {
  ValueKind kind;
  std::string value;
};
// The comparisons of `pattern` (see above); false when the pattern cannot be matched on (an AND, a qualifier, another
// operator, a syntax error, or no comparison saker knows). `skipped`: comparisons of an OR it does not know.
bool parse_stix_pattern(std::string_view pattern, std::vector<StixComparison>& out, std::size_t& skipped);

}  // namespace saker
