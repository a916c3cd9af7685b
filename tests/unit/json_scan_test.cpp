// json_scan reads an object's members without a parse: the priority a router needs first, from the start, and where
// the json format inserts added members, from the end.
#include <gtest/gtest.h>

#include <string>

#include "core/decode.hpp"
#include "core/json_scan.hpp"

using namespace saker;

namespace {

std::string priority_of(std::string_view obj) {
  const auto p = first_priority(obj);
  if (p && !no_priority_after(obj, *p)) return "<ambiguous>";
  return p ? std::string(*p) : "<none>";
}

}  // namespace

TEST(JsonScan, ReadsThePriorityWhereFalcoWritesIt) {
  EXPECT_EQ(priority_of(R"({"hostname":"h","output":"o \"q\" {x}","priority":"Warning","rule":"r","source":"syscall",)"
                        R"("tags":["t"],"time":"2024-01-01T00:00:00Z","output_fields":{"a":"}"}})"),
            "Warning");
  EXPECT_EQ(priority_of(R"({"hostname":"h","output":"o {x}","output_fields":{"a":"}{][","b":[1,"\"]"]},)"
                        R"("priority":"Notice","rule":"r","source":"syscall","tags":["t"],"time":"2024-01-01T00:00:00Z"})"),
            "Notice");
}

TEST(JsonScan, SkipsStringsWhateverTheyHoldAndAnyWhitespace) {
  EXPECT_EQ(priority_of(R"({"priority" : "Debug" , "rule" : "a\"b\\" , "x": "\\\\\"}" })"), "Debug");
  EXPECT_EQ(priority_of("{\n  \"priority\": \"Warning\",\n  \"output_fields\": {\"k\": \"\\\\\"}\n}"), "Warning");
  EXPECT_EQ(priority_of(R"({"priority":"Error","n":-1.5e3,"t":true,"z":null,"l":[],"output_fields":{}})"), "Error");
  // The top-level one, found past a nested "priority"; that a second one is named leaves the rest to the parser.
  EXPECT_EQ(first_priority(R"({"output_fields":{"priority":"Debug"},"priority":"Critical"})").value_or(""), "Critical");
  // Nested before the top-level one, it cannot be read as the alert's priority.
  EXPECT_EQ(priority_of(R"({"output_fields":{"priority":"Debug"},"priority":"Critical"})"), "Critical");
  EXPECT_EQ(first_priority(R"({"priority":"Critical","output_fields":{"priority":"Debug"}})").value_or(""), "Critical");
}

TEST(JsonScan, LeavesToTheParserWhatItCannotReadSafely) {
  EXPECT_EQ(priority_of(R"({"rule":"r"})"), "<none>");                          // no priority
  EXPECT_EQ(priority_of(R"({"priority":"Deb\u0075g","rule":"r"})"), "<none>");  // escapes in the value
  EXPECT_EQ(priority_of(R"({"\u0070riority":"Critical","priority":"Debug"})"), "<none>");  // an escaped key first
  EXPECT_EQ(priority_of(R"({"priority":3})"), "<none>");
  // "priority" twice, however written: the parser refuses it, whatever its priority.
  EXPECT_EQ(priority_of(R"({"priority":"Notice","rule":"a","priority":"Critical"})"), "<ambiguous>");
  EXPECT_EQ(priority_of(R"({"rule":"first","priority":"Debug","rule":"second","priority":"Emergency"})"), "<ambiguous>");
  EXPECT_EQ(priority_of(R"({"priority":"Notice","rule":"a","pri\u006frity":"Critical"})"), "<ambiguous>");
  EXPECT_EQ(priority_of(R"({"priority":"Notice","output_fields":{"priority":"Critical"}})"), "<ambiguous>");
  // A "priority" inside a string is not a key.
  EXPECT_EQ(priority_of(R"({"priority":"Notice","output":"the \"priority\" is low"})"), "Notice");
  EXPECT_EQ(priority_of("{}"), "<none>");
  EXPECT_EQ(priority_of("[]"), "<none>");
  EXPECT_EQ(priority_of(""), "<none>");
  EXPECT_EQ(priority_of(R"("priority":"Debug"})"), "<none>");
  // Not JSON: no answer or any answer, never a read out of bounds (ASan watches).
  for (std::string_view junk : {R"({"})", R"({"priority":"})", R"({:"x"})", R"({,"priority":"Debug"})", R"({\"})",
                                R"({"a":}})", R"({]})", R"({"priority""Debug"})"}) {
    (void)first_priority(junk);
    if (const auto p = first_priority(junk)) (void)no_priority_after(junk, *p);
  }
}

