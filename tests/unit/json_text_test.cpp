// append_json_string: the formats' escaper (text already valid UTF-8, copied as it is) and the log's (any bytes,
// replaced where they are not UTF-8, so every line parses).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <string_view>

#include "core/json_text.hpp"
#include "../../bench/tools/loadgen/falco_json.hpp"

using namespace saker;

namespace {

std::string quoted(std::string_view s, InvalidUtf8 invalid = InvalidUtf8::Keep) {
  std::string out;
  append_json_string(out, s, invalid);
  return out;
}

std::string replaced(std::string_view s) { return quoted(s, InvalidUtf8::Replace); }

// The string a JSON parser reads back, or "<invalid>".
std::string parsed(const std::string& json) {
  static simdjson::dom::parser parser;
  std::string_view v;
  if (parser.parse(json).get(v) != simdjson::SUCCESS) return "<invalid>";
  return std::string(v);
}

}  // namespace

TEST(JsonString, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(quoted("say \"hi\"\nC:\\ \x01\b\f\r\t\x1f caf\xc3\xa9"),
            "\"say \\\"hi\\\"\\nC:\\\\ \\u0001\\b\\f\\r\\t\\u001f caf\xc3\xa9\"");
  EXPECT_EQ(replaced("say \"hi\"\nC:\\ \x01\b\f\r\t\x1f caf\xc3\xa9"),
            "\"say \\\"hi\\\"\\nC:\\\\ \\u0001\\b\\f\\r\\t\\u001f caf\xc3\xa9\"");
  EXPECT_EQ(quoted(std::string_view("a\0b", 3)), "\"a\\u0000b\"");
  EXPECT_EQ(quoted(""), "\"\"");
  EXPECT_EQ(replaced(""), "\"\"");
}

TEST(JsonString, KeepCopiesEveryByteAsItIs) {
  // The default, for text decode already checked: no byte is looked at for UTF-8.
  EXPECT_EQ(quoted("\xff\xc0\xaf\xed\xa0\x80"), "\"\xff\xc0\xaf\xed\xa0\x80\"");
  EXPECT_EQ(quoted("\xff", InvalidUtf8::Keep), "\"\xff\"");
}

TEST(JsonString, ReplaceKeepsValidUtf8AtEveryBoundary) {
  // U+007F, U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFF, U+10000, U+10FFFF, and a word.
  for (const std::string_view s : {"\x7f", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80",
                                   "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",
                                   "caf\xc3\xa9 \xe2\x82\xac"}) {
    EXPECT_EQ(replaced(s), "\"" + std::string(s) + "\"") << s;
  }
}

TEST(JsonString, ReplaceTurnsEachByteThatIsNotUtf8IntoOneReplacementCharacter) {
  struct Case {
    std::string_view in;
    std::string_view out;
  };
  const Case cases[] = {
      {"\xff", "\\ufffd"},                                  // never in UTF-8
      {"\xfe", "\\ufffd"},
      {"a\x80z", "a\\ufffdz"},                              // a continuation byte alone
      {"\xc0\xaf", "\\ufffd\\ufffd"},                       // overlong '/' (2 bytes)
      {"\xc1\xbf", "\\ufffd\\ufffd"},                       // overlong U+007F
      {"\xe0\x80\xaf", "\\ufffd\\ufffd\\ufffd"},            // overlong '/' (3 bytes)
      {"\xe0\x9f\xbf", "\\ufffd\\ufffd\\ufffd"},            // overlong U+07FF
      {"\xf0\x80\x80\xaf", "\\ufffd\\ufffd\\ufffd\\ufffd"},  // overlong '/' (4 bytes)
      {"\xf0\x8f\xbf\xbf", "\\ufffd\\ufffd\\ufffd\\ufffd"},  // overlong U+FFFF
      {"\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd"},            // U+D800, a high surrogate
      {"\xed\xbf\xbf", "\\ufffd\\ufffd\\ufffd"},            // U+DFFF, a low surrogate
      {"\xed\xa0\xbd\xed\xb8\x80", "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"},  // a CESU-8 surrogate pair
      {"\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd"},  // U+110000, above Unicode
      {"\xf5\x80\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd"},
      {"\xe2\x82", "\\ufffd\\ufffd"},                       // cut short at the end
      {"\xf0\x9f\x98", "\\ufffd\\ufffd\\ufffd"},
      {"\xc3", "\\ufffd"},
      {"\xe2\x82z\xc3\xa9", "\\ufffd\\ufffdz\xc3\xa9"},      // cut short by an ASCII byte; the next one is kept
      {"\xe2\x82\"", "\\ufffd\\ufffd\\\""},                 // ... or by a byte that needs escaping
      {"\xc3\xc3\xa9", "\\ufffd\xc3\xa9"},                  // cut short by the lead byte of a valid one
  };
  for (const auto& c : cases) {
    EXPECT_EQ(replaced(c.in), "\"" + std::string(c.out) + "\"") << "input bytes: " << testing::PrintToString(c.in);
  }
}

TEST(JsonString, ReplaceAlwaysGivesJsonThatReadsBackAsItsInputWhenThatWasUtf8) {
  // Every string of one and two bytes, and every three-byte string starting with a lead byte of 3 or 4.
  auto check = [](const std::string& in) {
    const std::string out = replaced(in);
    const std::string back = parsed(out);
    ASSERT_NE(back, "<invalid>") << testing::PrintToString(in);
    if (simdjson::validate_utf8(in.data(), in.size())) {
      EXPECT_EQ(back, in) << testing::PrintToString(in);
    } else {
      EXPECT_NE(back.find("\xef\xbf\xbd"), std::string::npos) << testing::PrintToString(in);
    }
  };
  for (int a = 0; a < 256; ++a) {
    check(std::string(1, static_cast<char>(a)));
    for (int b = 0; b < 256; ++b) check({static_cast<char>(a), static_cast<char>(b)});
  }
  for (int a = 0xe0; a < 0xf8; ++a) {
    for (int b = 0x70; b < 0xd0; ++b) {
      for (int c = 0x70; c < 0xd0; ++c) check({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
    }
  }
}

TEST(JsonString, DenseEscapesGiveWhatAByteByByteEscaperGives) {
  // Strings where bytes that need escaping sit at every distance from each other: the 8-byte scan jumps to the first
  // such byte in a block, and must never skip one or escape a byte that needs none.
  // The reference: the load generator's escaper, which writes one byte at a time.
  auto reference = [](std::string_view s) {
    std::string out = "\"";
    saker::loadgen::append_json_escaped(out, s);
    return out + "\"";
  };
  const char alphabet[] = {'a', 'Z', '0', ' ', '~', '"', '\\', '\n', '\x01', '\x1f', '\x7f', '\t', '/'};
  std::uint64_t seed = 42;
  for (int n = 0; n < 20000; ++n) {
    std::string s;
    const std::size_t len = seed % 41;
    for (std::size_t i = 0; i < len; ++i) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      s.push_back(alphabet[(seed >> 33) % sizeof alphabet]);
    }
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    std::string out;
    saker::append_json_string(out, s);
    ASSERT_EQ(out, reference(s)) << n;
  }
}
