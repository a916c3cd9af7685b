// Given an asset inventory (YAML, JSON or CSV), the assets stage adds the attributes of the most specific entry
// that matches an alert, and a bad inventory is refused with the line at fault.
#include <gtest/gtest.h>

#include <fstream>

#include <fmt/format.h>

#include "core/decode.hpp"
#include "enrich/assets.hpp"
#include "enrich/feeds/inventory.hpp"
#include "format/json.hpp"
#include "pipeline/config.hpp"
#include "test_util.hpp"

using namespace saker;
using saker::test::text_of;

namespace {

std::shared_ptr<Alert> fresh(std::string_view json) {
  static thread_local Decoder d;
  d.set_stages(true);
  auto r = d.decode(json);
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(r).value();
}

std::shared_ptr<const Inventory> inventory(std::string_view text, Inventory::Format f = Inventory::Format::Yaml) {
  auto r = Inventory::parse(text, f, "assets");
  if (!r) throw std::runtime_error(r.error().message);
  return r.value();
}

std::string inventory_error(std::string_view text, Inventory::Format f = Inventory::Format::Yaml) {
  auto r = Inventory::parse(text, f, "assets.yaml");
  EXPECT_FALSE(r) << "expected an error for " << text;
  return r ? std::string() : r.error().message;
}

std::string owner(const Inventory& inv, std::string_view alert) {
  const auto a = fresh(alert);
  const Inventory::Entry* e = inv.match(*a);
  if (!e) return "-";
  for (const auto& attr : e->attributes) {
    if (attr.name == "asset.owner") return std::string(attr.value.text);
  }
  return "?";
}

constexpr std::string_view kInventory = R"(
- {match: {hostname: "payments-db-*"}, owner: payments-team, criticality: high}
- {match: {hostname: "payments-db-*", k8s.ns.name: payments}, owner: payments-dba}
- {match: {hostname: payments-db-3}, owner: jane}
- {match: {hostname: "payments-*"}, owner: payments-any}
- {match: {hostname: "web-?"}, owner: web}
- {match: {container.image.repository: docker.io/library/nginx}, owner: nginx}
- {match: {k8s.pod.labels: {app: billing, tier: "d*"}}, owner: billing-db}
- {match: {k8s.pod.labels: {app: billing}}, owner: billing}
)";

std::string alert_on(std::string_view host, std::string_view fields = "") {
  return fmt::format(R"({{"rule":"r","priority":"Warning","hostname":"{}","output_fields":{{{}}}}})", host, fields);
}

}  // namespace

