#pragma once
// Reading a table file whole (a threat-intel feed, an asset inventory, a user file): shared by every table parser.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace saker {

// The file's content; an error naming it when it cannot be read or is larger than `max_bytes` (then it is not
// read in part). `hint` ends the too-large message (what to do about it), e.g. "split the feed".
Result<std::string> read_table_file(const std::string& path, std::uint64_t max_bytes, std::string_view hint = {});

}  // namespace saker