TEST(JsonScan, TheVectorScanAgreesWithThePortableOneAtEveryPositionAndLength) {
  // Each length from 0 to 130 crosses the 16- and 32-byte blocks and the byte-by-byte tail; the pair is placed at
  // every position, including across a block boundary, and harmless look-alikes fill the rest.
  const std::string filler = "\"proc.name\":\"p\\\"x\\\\\",\"pri\":\"u\\n\",";
  for (std::size_t len = 0; len <= 130; ++len) {
    std::string base;
    while (base.size() < len) base += filler;
    base.resize(len);
    EXPECT_TRUE(names_no_priority(base)) << base;
    EXPECT_TRUE(names_no_priority_portable(base)) << base;
    for (std::string_view needle : {std::string_view("\"priority\""), std::string_view("\\u0070")}) {
      for (std::size_t at = 0; at + needle.size() <= len; ++at) {
        std::string s = base;
        s.replace(at, needle.size(), needle);
        EXPECT_FALSE(names_no_priority(s)) << s;
        EXPECT_FALSE(names_no_priority_portable(s)) << s;
      }
    }
  }
  EXPECT_FALSE(names_no_priority(R"(,"proc.pname":"x","pri\u006frity":"y"})"));
  EXPECT_TRUE(names_no_priority(R"(,"proc.pname":"x","prio":"y","\\n":"the \"priority\" is"})"));
}

TEST(JsonScan, FindsTheSplicePointsByPositionNotName) {
  const std::string obj = R"({"output_fields":{"a":1},"\u0074ags":["x"],"time":"t"})";
  const SplicePoints sp = scan_splice_points(obj, 2, 1);
  ASSERT_NE(sp.fields_close, SplicePoints::npos);
  EXPECT_EQ(obj[sp.fields_close], '}');
  EXPECT_EQ(obj.substr(sp.fields_close - 2, 3), ":1}");
  EXPECT_FALSE(sp.fields_empty);
  ASSERT_NE(sp.tags_close, SplicePoints::npos);
  EXPECT_EQ(obj.substr(sp.tags_close - 3, 4), "\"x\"]");
  EXPECT_FALSE(sp.tags_empty);

  const std::string empty = R"({"output_fields":{ },"tags":[  ]})";
  const SplicePoints e = scan_splice_points(empty, 1, 0);
  EXPECT_EQ(e.fields_close, empty.find('}'));
  EXPECT_TRUE(e.fields_empty);
  EXPECT_EQ(e.tags_close, empty.find(']'));
  EXPECT_TRUE(e.tags_empty);

  // Not looked for, or not an object/array there: npos.
  const SplicePoints none = scan_splice_points(obj, -1, 0);
  EXPECT_EQ(none.fields_close, SplicePoints::npos);
  EXPECT_EQ(none.tags_close, SplicePoints::npos);
  EXPECT_EQ(scan_splice_points(obj, 7, 9).fields_close, SplicePoints::npos);
}

TEST(JsonScan, FindsTheSplicePointsPastStringsOfEveryLengthWithEscapedQuotes) {
  // Strings are skipped from their closing quote back to their opening one: the bytes near the end one by one, the
  // rest by memrchr. Escaped quotes and backslashes at every place, in strings short and long, must not fool it.
  const std::string prefix = R"({"output_fields":{"a":1})";
  for (std::size_t len = 0; len < 80; ++len) {
    for (std::size_t at = 0; at <= len; at += (len > 40 ? 7 : 1)) {
      for (const char* esc : {R"(\")", R"(\\)", R"(\\\")", R"(\\\\)"}) {
        std::string str(len, 'x');
        str.insert(at, esc);
        const std::string tags = R"(,"tags":[")" + str + R"(",")" + str + R"("])";
        const std::string obj = prefix + R"(,"k":")" + str + '"' + tags + R"(,"time":")" + str + R"("})";
        const SplicePoints sp = scan_splice_points(obj, 3, 1);
        ASSERT_EQ(sp.fields_close, prefix.size() - 1) << obj;
        ASSERT_EQ(sp.tags_close, prefix.size() + 7 + str.size() + tags.size() - 1) << obj;
      }
    }
  }
}

