#pragma once
// Event time: RFC 3339 text <-> nanoseconds since the epoch (UTC).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace saker {

// "2024-05-07T18:54:19.341081180Z", "...+02:00", "2001-01-01T01:10:00Z"; fraction of 0..9 digits.
std::optional<std::int64_t> parse_rfc3339_ns(std::string_view text) noexcept;

// "2024-05-07T18:54:19.341081180Z" (always 9 fraction digits, UTC).
std::string format_rfc3339_ns(std::int64_t ns);
// Millisecond form ("...T18:54:19.341Z"), as ECS and syslog receivers prefer.
std::string format_rfc3339_ms(std::int64_t ns);

std::int64_t now_ns() noexcept;

}  // namespace saker
