// Given a config file, saker either understands all of it or names every mistake with file:line:column.
#include <gtest/gtest.h>

#include "pipeline/config.hpp"
#include "test_util.hpp"

using namespace saker;

namespace {
std::unique_ptr<PipelineConfig> parse(const std::string& yaml, ConfigErrors& errors) { return parse_config(yaml, errors); }
}  // namespace

TEST(Config, TheIssueExampleParses) {
  ConfigErrors errors("saker.yaml");
  auto cfg = parse(R"(
sinks:
  - {name: siem, type: file, path: /var/log/saker/alerts.ndjson, format: json, min_priority: warning}
sources: []
)", errors);
  ASSERT_TRUE(cfg) << errors.to_string();
  ASSERT_EQ(cfg->sinks.size(), 1u);
  EXPECT_EQ(cfg->sinks[0].name, "siem");
  EXPECT_EQ(cfg->sinks[0].route.min_priority, Priority::Warning);
}

TEST(Config, EmbeddedDefaultIsValid) {
  ConfigErrors errors("<embedded default>");
  auto cfg = parse(default_config_text(), errors);
  ASSERT_TRUE(cfg) << errors.to_string();
  EXPECT_EQ(cfg->sinks[0].type, "stdout");
}

TEST(Config, EveryErrorIsListedWithItsPosition) {
  ConfigErrors errors("bad.yaml");
  auto cfg = parse(R"(sources: []
sinks:
  - {name: a, type: file, min_priority: severe}
  - {name: a, type: stdout}
  - {name: c, type: carrier_pigeon}
  - {name: b, type: stdout, fromat: json}
limits: {max_depth: 1000}
)", errors);
  EXPECT_FALSE(cfg);
  const std::string all = errors.to_string();
  EXPECT_NE(all.find("bad.yaml:3:5: sinks[0].path: is required"), std::string::npos) << all;
  EXPECT_NE(all.find("bad.yaml:3:41: sinks[0].min_priority: must be a Falco priority"), std::string::npos) << all;
  EXPECT_NE(all.find("bad.yaml:4:5: sinks[1].name: two sinks are named \"a\""), std::string::npos) << all;
  EXPECT_NE(all.find("bad.yaml:5:21: sinks[2].type: unknown sink type \"carrier_pigeon\""), std::string::npos) << all;
  EXPECT_NE(all.find("bad.yaml:6:29: sinks[3].fromat: unknown key, did you mean \"format\"?"), std::string::npos) << all;
  EXPECT_NE(all.find("bad.yaml:7:21: limits.max_depth: must be between 2 and 256"), std::string::npos) << all;
  EXPECT_EQ(errors.errors().size(), 6u) << all;
}

TEST(Config, InvalidYamlNamesLineAndColumn) {
  ConfigErrors errors("broken.yaml");
  EXPECT_FALSE(parse("sinks:\n  - {name: a, type: stdout\n", errors));
  ASSERT_EQ(errors.errors().size(), 1u);
  EXPECT_EQ(errors.errors()[0].line, 3);
  EXPECT_NE(errors.errors()[0].message.find("invalid YAML"), std::string::npos);
}

TEST(Config, MissingSectionsAreExplained) {
  ConfigErrors errors("empty.yaml");
  EXPECT_FALSE(parse("data_dir: /tmp/x\n", errors));
  const std::string all = errors.to_string();
  EXPECT_NE(all.find("sources: is required"), std::string::npos) << all;
  EXPECT_NE(all.find("sinks: is required"), std::string::npos) << all;
}

TEST(Config, SizesAndDurations) {
  EXPECT_EQ(parse_size("1MiB"), 1048576u);
  EXPECT_EQ(parse_size("64KiB"), 65536u);
  EXPECT_EQ(parse_size("10MB"), 10000000u);
  EXPECT_EQ(parse_size("123"), 123u);
  EXPECT_FALSE(parse_size("lots"));
  EXPECT_EQ(parse_duration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(parse_duration("5s"), std::chrono::milliseconds(5000));
  EXPECT_EQ(parse_duration("2m"), std::chrono::milliseconds(120000));
  EXPECT_FALSE(parse_duration("soon"));
  auto hp = parse_host_port("127.0.0.1:2801");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, 2801);
  auto v6 = parse_host_port("[::1]:2802");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_FALSE(parse_host_port("nohost"));
  EXPECT_FALSE(parse_host_port("h:99999"));
}

