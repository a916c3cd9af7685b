// Given Falco's JSON in its real shapes, the decoder yields the Alert every stage relies on.
#include <gtest/gtest.h>

#include <filesystem>
#include <limits>
#include <thread>

#include <fmt/format.h>

#include "core/decode.hpp"
#include "core/time.hpp"
#include "format/json.hpp"
#include "test_util.hpp"

using namespace saker;
using saker::test::decode_ok;
using saker::test::text_of;

namespace {

Error decode_err(std::string_view json, DecodeLimits limits = {}) {
  Decoder d(limits);
  auto r = d.decode(json);
  EXPECT_FALSE(r.ok()) << "expected a refusal for " << json;
  return r ? Error{} : r.error();
}

}  // namespace

TEST(Decode, RealFalcoShapeKeepsEveryField) {
  auto a = decode_ok(test::read_file(test::data_path("sample_alerts/01_read_sensitive_file_untrusted_warning.json")));
  EXPECT_EQ(a->rule, "Read sensitive file untrusted");
  EXPECT_EQ(a->priority, Priority::Warning);
  EXPECT_EQ(a->source, "syscall");
  EXPECT_EQ(a->hostname, "97ade2b595f0");
  EXPECT_TRUE(a->has_output_fields);
  EXPECT_EQ(a->time_ns, 1715108059341081180LL);
  ASSERT_EQ(a->tags.size(), 6u);
  EXPECT_EQ(a->tags[0], "T1555");
  EXPECT_EQ(text_of(*a, "fd.name"), "/etc/shadow");
  EXPECT_EQ(text_of(*a, "proc.cmdline"), "event-generator run --loop");
  EXPECT_EQ(text_of(*a, "user.loginuid"), "-1");
  // 64-bit integers survive exactly.
  Value v;
  ASSERT_TRUE(a->lookup("evt.time.iso8601", v));
  EXPECT_EQ(v.kind, Value::Kind::Int);
  EXPECT_EQ(v.i, 1715108059341081180LL);
}

TEST(Decode, EverySampleAlertIsAcceptedAndRoundTrips) {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(test::data_path("sample_alerts"))) {
    if (entry.path().extension() != ".json") continue;
    ++n;
    const std::string text = test::read_file(entry.path().string());
    auto a = decode_ok(text);
    std::string out;
    JsonFormatter().format(*a, out);
    EXPECT_EQ(out.find('\n'), std::string::npos);
    auto b = decode_ok(out);
    EXPECT_EQ(b->rule, a->rule) << entry.path();
    EXPECT_EQ(b->priority, a->priority);
    EXPECT_EQ(b->uuid, a->uuid);
    EXPECT_EQ(b->time_ns, a->time_ns);
    ASSERT_EQ(b->fields().size(), a->fields().size());
    for (std::size_t i = 0; i < a->fields().size(); ++i) {
      EXPECT_EQ(b->fields()[i].name, a->fields()[i].name);
      EXPECT_EQ(b->fields()[i].value.to_text(), a->fields()[i].value.to_text());
    }
    // Without a generated uuid the output is byte-for-byte the input.
    if (!a->uuid_generated) {
      std::string trimmed = text;
      while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r')) trimmed.pop_back();
      EXPECT_EQ(out, trimmed);
    }
  }
  EXPECT_EQ(n, 10);
}

TEST(Decode, FlattenedShapeWithIntegerTime) {
  auto a = decode_ok(
      R"({"rule":"Terminal shell in container","priority":"notice","time":1715108059341081180,)"
      R"("proc.name":"bash","k8s.ns.name":"prod","evt.num":18446744073709551615})");
  EXPECT_FALSE(a->has_output_fields);
  EXPECT_TRUE(a->time_was_integer);
  EXPECT_EQ(a->time_ns, 1715108059341081180LL);
  EXPECT_EQ(a->priority, Priority::Notice);
  EXPECT_EQ(text_of(*a, "proc.name"), "bash");
  EXPECT_EQ(text_of(*a, "evt.num"), "18446744073709551615");
  ASSERT_NE(a->find_field("k8s.ns.name"), nullptr);
  EXPECT_TRUE(a->find_field("k8s.ns.name")->top_level);
}

