#pragma once
// Parsing a JSON feed (stix, misp) with simdjson, within the feed's depth limit.
#include <algorithm>

#include <fmt/format.h>
#include <simdjson.h>

#include "enrich/feeds/feed.hpp"

namespace saker::feed_detail {

// An Error with an empty message when `root` holds the document.
inline Error parse_json(simdjson::dom::parser& parser, const FeedInput& in, simdjson::dom::element& root) {
  if (auto e = parser.allocate(std::max<std::size_t>(in.text.size(), 64), in.limits.max_json_depth); e) {
    return make_error("feed_bad_json", fmt::format("{}: cannot parse: {}", in.file, simdjson::error_message(e)));
  }
  if (auto e = parser.parse(in.text.data(), in.text.size()).get(root); e) {
    return make_error("feed_bad_json", fmt::format("{}: not valid JSON ({}): is the file complete?", in.file,
                                                   simdjson::error_message(e)));
  }
  return {};
}

}  // namespace saker::feed_detail
