#include "core/time.hpp"

#include <chrono>

#include <fmt/format.h>

namespace saker {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) noexcept {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

bool leap_year(int y) noexcept { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

int days_in_month(int y, int m) noexcept {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap_year(y) ? 29 : kDays[m - 1];
}

}  // namespace

std::optional<std::int64_t> parse_rfc3339_ns(std::string_view s, std::string_view* why) noexcept {
  auto refuse = [why](std::string_view reason) -> std::optional<std::int64_t> {
    if (why) *why = reason;
    return std::nullopt;
  };
  constexpr std::string_view kSyntax = "is not RFC 3339 (e.g. 2024-05-07T18:54:19.341081180Z)";
  int year = 0, mon = 0, day = 0, hh = 0, mm = 0, ss = 0;
  if (!digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mon) || s[7] != '-' ||
      !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, hh) ||
      s[13] != ':' || !digits(s, 14, 2, mm) || s[16] != ':' || !digits(s, 17, 2, ss)) {
    return refuse(kSyntax);
  }
  if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon)) {
    return refuse("names a day its month does not have (months 01-12; February has 29 days only in leap years)");
  }
  if (hh > 23 || mm > 59) return refuse("has an hour over 23 or a minute over 59");
  if (ss == 60) return refuse("is a leap second (:60), which Unix time cannot represent");
  if (ss > 59) return refuse("has a second over 59");
  std::size_t pos = 19;
  std::int64_t frac_ns = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int n = 0;
    std::int64_t scale = 100000000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (++n > 9) return refuse("has more than 9 fraction digits (nanoseconds are the finest an event time keeps)");
      frac_ns += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (n == 0) return refuse(kSyntax);
  }
  std::int64_t offset_s = 0;
  if (pos >= s.size()) return refuse(kSyntax);
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh = 0, om = 0;
    const bool neg = s[pos] == '-';
    if (!digits(s, pos + 1, 2, oh)) return refuse(kSyntax);
    std::size_t p = pos + 3;
    if (p < s.size() && s[p] == ':') ++p;
    if (!digits(s, p, 2, om)) return refuse(kSyntax);
    if (oh > 23 || om > 59) return refuse("has a UTC offset beyond 23:59");
    offset_s = (oh * 3600 + om * 60) * (neg ? -1 : 1);
    pos = p + 2;
  } else {
    return refuse(kSyntax);
  }
  if (pos != s.size()) return refuse(kSyntax);
  // Years 0000-9999 keep seconds far inside int64; only the step to nanoseconds can overflow.
  const std::int64_t days = days_from_civil(year, static_cast<unsigned>(mon), static_cast<unsigned>(day));
  std::int64_t secs = days * 86400 + hh * 3600 + mm * 60 + ss - offset_s;
  if (secs < 0 && frac_ns > 0) {  // the earliest second must not overflow before its fraction is added
    ++secs;
    frac_ns -= 1000000000LL;
  }
  std::int64_t ns = 0;
  if (__builtin_mul_overflow(secs, std::int64_t{1000000000}, &ns) || __builtin_add_overflow(ns, frac_ns, &ns)) {
    return refuse(kTimeOutOfRange);
  }
  return ns;
}

namespace {
struct Civil {
  std::int64_t y;
  unsigned m, d, hh, mm, ss;
  std::int64_t frac_ns;
};

Civil to_civil(std::int64_t ns) noexcept {
  std::int64_t secs = ns / 1000000000LL;
  std::int64_t frac = ns % 1000000000LL;
  if (frac < 0) {
    frac += 1000000000LL;
    secs -= 1;
  }
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
  return Civil{y, m, d, static_cast<unsigned>(rem / 3600), static_cast<unsigned>(rem % 3600 / 60),
               static_cast<unsigned>(rem % 60), frac};
}
}  // namespace

std::string format_rfc3339_ns(std::int64_t ns) {
  const Civil c = to_civil(ns);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", c.y, c.m, c.d, c.hh, c.mm, c.ss, c.frac_ns);
}

std::string format_rfc3339_ms(std::int64_t ns) {
  const Civil c = to_civil(ns);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", c.y, c.m, c.d, c.hh, c.mm, c.ss,
                     c.frac_ns / 1000000);
}

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace saker