TEST(Decode, PriorityNamesAreCaseInsensitiveAndInfoAliases) {
  for (const char* p : {"Info", "informational", "INFORMATIONAL", "info"}) {
    auto a = decode_ok(fmt::format(R"({{"rule":"r","priority":"{}"}})", p));
    EXPECT_EQ(a->priority, Priority::Informational) << p;
  }
  EXPECT_LT(Priority::Debug, Priority::Informational);
  EXPECT_LT(Priority::Notice, Priority::Warning);
  EXPECT_LT(Priority::Critical, Priority::Emergency);
}

TEST(Decode, NullBoolArrayObjectValuesSurvive) {
  auto a = decode_ok(R"({"rule":"r","priority":"Error","output_fields":{"a":null,"b":true,"c":[1,"x",[2]],"d":{"k":"v"},"e":1.5}})");
  Value v;
  ASSERT_TRUE(a->lookup("a", v));
  EXPECT_TRUE(v.is_null());
  ASSERT_TRUE(a->lookup("b", v));
  EXPECT_EQ(v.kind, Value::Kind::Bool);
  ASSERT_TRUE(a->lookup("c", v));
  ASSERT_EQ(v.kind, Value::Kind::Array);
  ASSERT_EQ(a->items(v).size(), 3u);
  EXPECT_EQ(a->items(v)[1].text, "x");
  EXPECT_EQ(a->items(v)[2].kind, Value::Kind::Array);
  EXPECT_EQ(v.text, R"([1,"x",[2]])");
  ASSERT_TRUE(a->lookup("d", v));
  EXPECT_EQ(v.kind, Value::Kind::Object);
  EXPECT_EQ(v.text, R"({"k":"v"})");
  ASSERT_TRUE(a->lookup("e", v));
  EXPECT_EQ(v.d, 1.5);
}

TEST(Decode, UnknownTopLevelKeysAreKept) {
  auto a = decode_ok(R"({"rule":"r","priority":"Error","output_fields":{},"cluster":"eu-1"})");
  EXPECT_EQ(text_of(*a, "cluster"), "eu-1");
  EXPECT_NE(a->json().find("\"cluster\":\"eu-1\""), std::string::npos);
}

TEST(Decode, GeneratedUuidIsDeterministicAndAdded) {
  const char* json = R"({"rule":"Write below binary dir","priority":"Error","time":"2019-05-17T15:31:56.746609046Z","hostname":"h","output":"x"})";
  auto a = decode_ok(json);
  auto b = decode_ok(json);
  EXPECT_TRUE(a->uuid_generated);
  EXPECT_EQ(a->uuid, b->uuid);
  EXPECT_EQ(a->uuid.size(), 36u);
  EXPECT_EQ(a->uuid[14], '8');  // version 8
  EXPECT_NE(a->json().find(std::string("\"uuid\":\"") + std::string(a->uuid) + "\""), std::string::npos);
  auto c = decode_ok(R"({"rule":"Write below binary dir","priority":"Error","time":"2019-05-17T15:31:56.746609047Z","hostname":"h","output":"x"})");
  EXPECT_NE(a->uuid, c->uuid);
  auto given = decode_ok(R"({"uuid":"7466e462-ddde-434d-8dee-390ca5656f83","rule":"r","priority":"Error"})");
  EXPECT_FALSE(given->uuid_generated);
  EXPECT_EQ(given->uuid, "7466e462-ddde-434d-8dee-390ca5656f83");
}