TEST(Glob, MatchesStarsAndQuestionMarks) {
  EXPECT_TRUE(glob_match("payments-db-*", "payments-db-3"));
  EXPECT_TRUE(glob_match("payments-db-*", "payments-db-"));
  EXPECT_FALSE(glob_match("payments-db-*", "payments-db"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(glob_match("a*b*c", "aXXbYY"));
  EXPECT_TRUE(glob_match("web-?", "web-1"));
  EXPECT_FALSE(glob_match("web-?", "web-12"));
  EXPECT_TRUE(glob_match("*.example.com", "a.b.example.com"));
  EXPECT_FALSE(glob_match("exact", "exactly"));
  // Backtracking stays linear enough for a hostile value: many stars against a long text that does not match.
  EXPECT_FALSE(glob_match("*a*a*a*a*a*a*b", std::string(4096, 'a')));
}

TEST(Inventory, TheMostSpecificEntryWins) {
  const auto inv = inventory(kInventory);
  EXPECT_EQ(owner(*inv, alert_on("payments-db-7")), "payments-team");            // glob, longer than payments-*
  EXPECT_EQ(owner(*inv, alert_on("payments-db-3")), "jane");                     // exact beats glob
  EXPECT_EQ(owner(*inv, alert_on("payments-db-7", R"("k8s.ns.name":"payments")")), "payments-dba");  // two facts
  EXPECT_EQ(owner(*inv, alert_on("payments-db-3", R"("k8s.ns.name":"payments")")), "payments-dba");  // two beat one
  EXPECT_EQ(owner(*inv, alert_on("payments-api")), "payments-any");
  EXPECT_EQ(owner(*inv, alert_on("web-1")), "web");
  EXPECT_EQ(owner(*inv, alert_on("web-12")), "-");
  EXPECT_EQ(owner(*inv, alert_on("h", R"("container.image.repository":"docker.io/library/nginx")")), "nginx");
  // Pod labels as Falco sends them (a list of key:value) or as k8s.pod.label[key] fields.
  EXPECT_EQ(owner(*inv, alert_on("h", R"("k8s.pod.labels":["app:billing","tier:db"])")), "billing-db");
  EXPECT_EQ(owner(*inv, alert_on("h", R"("k8s.pod.labels":["tier:web","app:billing"])")), "billing");
  EXPECT_EQ(owner(*inv, alert_on("h", R"("k8s.pod.label[app]":"billing","k8s.pod.label[tier]":"dmz")")), "billing-db");
  EXPECT_EQ(owner(*inv, alert_on("h", R"("k8s.pod.labels":["app:billingx"])")), "-");
  EXPECT_EQ(owner(*inv, alert_on("unknown")), "-");
}

TEST(Inventory, EqualSpecificityGoesToTheEarlierEntry) {
  const auto inv = inventory(R"(
- {match: {hostname: "db-*"}, owner: first}
- {match: {hostname: "db-*"}, owner: second}
)");
  EXPECT_EQ(owner(*inv, alert_on("db-1")), "first");
}

TEST(Inventory, YamlJsonAndCsvSayTheSame) {
  const auto yaml = inventory(R"(
- {match: {hostname: "db-*", k8s.ns.name: prod}, owner: dba, criticality: high, tier: 1}
- {match: {hostname: web-1}, owner: "web, inc."}
)");
  const auto json = inventory(R"({"assets":[{"match":{"hostname":"db-*","k8s.ns.name":"prod"},"owner":"dba","criticality":"high","tier":1},
{"match":{"hostname":"web-1"},"owner":"web, inc."}]})", Inventory::Format::Json);
  const auto csv = inventory("match.hostname,match.k8s.ns.name,owner,criticality,tier\r\ndb-*,prod,dba,high,1\r\nweb-1,,\"web, inc.\",,\r\n",
                             Inventory::Format::Csv);
  for (const auto& inv : {yaml, json, csv}) {
    ASSERT_EQ(inv->size(), 2u);
    EXPECT_EQ(owner(*inv, alert_on("db-9", R"("k8s.ns.name":"prod")")), "dba");
    EXPECT_EQ(owner(*inv, alert_on("db-9")), "-");
    EXPECT_EQ(owner(*inv, alert_on("web-1")), "web, inc.");
  }
  // Typed values from YAML and JSON; CSV cells are strings.
  EXPECT_EQ(yaml->entries()[0].attributes[2].value.kind, Value::Kind::Int);
  EXPECT_EQ(json->entries()[0].attributes[2].value.kind, Value::Kind::Int);
  EXPECT_EQ(csv->entries()[0].attributes[2].value.kind, Value::Kind::String);
}

TEST(Inventory, BadInventoriesNameTheLine) {
  EXPECT_NE(inventory_error("- {owner: x}\n").find("assets.yaml:1: an entry needs a `match`"), std::string::npos);
  EXPECT_NE(inventory_error("- {match: {hostname: a}, owner: x}\n- {match: {hostname: [a]}, owner: y}\n").find("assets.yaml:2:"),
            std::string::npos);
  EXPECT_NE(inventory_error("- {match: {hostname: a}, \"bad name\": x}\n").find("is not an attribute name"), std::string::npos);
  EXPECT_NE(inventory_error("- {match: {hostname: a}, owner: x, owner: y}\n").find("assets.yaml:1:"), std::string::npos);
  EXPECT_NE(inventory_error("- [unclosed\n").find("assets.yaml:"), std::string::npos);
  EXPECT_NE(inventory_error("owner: x\n").find("must be a list"), std::string::npos);
  // Keys that are lists or maps (found by fuzz_inventory): an error with the line, never an exception.
  EXPECT_NE(inventory_error("- {match: {hostname: a}}\n- {match: {[a]: b}}\n").find("assets.yaml:2: a key must be a plain string"),
            std::string::npos);
  EXPECT_NE(inventory_error("- {match: {hostname: a}, {x: 1}: y}\n").find("a key must be a plain string"), std::string::npos);
  EXPECT_NE(inventory_error(R"([{"match":{"hostname":"a"}},{"owner":"x"}])", Inventory::Format::Json).find("entry 2:"),
            std::string::npos);
  EXPECT_NE(inventory_error(R"([{"match":)", Inventory::Format::Json).find("invalid JSON"), std::string::npos);
  EXPECT_NE(inventory_error("owner\nx\n", Inventory::Format::Csv).find("no match.<field> column"), std::string::npos);
  EXPECT_NE(inventory_error("match.hostname,owner\na,b\nc\n", Inventory::Format::Csv).find("assets.yaml:3: 1 cells"),
            std::string::npos);
  EXPECT_NE(inventory_error("match.hostname,owner\n\"a,b\n", Inventory::Format::Csv).find("not closed"), std::string::npos);
  InventoryLimits small;
  small.max_entries = 2;
  auto r = Inventory::parse("- {match: {hostname: a}}\n- {match: {hostname: b}}\n- {match: {hostname: c}}\n",
                            Inventory::Format::Yaml, "assets.yaml", small);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("more than 2 entries"), std::string::npos);
  auto big = Inventory::parse("- {match: {hostname: " + std::string(5000, 'a') + "}}\n", Inventory::Format::Yaml, "assets.yaml");
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message.find("over 4096 bytes"), std::string::npos);
}

