#pragma once
// Event time: RFC 3339 text <-> nanoseconds since the epoch (UTC).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace saker {

// Event times are int64 nanoseconds since the epoch: what that holds is the range saker accepts (a refusal's words).
inline constexpr std::string_view kTimeOutOfRange =
    "is outside the range of int64 nanoseconds since the epoch, 1677-09-21T00:12:43.145224192Z to "
    "2262-04-11T23:47:16.854775807Z";

// "2024-05-07T18:54:19.341081180Z", "...+02:00", "2001-01-01T01:10:00Z"; fraction of 0..9 digits. Refused: a date
// its month does not have (2024-02-31 is not March 2), hour 24, second 60 (Unix time has no leap seconds), an
// offset beyond 23:59, and an instant outside that range. On refusal `why` (if given) says which, for a message.
std::optional<std::int64_t> parse_rfc3339_ns(std::string_view text, std::string_view* why = nullptr) noexcept;

// "2024-05-07T18:54:19.341081180Z" (always 9 fraction digits, UTC).
std::string format_rfc3339_ns(std::int64_t ns);
// Millisecond form ("...T18:54:19.341Z"), as ECS and syslog receivers prefer.
std::string format_rfc3339_ms(std::int64_t ns);

std::int64_t now_ns() noexcept;

}  // namespace saker