// "uuid":"" names no alert: it gets a generated uuid in the empty one's place, never a second "uuid" key, whatever
// the JSON's shape (a key written with escapes, pretty-printed, fields added after it, the persisted form).
TEST(Decode, AnEmptyUuidIsReplacedNotNamedTwice) {
  const std::string shapes[] = {
      R"({"uuid":"","rule":"r","priority":"Error","output":"x"})",
      R"({"rule":"r","u\u0075id":"","priority":"Error","output_fields":{"a":1.5e3},"tags":["t"]})",
      "{\n  \"rule\": \"r\",\n  \"priority\": \"Error\",\n  \"uuid\": \"\"\n}\n",
  };
  for (const std::string& json : shapes) {
    SCOPED_TRACE(json);
    Decoder d;
    auto r = d.decode(json);
    ASSERT_TRUE(r.ok()) << r.error().message;
    std::shared_ptr<Alert> a = r.value();
    EXPECT_TRUE(a->uuid_generated);
    ASSERT_EQ(a->uuid.size(), 36u);
    EXPECT_EQ(a->uuid, decode_ok(json)->uuid);  // deterministic, as for a missing uuid
    const std::string_view j = a->json();
    const auto at = j.find(std::string("\"uuid\":\"") + std::string(a->uuid) + "\"");
    ASSERT_NE(at, std::string::npos) << j;
    EXPECT_EQ(j.find("uuid", at + 5), std::string::npos) << j;
    EXPECT_EQ(j.find("\\u0075id"), std::string::npos) << j;
    // Fields and tags spliced into the json format keep it one valid alert with one uuid.
    a->add_field("added.one", Value::string("v"));
    a->add_tag("mine");
    std::string out;
    JsonFormatter().format(*a, out);
    auto again = decode_ok(out);
    EXPECT_EQ(again->uuid, a->uuid);
    EXPECT_FALSE(again->uuid_generated);
    EXPECT_EQ(text_of(*again, "added.one"), "v");
    // The persisted form reads back to the same alert.
    Decoder back;
    auto b = back.decode(a->persisted(), Decoder::Mode::Persisted);
    ASSERT_TRUE(b.ok()) << b.error().message;
    EXPECT_EQ(b.value()->json(), a->json());
    EXPECT_EQ(b.value()->uuid, a->uuid);
    EXPECT_EQ(b.value()->persisted(), a->persisted());
  }
}

TEST(Decode, PrettyPrintedInputBecomesOneLine) {
  auto a = decode_ok("{\n  \"rule\": \"r\",\n  \"priority\": \"Error\"\n}\n");
  EXPECT_EQ(a->json().find('\n'), std::string::npos);
  EXPECT_EQ(a->rule, "r");
}

TEST(Decode, EscapedStringsAreUnescaped) {
  auto a = decode_ok(R"({"rule":"r","priority":"Error","output_fields":{"proc.cmdline":"sh -c \"echo \\ hi\"\n\u00e9"}})");
  EXPECT_EQ(text_of(*a, "proc.cmdline"), "sh -c \"echo \\ hi\"\n\xc3\xa9");
}

TEST(Decode, ManyLongStringsOutgrowTheArenaSafely) {
  // Escapes make the unescaped text shorter, never longer; nested arrays store both their text and elements.
  std::string json = R"({"rule":"r","priority":"Error","output_fields":{)";
  for (int i = 0; i < 50; ++i) json += fmt::format(R"("f{}":[["{}","{}"]],)", i, std::string(100, 'a' + i % 26), i);
  json += R"("last":"end"}})";
  auto a = decode_ok(json);
  EXPECT_EQ(text_of(*a, "last"), "end");
  Value v;
  ASSERT_TRUE(a->lookup("f49", v));
  EXPECT_EQ(a->items(a->items(v)[0])[0].text, std::string(100, 'a' + 49 % 26));
  EXPECT_EQ(a->rule, "r");
}

TEST(Decode, ArrayElementsStayValidWhenTheArenaGrows) {
  // An array stores its text and each element: two long elements outgrow the first arena reservation.
  const std::string json = R"({"rule":"r","priority":"Debug","output_fields":{"a":[")" + std::string(300, 'x') +
                           R"(",")" + std::string(300, 'y') + R"(",[")" + std::string(300, 'z') + R"("]]}})";
  auto a = decode_ok(json);
  Value v;
  ASSERT_TRUE(a->lookup("a", v));
  ASSERT_EQ(a->items(v).size(), 3u);
  EXPECT_EQ(a->items(v)[0].text, std::string(300, 'x'));
  EXPECT_EQ(a->items(v)[1].text, std::string(300, 'y'));
  EXPECT_EQ(a->items(a->items(v)[2])[0].text, std::string(300, 'z'));
  EXPECT_EQ(a->find_field("a")->name, "a");
}