TEST(Assets, TheStageAddsEveryAttributeAndNeverReplacesFalcos) {
  const std::string path = testing::TempDir() + "assets_test_inventory.yaml";
  {
    std::ofstream f(path);
    f << "- {match: {hostname: \"payments-db-*\"}, owner: payments-team, criticality: high, tier: 1, pci: true,\n"
         "   contacts: [a@example.com, b@example.com], location: {dc: fra1, rack: 12}}\n";
  }
  ConfigErrors errors("test.yaml");
  auto cfg = parse_config(fmt::format("enrich:\n  assets: {{path: {}}}\nsinks: [{{name: out, type: stdout}}]\n", path), errors,
                          ConfigUse::replay);
  ASSERT_TRUE(cfg) << errors.to_string();
  Metrics metrics;
  StageChain chain;
  for (const auto& s : cfg->stages) {
    StageContext ctx{s.name, metrics, "/tmp"};
    chain.add(s.name, s.build(ctx), metrics.timing("t", "t", {{"stage", s.name}}));
  }
  for (int i = 0; i < 3; ++i) {  // the second and third find the first's fields in the cache: the same result
    auto a = fresh(R"({"rule":"r","priority":"Warning","hostname":"payments-db-3","output_fields":{"asset.tier":"falco says"}})");
    chain.run(*a);
    EXPECT_EQ(text_of(*a, "asset.owner"), "payments-team");
    EXPECT_EQ(text_of(*a, "asset.criticality"), "high");
    EXPECT_EQ(text_of(*a, "asset.tier"), "falco says");
    EXPECT_EQ(text_of(*a, "asset.pci"), "true");
    EXPECT_EQ(text_of(*a, "asset.contacts"), R"(["a@example.com","b@example.com"])");
    EXPECT_EQ(text_of(*a, "asset.location.dc"), "fra1");
    EXPECT_EQ(text_of(*a, "asset.location.rack"), "12");
  }
  auto miss = fresh(R"({"rule":"r","priority":"Warning","hostname":"web-1"})");
  chain.run(*miss);
  EXPECT_FALSE(miss->has_fields_added());
  EXPECT_EQ(metrics.counter_value("saker_enrich_hits_total", {{"stage", "assets"}}), 3u);
  EXPECT_EQ(metrics.counter_value("saker_enrich_lookups_total", {{"stage", "assets"}, {"result", "not_found"}}), 1u);
}

TEST(Assets, AMissingOrBadInventoryIsAConfigErrorWithItsPosition) {
  ConfigErrors errors("test.yaml");
  auto cfg = parse_config("enrich:\n  assets: {path: /nonexistent/assets.yaml}\nsinks: [{name: out, type: stdout}]\n", errors,
                          ConfigUse::replay);
  EXPECT_FALSE(cfg);
  EXPECT_NE(errors.to_string().find("test.yaml:2:"), std::string::npos) << errors.to_string();
  EXPECT_NE(errors.to_string().find("cannot read /nonexistent/assets.yaml"), std::string::npos) << errors.to_string();
  ConfigErrors e2("test.yaml");
  EXPECT_FALSE(parse_config("enrich:\n  assets: {path: a.yaml, format: xml}\nsinks: [{name: out, type: stdout}]\n", e2,
                            ConfigUse::replay));
  EXPECT_NE(e2.to_string().find("must be yaml, json or csv"), std::string::npos) << e2.to_string();
}
