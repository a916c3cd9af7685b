#pragma once
// `type: misp`: a MISP event export: {"Event": {...}}, a list of them, or {"response": [...]}. Every Attribute of
// the event and of its Objects with to_ids true (or "1") and not deleted is read: ip-src, ip-dst, ip-src|port,
// ip-dst|port (the address), domain, hostname, domain|ip (both), url (its host), md5, sha1, sha256,
// filename|md5 / filename|sha1 / filename|sha256 (the hash). Other types, and values that are not what their type
// says, are skipped and counted. Broken JSON or an event of the wrong shape is an error with its JSON path.
#include "enrich/feeds/feed.hpp"

namespace saker {

Result<FeedStats> parse_misp_feed(const FeedInput& in, ThreatIntelIndex::Builder& b);

}  // namespace saker