TEST(Decode, RefusesWithClearReasons) {
  EXPECT_EQ(decode_err(R"({"priority":"Error"})").code, "missing_rule");
  EXPECT_EQ(decode_err(R"({"rule":"r"})").code, "missing_priority");
  EXPECT_EQ(decode_err(R"({"rule":"r","priority":"Severe"})").code, "unknown_priority");
  EXPECT_EQ(decode_err(R"({"rule":"r","priority":"Error")").code, "invalid_json");
  EXPECT_EQ(decode_err("[1,2]").code, "not_object");
  EXPECT_EQ(decode_err("\"x\"").code, "not_object");
  EXPECT_EQ(decode_err("").code, "invalid_json");
  EXPECT_EQ(decode_err("{\"rule\":\"\xff\xfe\",\"priority\":\"Error\"}").code, "invalid_utf8");
  EXPECT_EQ(decode_err(R"({"rule":5,"priority":"Error"})").code, "bad_field_type");
  EXPECT_EQ(decode_err(R"({"rule":"r","priority":"Error","time":"yesterday"})").code, "bad_time");
  const Error unknown = decode_err(R"({"rule":"r","priority":"Severe"})");
  EXPECT_NE(unknown.message.find("Severe"), std::string::npos);
}

TEST(Decode, LimitsAreEnforced) {
  DecodeLimits small{200, 4, 5};
  std::string big = R"({"rule":"r","priority":"Error","output":")" + std::string(300, 'x') + "\"}";
  EXPECT_EQ(decode_err(big, small).code, "too_large");
  EXPECT_EQ(decode_err(R"({"rule":"r","priority":"Error","a":[[[[[[1]]]]]]})", small).code, "too_deep");
  EXPECT_EQ(decode_err(R"({"rule":"r","priority":"Error","output_fields":{"a":1,"b":2,"c":3,"d":4}})", small).code,
            "too_many_fields");
}

TEST(Time, Rfc3339RoundTrips) {
  EXPECT_EQ(parse_rfc3339_ns("2024-05-07T18:54:19.341081180Z"), 1715108059341081180LL);
  EXPECT_EQ(parse_rfc3339_ns("2001-01-01T01:10:00Z"), 978311400000000000LL);
  EXPECT_EQ(parse_rfc3339_ns("2024-05-07T20:54:19.341081180+02:00"), 1715108059341081180LL);
  EXPECT_EQ(parse_rfc3339_ns("1970-01-01T00:00:00.5Z"), 500000000LL);
  EXPECT_FALSE(parse_rfc3339_ns("2024-13-07T18:54:19Z"));
  EXPECT_FALSE(parse_rfc3339_ns("2024-05-07T18:54:19"));
  EXPECT_FALSE(parse_rfc3339_ns("2024-05-07T18:54:19Zjunk"));
  EXPECT_EQ(format_rfc3339_ns(1715108059341081180LL), "2024-05-07T18:54:19.341081180Z");
  EXPECT_EQ(format_rfc3339_ms(1715108059341081180LL), "2024-05-07T18:54:19.341Z");
}

TEST(Decode, FieldTableIsBuiltOnceOnFirstUseFromAnyThread) {
  // Decoding validates and counts; the field table is built by whichever thread asks first (sinks run side by side).
  const std::string json = test::read_file(test::data_path("sample_alerts/05_critical_proc_tree_fields.json"));
  auto reference = decode_ok(json);
  const auto& want = reference->fields();
  ASSERT_FALSE(want.empty());
  for (int round = 0; round < 20; ++round) {
    auto a = decode_ok(json);
    std::vector<const std::vector<Field>*> seen(4, nullptr);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < seen.size(); ++t) {
      threads.emplace_back([&, t] { seen[t] = &a->fields(); });
    }
    for (auto& t : threads) t.join();
    for (const auto* f : seen) ASSERT_EQ(f, seen[0]) << "one table, built once";
    ASSERT_EQ(seen[0]->size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ((*seen[0])[i].name, want[i].name);
      EXPECT_EQ((*seen[0])[i].value.to_text(), want[i].value.to_text());
    }
  }
}