TEST(Config, SizesAndDurationsThatWouldOverflowAreRefusedNotWrapped) {
  EXPECT_EQ(parse_size("8589934591GiB"), 8589934591ULL * 1024 * 1024 * 1024);  // just under 8EiB
  EXPECT_FALSE(parse_size("8589934592GiB"));
  EXPECT_FALSE(parse_size("99999999999GiB"));
  EXPECT_FALSE(parse_size("18446744073709551616"));
  EXPECT_FALSE(parse_size("-1"));
  EXPECT_EQ(parse_duration("87600h"), std::chrono::hours(87600));
  EXPECT_EQ(parse_duration("1.5s"), std::chrono::milliseconds(1500));
  for (const char* d : {"87600.001h", "99999999999999h", "1e400h", "1e300", "inf", "infs", "nan", "nanms", "-5s",
                        "-0s", "+5s"}) {
    EXPECT_FALSE(parse_duration(d)) << d;
  }

  ConfigErrors errors("big.yaml");
  EXPECT_FALSE(parse(R"(shutdown_grace: 99999999999999h
limits: {max_alert_bytes: 99999999999GiB, max_fields: 99999999999999999999}
sources: []
sinks:
  - {name: a, type: stdout, batch_wait: inf, retry: {initial: 1e400s, max: 5s}}
)",
                     errors));
  const std::string all = errors.to_string();
  EXPECT_NE(all.find("big.yaml:1:17: shutdown_grace: \"99999999999999h\" is longer than any duration saker takes "
                     "(87600h, ten years)"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("big.yaml:2:27: limits.max_alert_bytes: \"99999999999GiB\" is larger than any size saker "
                     "takes (8EiB)"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("big.yaml:2:55: limits.max_fields: must be between 1 and 1000000, got 99999999999999999999"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("big.yaml:5:41: sinks[0].batch_wait: must be a duration"), std::string::npos) << all;
  EXPECT_NE(all.find("big.yaml:5:63: sinks[0].retry.initial: \"1e400s\" is longer"), std::string::npos) << all;
}

TEST(Config, BatchWaitIsReadAndBounded) {
  ConfigErrors errors("b.yaml");
  auto cfg = parse("sources: []\nsinks:\n  - {name: a, type: stdout, batch_size: 500, batch_wait: 250ms}\n", errors);
  ASSERT_TRUE(cfg) << errors.to_string();
  EXPECT_EQ(cfg->sinks[0].batch_size, 500u);
  EXPECT_EQ(cfg->sinks[0].batch_wait, std::chrono::milliseconds(250));
  ConfigErrors bad("b.yaml");
  EXPECT_FALSE(parse("sources: []\nsinks:\n  - {name: a, type: stdout, batch_wait: 2m}\n", bad));
  EXPECT_NE(bad.to_string().find("b.yaml:3:41: sinks[0].batch_wait: must be at most 1m"), std::string::npos)
      << bad.to_string();
}

TEST(Config, FormatOptionsConfigureEcsAndLeefAndAreCheckedPerFormat) {
  ConfigErrors errors("f.yaml");
  auto cfg = parse(R"(sources: []
sinks:
  - {name: a, type: stdout, format: ecs, format_options: {preserve_original: true}}
  - {name: b, type: stdout, format: ecs}
  - {name: c, type: stdout, format: leef, format_options: {delimiter: "^"}}
)", errors);
  ASSERT_TRUE(cfg) << errors.to_string();
  auto alert = test::decode_ok(R"({"rule":"Read sensitive file","priority":"Warning","output":"x",)"
                               R"("output_fields":{"proc.name":"cat"}})");
  std::string with, without, leef;
  cfg->sinks[0].formatter->format(*alert, with);
  cfg->sinks[1].formatter->format(*alert, without);
  cfg->sinks[2].formatter->format(*alert, leef);
  EXPECT_NE(with.find("\"original\""), std::string::npos) << with;
  EXPECT_EQ(without.find("\"original\""), std::string::npos) << without;
  EXPECT_NE(leef.find("|0x5E|"), std::string::npos) << leef;

  ConfigErrors bad("f.yaml");
  EXPECT_FALSE(parse(R"(sources: []
sinks:
  - {name: a, type: stdout, format: ecs, format_options: {preserve_orignal: true}}
  - {name: b, type: stdout, format: json, format_options: {pretty: true}}
  - {name: c, type: stdout, format: leef, format_options: {delimiter: ","}}
)", bad));
  const std::string all = bad.to_string();
  EXPECT_NE(all.find("sinks[0].format_options.preserve_orignal: unknown key, did you mean \"preserve_original\"?"),
            std::string::npos) << all;
  EXPECT_NE(all.find("sinks[1].format_options: format json takes no options"), std::string::npos) << all;
  EXPECT_NE(all.find("sinks[2].format_options.delimiter: must be tab or ^"), std::string::npos) << all;
}

// A key written as a list or a map where a name is expected is an error at its place, never an exception out of
// `saker check` (found by fuzz_inventory in the asset inventory's reader; the config had the same hole).
TEST(Config, AKeyThatIsNotAStringIsAnErrorWithItsPosition) {
  for (const char* yaml : {"enrich:\n  fields: {static: {[a]: b}}\nsources: []\nsinks: [{name: o, type: stdout}]\n",
                           "enrich:\n  fields: {templated: {{x: 1}: \"{rule}\"}}\nsources: []\nsinks: [{name: o, type: stdout}]\n"}) {
    ConfigErrors errors("saker.yaml");
    EXPECT_FALSE(parse_config(yaml, errors)) << yaml;
    EXPECT_NE(errors.to_string().find("saker.yaml:2:"), std::string::npos) << errors.to_string();
    EXPECT_NE(errors.to_string().find("a key must be a plain string"), std::string::npos) << errors.to_string();
  }
}