TEST(JsonScan, FindsTheSplicePointsByNameTheLastOfTheRightKind) {
  const std::string obj = R"({"tags":["a"],"output_fields":{"x":{"y":"}"}},"tags":"no","time":"t"})";
  const SplicePoints sp = scan_splice_points(obj);
  EXPECT_EQ(sp.fields_close, obj.find("},\"tags\":\"no\"")) << "the object, not a bracket inside a string";
  EXPECT_FALSE(sp.fields_empty);
  EXPECT_EQ(sp.tags_close, obj.find(']')) << "the array, not the later string";
  EXPECT_FALSE(sp.tags_empty);

  // Positions count from the text's first byte, whitespace around the object included.
  const std::string padded = R"(  {"output_fields":{ },"tags":[  ]} )";
  const SplicePoints e = scan_splice_points(padded);
  EXPECT_EQ(e.fields_close, padded.find('}'));
  EXPECT_TRUE(e.fields_empty);
  EXPECT_EQ(e.tags_close, padded.find(']'));
  EXPECT_TRUE(e.tags_empty);

  // Absent, of another kind, or nested deeper: npos.
  for (std::string_view none : {R"({"rule":"r"})", R"({"output_fields":[1],"tags":{}})",
                                R"({"a":{"output_fields":{"b":1},"tags":["t"]}})", "{}"}) {
    const SplicePoints n = scan_splice_points(none);
    EXPECT_EQ(n.fields_close, SplicePoints::npos) << none;
    EXPECT_EQ(n.tags_close, SplicePoints::npos) << none;
  }
  // The same answers as by position when both are known.
  const std::string falco = R"({"output":"o","priority":"Error","tags":["T1059"],"output_fields":{"proc.name":"sh"}})";
  const SplicePoints by_name = scan_splice_points(falco), by_position = scan_splice_points(falco, 0, 1);
  EXPECT_EQ(by_name.fields_close, by_position.fields_close);
  EXPECT_EQ(by_name.tags_close, by_position.tags_close);
  EXPECT_EQ(by_name.fields_empty, by_position.fields_empty);
  EXPECT_EQ(by_name.tags_empty, by_position.tags_empty);
}

TEST(JsonScan, BelowTheFloorIsDroppedAndEverythingElseDecodedInFull) {
  Decoder d;
  d.set_floor(Priority::Warning);
  // Below the floor and named once: dropped unparsed, so what only the parser checks (here a date and a key in
  // output_fields twice) is not checked — no route would take it however it reads.
  for (const char* low : {R"({"hostname":"h","priority":"Notice","rule":"r","time":"2024-02-31T00:00:00Z"})",
                          R"({"rule":"r","priority":"Debug","output_fields":{"proc.name":"a","proc.name":"b"}})"}) {
    auto r = d.decode(low);
    ASSERT_TRUE(r.ok()) << low;
    EXPECT_EQ(r.value(), nullptr) << low;
  }
  // A priority that could be read two ways is refused below the floor too.
  for (const char* twice : {R"({"rule":"first","priority":"Debug","rule":"second","priority":"Emergency"})",
                            R"({"rule":"r","priority":"Debug","pri\u006frity":"Emergency"})"}) {
    auto r = d.decode(twice);
    ASSERT_FALSE(r.ok()) << twice;
    EXPECT_EQ(r.error().code, "duplicate_key") << twice;
  }
  // What that read cannot settle takes the full decode, which refuses or keeps it.
  auto dup = d.decode(R"({"\u0070riority":"Critical","priority":"Notice","rule":"r"})");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, "duplicate_key");
  auto unknown = d.decode(R"({"priority":"Severe","rule":"r"})");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, "unknown_priority");
  auto kept = d.decode(R"({"output_fields":{"a":"}"},"priority":"warning","rule":"r"})");
  ASSERT_TRUE(kept.ok());
  ASSERT_NE(kept.value(), nullptr);
  EXPECT_EQ(kept.value()->priority, Priority::Warning);
}
