// Given an event time as Falco or any sender writes it, saker keeps the instant exactly or refuses it: a time that
// int64 nanoseconds cannot hold, or a date that does not exist, never wraps or rolls over into another instant.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "core/time.hpp"

using namespace saker;

namespace {

constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

// The refusal's reason, or "" when the text was accepted.
std::string why_refused(std::string_view text) {
  std::string_view why;
  if (parse_rfc3339_ns(text, &why)) return {};
  return std::string(why);
}

}  // namespace

TEST(Time, TheWholeInt64RangeIsAcceptedToTheNanosecond) {
  EXPECT_EQ(parse_rfc3339_ns("1677-09-21T00:12:43.145224192Z"), kMin);
  EXPECT_EQ(parse_rfc3339_ns("2262-04-11T23:47:16.854775807Z"), kMax);
  EXPECT_EQ(parse_rfc3339_ns("1677-09-21T00:12:44Z"), -9223372036000000000LL);
  EXPECT_EQ(parse_rfc3339_ns("2262-04-11T23:47:16Z"), 9223372036000000000LL);
  EXPECT_EQ(parse_rfc3339_ns("1969-12-31T23:59:59.999999999Z"), -1);
  EXPECT_EQ(parse_rfc3339_ns("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(format_rfc3339_ns(kMin), "1677-09-21T00:12:43.145224192Z");
  EXPECT_EQ(format_rfc3339_ns(kMax), "2262-04-11T23:47:16.854775807Z");
}

TEST(Time, OneNanosecondBeyondEitherEndIsRefusedWithTheRange) {
  for (const char* text :
       {"1677-09-21T00:12:43.145224191Z", "2262-04-11T23:47:16.854775808Z", "1677-09-21T00:12:43Z",
        "2262-04-11T23:47:17Z", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59.999999999Z", "0001-01-01T00:00:00Z",
        "0000-01-01T00:00:00Z", "1677-01-01T00:00:00Z", "2263-01-01T00:00:00Z"}) {
    const std::string why = why_refused(text);
    EXPECT_NE(why.find("1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z"), std::string::npos)
        << text << ": " << why;
  }
}

TEST(Time, AnOffsetCanPushAnInstantOverTheEdgeOrBackInside) {
  // Local time ahead of UTC (+hh:mm) is earlier in UTC; behind it (-hh:mm), later.
  EXPECT_EQ(parse_rfc3339_ns("2262-04-12T00:47:16.854775807+01:00"), kMax);
  EXPECT_EQ(parse_rfc3339_ns("2262-04-11T22:47:16.854775807-01:00"), kMax);
  EXPECT_EQ(parse_rfc3339_ns("1677-09-21T01:12:43.145224192+01:00"), kMin);
  EXPECT_EQ(parse_rfc3339_ns("1677-09-20T23:12:43.145224192-01:00"), kMin);
  EXPECT_FALSE(parse_rfc3339_ns("2262-04-11T23:47:16.854775807-00:01"));
  EXPECT_FALSE(parse_rfc3339_ns("2262-04-12T00:47:16.854775808+01:00"));
  EXPECT_FALSE(parse_rfc3339_ns("1677-09-21T00:12:43.145224192+00:01"));
  EXPECT_FALSE(parse_rfc3339_ns("1677-09-21T01:12:43.145224191+01:00"));
  EXPECT_FALSE(parse_rfc3339_ns("2262-04-11T23:59:59-23:59"));
  EXPECT_EQ(parse_rfc3339_ns("2024-05-07T18:54:19.341081180+23:59"), 1715108059341081180LL - 86340000000000LL);
  EXPECT_NE(why_refused("2024-05-07T18:54:19Z+24:00").find("RFC 3339"), std::string::npos);
  EXPECT_NE(why_refused("2024-05-07T18:54:19+24:00").find("offset"), std::string::npos);
  EXPECT_NE(why_refused("2024-05-07T18:54:19+01:60").find("offset"), std::string::npos);
}

TEST(Time, MoreThanNineFractionDigitsAreRefusedNotTruncated) {
  EXPECT_EQ(parse_rfc3339_ns("2024-05-07T18:54:19.341081180Z"), 1715108059341081180LL);
  EXPECT_EQ(parse_rfc3339_ns("2024-05-07T18:54:19.3Z"), 1715108059300000000LL);
  EXPECT_NE(why_refused("2024-05-07T18:54:19.3410811801Z").find("9 fraction digits"), std::string::npos);
  EXPECT_FALSE(parse_rfc3339_ns("2262-04-11T23:47:16.8547758070Z"));
  EXPECT_FALSE(parse_rfc3339_ns("2262-04-11T23:47:16.8547758079Z"));
  EXPECT_FALSE(parse_rfc3339_ns("1677-09-21T00:12:43.1452241920Z"));
  EXPECT_FALSE(parse_rfc3339_ns("2024-05-07T18:54:19.Z"));
}

TEST(Time, ClockFieldsOutOfRangeAreRefused) {
  EXPECT_NE(why_refused("2016-12-31T23:59:60Z").find("leap second"), std::string::npos);
  EXPECT_FALSE(parse_rfc3339_ns("2262-04-11T23:47:60Z"));
  EXPECT_FALSE(parse_rfc3339_ns("2024-05-07T18:54:61Z"));
  EXPECT_NE(why_refused("2024-05-07T24:00:00Z").find("hour"), std::string::npos);
  EXPECT_FALSE(parse_rfc3339_ns("2024-05-07T18:60:00Z"));
  EXPECT_EQ(parse_rfc3339_ns("2024-05-07T23:59:59.999999999Z"), 1715126399999999999LL);
}

TEST(Time, DatesThatDoNotExistAreRefusedNotRolledOver) {
  for (const char* text :
       {"2024-02-31T00:00:00Z", "2024-02-30T00:00:00Z", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
        "2100-02-29T00:00:00Z", "2200-02-29T00:00:00Z", "1700-02-29T00:00:00Z", "2024-04-31T00:00:00Z",
        "2024-06-31T00:00:00Z", "2024-09-31T00:00:00Z", "2024-11-31T00:00:00Z", "2024-01-32T00:00:00Z",
        "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z", "2024-05-00T00:00:00Z"}) {
    EXPECT_NE(why_refused(text).find("day its month does not have"), std::string::npos) << text;
  }
  // Leap years: divisible by 4, except centuries not divisible by 400.
  EXPECT_EQ(parse_rfc3339_ns("2024-02-29T00:00:00Z"), 1709164800000000000LL);
  EXPECT_EQ(parse_rfc3339_ns("2000-02-29T00:00:00Z"), 951782400000000000LL);
  EXPECT_TRUE(parse_rfc3339_ns("1704-02-29T00:00:00Z"));
  EXPECT_TRUE(parse_rfc3339_ns("2024-12-31T00:00:00Z"));
  EXPECT_TRUE(parse_rfc3339_ns("2024-01-31T00:00:00Z"));
  EXPECT_TRUE(parse_rfc3339_ns("2024-04-30T00:00:00Z"));
}

TEST(Time, MalformedTextIsRefusedAsNotRfc3339) {
  for (const char* text : {"", "2024", "2024-05-07", "2024-05-07T18:54:19", "2024-05-07T18:54:19Zjunk",
                           "2024-05-07X18:54:19Z", "+2024-05-07T18:54:19Z", "20240-05-07T18:54:19Z",
                           "2024-05-07T18:54:19+01", "2024-5-07T18:54:19Z", "2024-05-07T18:54:1aZ"}) {
    EXPECT_NE(why_refused(text).find("RFC 3339"), std::string::npos) << text;
  }
}

TEST(Time, EveryRepresentableInstantRoundTrips) {
  std::mt19937_64 rng(20240507);
  for (int i = 0; i < 20000; ++i) {
    const auto ns = static_cast<std::int64_t>(rng());
    EXPECT_EQ(parse_rfc3339_ns(format_rfc3339_ns(ns)), ns) << format_rfc3339_ns(ns);
  }
}