TEST(Decode, TagsAndListsResolveThroughItems) {
  auto a = decode_ok(R"({"rule":"r","priority":"Error","tags":["a","b"],"output_fields":{"l":["x",["y"]]}})");
  Value tags;
  ASSERT_TRUE(a->lookup("tags", tags));
  ASSERT_EQ(a->items(tags).size(), 2u);
  EXPECT_EQ(a->items(tags)[1].text, "b");
  Value l;
  ASSERT_TRUE(a->lookup("l", l));
  ASSERT_EQ(a->items(l).size(), 2u);
  EXPECT_EQ(a->items(a->items(l)[1])[0].text, "y");
}

TEST(Decode, LimitsAreCheckedAtDecodeNotWhenTheTableIsBuilt) {
  DecodeLimits small;
  small.max_fields = 6;
  EXPECT_EQ(decode_err(R"({"rule":"r","priority":"Error","output_fields":{"a":[1,2,3,4,5]}})", small).code,
            "too_many_fields");
  small = {};
  small.max_depth = 4;
  EXPECT_EQ(decode_err(R"({"rule":"r","priority":"Error","output_fields":{"a":[[[["deep"]]]]}})", small).code,
            "too_deep");
}

TEST(Decode, BelowTheFloorIsDroppedNotBuilt) {
  Decoder d;
  d.set_floor(Priority::Warning);
  auto low = d.decode(R"({"rule":"r","priority":"Notice","output_fields":{"a":1}})");
  ASSERT_TRUE(low.ok());
  EXPECT_EQ(low.value(), nullptr);
  auto high = d.decode(R"({"rule":"r","priority":"Error","output_fields":{"a":1}})");
  ASSERT_TRUE(high.ok());
  ASSERT_NE(high.value(), nullptr);
  EXPECT_EQ(high.value()->priority, Priority::Error);
  // Whose priority reads plainly and once is dropped unparsed: what only the parser checks is not checked in an alert
  // no route would take (core/json_scan.hpp).
  auto unchecked = d.decode(R"({"rule":"r","priority":"Notice","time":"yesterday"})");
  ASSERT_TRUE(unchecked.ok());
  EXPECT_EQ(unchecked.value(), nullptr);
  // What that read cannot settle is decoded in full, and refused with its reason.
  EXPECT_EQ(d.decode(R"({"rule":"r","priority":"Notice",)").error().code, "invalid_json");
  EXPECT_EQ(d.decode(R"({"rule":"r","time":"yesterday","priority":"Noti\u0063e"})").error().code, "bad_time");
  EXPECT_EQ(d.decode(R"({"rule":"r","priority":"Low"})").error().code, "unknown_priority");
}

