#pragma once
// Writing JSON text: strings escaped per RFC 8259 (control characters, quotes, backslashes).
#include <span>
#include <string>
#include <string_view>

namespace saker {

// What append_json_string does with bytes that are not part of valid UTF-8.
enum class InvalidUtf8 {
  Keep,     // copied as they are: the text was validated already (alerts are checked at decode)
  Replace,  // each such byte becomes \ufffd, so the output is valid JSON whatever the input (saker's own log)
};

// Appends `s` as a quoted JSON string. With Replace, valid UTF-8 means RFC 3629's: no overlong forms, no
// surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no sequence cut short.
void append_json_string(std::string& out, std::string_view s, InvalidUtf8 invalid = InvalidUtf8::Keep);

// Appends the strings as a JSON array of strings: ["a","b"].
void append_json_string_array(std::string& out, std::span<const std::string_view> items);

// Whether `s` is valid UTF-8 (RFC 3629); ASCII text, the usual case, is checked eight bytes at a time.
bool valid_utf8(std::string_view s) noexcept;

}  // namespace saker
