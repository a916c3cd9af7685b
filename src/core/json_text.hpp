#pragma once
// Writing JSON text: strings escaped per RFC 8259 (control characters, quotes, backslashes).
#include <string>
#include <string_view>

namespace saker {

// Appends `s` as a quoted JSON string.
void append_json_string(std::string& out, std::string_view s);

}  // namespace saker