TEST(Decode, EventTimesOutsideInt64NanosecondsAreRefusedNotWrapped) {
  for (const char* t : {"9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2262-04-11T23:47:16.854775808Z",
                        "1677-09-21T00:12:43.145224191Z", "2262-04-11T23:47:16.854775807-00:01"}) {
    const Error e = decode_err(fmt::format(R"({{"rule":"r","priority":"Error","time":"{}"}})", t));
    EXPECT_EQ(e.code, "bad_time") << t;
    EXPECT_NE(e.message.find(t), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z"), std::string::npos)
        << e.message;
  }
  EXPECT_EQ(decode_ok(R"({"rule":"r","priority":"Error","time":"2262-04-11T23:47:16.854775807Z"})")->time_ns,
            std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(decode_ok(R"({"rule":"r","priority":"Error","time":"1677-09-21T00:12:43.145224192Z"})")->time_ns,
            std::numeric_limits<std::int64_t>::min());
}

TEST(Decode, DatesThatDoNotExistAreRefused) {
  for (const char* t : {"2024-02-31T00:00:00Z", "2023-02-29T00:00:00Z", "1900-02-29T12:00:00Z", "2024-05-07T24:00:00Z",
                        "2016-12-31T23:59:60Z", "2024-13-01T00:00:00Z", "2024-05-07T18:54:19.3410811801Z"}) {
    EXPECT_EQ(decode_err(fmt::format(R"({{"rule":"r","priority":"Error","time":"{}"}})", t)).code, "bad_time") << t;
  }
  EXPECT_TRUE(decode_ok(R"({"rule":"r","priority":"Error","time":"2000-02-29T00:00:00Z"})"));
}

TEST(Decode, IntegerTimeIsInt64NanosecondsAndNothingElse) {
  // Every int64 is an instant (negative: before 1970); nothing larger, and no fractions or exponents.
  EXPECT_EQ(decode_ok(R"({"rule":"r","priority":"Error","time":9223372036854775807})")->time_ns,
            std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(decode_ok(R"({"rule":"r","priority":"Error","time":-9223372036854775808})")->time_ns,
            std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(decode_ok(R"({"rule":"r","priority":"Error","time":-1})")->time_ns, -1);
  for (const char* t : {"9223372036854775808", "18446744073709551615"}) {
    const Error e = decode_err(fmt::format(R"({{"rule":"r","priority":"Error","time":{}}})", t));
    EXPECT_EQ(e.code, "bad_time") << t;
    EXPECT_NE(e.message.find("2262-04-11T23:47:16.854775807Z"), std::string::npos) << e.message;
  }
  for (const char* t : {"1.5e18", "1715108059.341", "1715108059341081180.0", "-1e300"}) {
    const Error e = decode_err(fmt::format(R"({{"rule":"r","priority":"Error","time":{}}})", t));
    EXPECT_EQ(e.code, "bad_time") << t;
    EXPECT_NE(e.message.find("integer nanoseconds"), std::string::npos) << e.message;
  }
  // Beyond what any JSON number type holds: refused either way, never wrapped.
  EXPECT_FALSE(Decoder().decode(R"({"rule":"r","priority":"Error","time":99999999999999999999})").ok());
  EXPECT_EQ(decode_err(R"({"rule":"r","priority":"Error","time":true})").code, "bad_field_type");
}

TEST(Decode, ADuplicateKeyIsRefusedSoRouterAndSiemSeeOneValue) {
  const Error e = decode_err(R"({"rule":"first","priority":"Debug","rule":"second","priority":"Emergency"})");
  EXPECT_EQ(e.code, "duplicate_key");
  EXPECT_NE(e.message.find("\"rule\""), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("top level"), std::string::npos) << e.message;
  // Equal once unescaped is equal.
  EXPECT_EQ(decode_err(R"({"rule":"a","\u0072ule":"b","priority":"Error"})").code, "duplicate_key");
  EXPECT_EQ(decode_err(R"({"rule":"a","priority":"Error","prior\u0069ty":"Debug"})").code, "duplicate_key");
  // Unknown keys too, and the flattened shape's fields.
  EXPECT_EQ(decode_err(R"({"rule":"a","priority":"Error","proc.name":"bash","proc.name":"sshd"})").code,
            "duplicate_key");
  EXPECT_EQ(decode_err(R"({"rule":"a","priority":"Error","time":1,"time":2})").code, "duplicate_key");
  EXPECT_EQ(decode_err(R"({"rule":"a","priority":"Error","output_fields":{},"output_fields":{}})").code,
            "duplicate_key");
  EXPECT_EQ(decode_err(R"({"rule":"a","priority":"Error","":1,"":2})").code, "duplicate_key");
}

TEST(Decode, ADuplicateOutputFieldIsRefusedWhereverItHides) {
  const Error e = decode_err(
      R"({"rule":"r","priority":"Error","output_fields":{"proc.name":"bash","fd.name":"/x","proc.name":"sshd"}})");
  EXPECT_EQ(e.code, "duplicate_key");
  EXPECT_NE(e.message.find("\"proc.name\" appears twice in output_fields"), std::string::npos) << e.message;
  EXPECT_EQ(
      decode_err(R"({"rule":"r","priority":"Error","output_fields":{"proc.name":"a","proc.nam\u0065":"b"}})").code,
      "duplicate_key");
  // One name, two places: a filter would find one and a format the other.
  const Error both =
      decode_err(R"({"rule":"r","priority":"Error","proc.name":"sshd","output_fields":{"proc.name":"bash"}})");
  EXPECT_EQ(both.code, "duplicate_key");
  EXPECT_NE(both.message.find("in output_fields and at the top level"), std::string::npos) << both.message;
  EXPECT_EQ(decode_err(R"({"rule":"r","priority":"Error","output_fields":{"proc.name":"bash"},"proc.name":"x"})").code,
            "duplicate_key");
  // Objects nested in values (kept as JSON text, forwarded as sent) name each key once too.
  const Error nested =
      decode_err(R"({"rule":"r","priority":"Error","output_fields":{"ka.req":{"verb":"get","verb":"delete"}}})");
  EXPECT_EQ(nested.code, "duplicate_key");
  EXPECT_NE(nested.message.find("inside \"ka.req\""), std::string::npos) << nested.message;
  EXPECT_EQ(decode_err(R"({"rule":"r","priority":"Error","output_fields":{"l":[1,{"a":{"b":1,"b":2}}]}})").code,
            "duplicate_key");
  EXPECT_EQ(decode_err(R"({"rule":"r","priority":"Error","cluster":{"id":1,"id":2}})").code, "duplicate_key");
  EXPECT_EQ(decode_err(R"({"rule":"r","priority":"Error","l":[[{"k":1,"k":1}]]})").code, "duplicate_key");
}

TEST(Decode, EqualKeysInDifferentObjectsAreNotDuplicates) {
  auto a = decode_ok(
      R"({"rule":"r","priority":"Error","output_fields":{"rule":"x","priority":"y","time":"z","a":{"a":1,"b":{"a":2}},)"
      R"("b":[{"a":1},{"a":2}],"c":{"output_fields":1}},"output":"o","hostname":"h"})");
  EXPECT_EQ(a->rule, "r");  // the top-level key; output_fields' "rule" is a field of its own
  EXPECT_EQ(a->priority, Priority::Error);
  ASSERT_NE(a->find_field("rule"), nullptr);
  EXPECT_EQ(a->find_field("rule")->value.text, "x");
  // The flattened shape: "output_fields" that is not an object is a field like any other.
  EXPECT_TRUE(decode_ok(R"({"rule":"r","priority":"Error","output_fields":"none","x":1})"));
}

TEST(Decode, DuplicatesAreFoundAmongManyKeysAndInLargeAlerts) {
  std::string fields;
  for (int i = 0; i < 1000; ++i) fields += fmt::format(R"("field.{}":{},)", i, i);
  const std::string ok = R"({"rule":"r","priority":"Error","output_fields":{)" + fields + R"("last":0}})";
  EXPECT_EQ(decode_ok(ok)->fields().size(), 1001u);
  const std::string dup = R"({"rule":"r","priority":"Error","output_fields":{)" + fields + R"("field.512":0}})";
  DecodeLimits limits;
  limits.max_fields = 5000;
  const Error e = decode_err(dup, limits);
  EXPECT_EQ(e.code, "duplicate_key");
  EXPECT_NE(e.message.find("field.512"), std::string::npos);
  // A long key is named by its first 64 bytes.
  const std::string key(500, 'k');
  const Error longer = decode_err(fmt::format(R"({{"rule":"r","priority":"Error","{}":1,"{}":2}})", key, key));
  EXPECT_EQ(longer.code, "duplicate_key");
  EXPECT_LT(longer.message.size(), 300u);
}

TEST(Decode, APriorityNamedTwiceBelowTheFloorIsStillRefused) {
  Decoder d;
  d.set_floor(Priority::Critical);
  auto r = d.decode(R"({"rule":"r","priority":"Debug","output_fields":{"a":1},"priority":"Emergency"})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "duplicate_key");
  // Whose priority reads one way only is dropped below the floor without being checked further (json_scan).
  auto low = d.decode(R"({"rule":"r","priority":"Debug","output_fields":{"a":1,"a":2}})");
  ASSERT_TRUE(low.ok());
  EXPECT_EQ(low.value(), nullptr);
}
