// Given stages after decode, an alert carries what they add — in lookup(), in the json format, through the
// persisted form — and never loses or changes what Falco sent.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "core/decode.hpp"
#include "core/field_names.hpp"
#include "core/stage.hpp"
#include "core/template.hpp"
#include "enrich/fields.hpp"
#include "enrich/mitre.hpp"
#include "format/json.hpp"
#include "pipeline/config.hpp"
#include "route/router.hpp"
#include "test_util.hpp"

using namespace saker;
using saker::test::json_of;
using saker::test::text_of;

namespace {

constexpr std::string_view kShell =
    R"({"uuid":"u-1","output":"shell","priority":"Notice","rule":"Terminal shell in container","time":"2024-08-28T21:35:04.518808525Z","output_fields":{"proc.name":"sh","user.name":"root","env":"falco-env"},"source":"syscall","tags":["T1059","container","mitre_execution","T1611.001","mitre_privilege_escalation"],"hostname":"h1"})";

std::shared_ptr<Alert> fresh(std::string_view json) {
  static thread_local Decoder d;
  auto r = d.decode(json);
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(r).value();
}

std::shared_ptr<const PipelineConfig> config(const std::string& yaml, ConfigErrors& errors) {
  auto cfg = parse_config(yaml, errors, ConfigUse::replay);
  return cfg;
}

}  // namespace

TEST(AddedFields, AreSeenByLookupAndNeverReplaceFalcosFields) {
  auto a = fresh(kShell);
  EXPECT_EQ(a->add_field("cluster", Value::string("eu-1")), Alert::AddResult::Added);
  EXPECT_EQ(a->add_field("env", Value::string("prod")), Alert::AddResult::Exists);  // Falco's output field
  EXPECT_EQ(a->add_field("rule", Value::string("forged")), Alert::AddResult::Exists);
  EXPECT_EQ(a->add_field("cluster", Value::string("again")), Alert::AddResult::Exists);
  EXPECT_EQ(a->add_field("_saker", Value::string("x")), Alert::AddResult::Exists);
  EXPECT_EQ(text_of(*a, "cluster"), "eu-1");
  EXPECT_EQ(text_of(*a, "env"), "falco-env");
  EXPECT_EQ(a->rule, "Terminal shell in container");
}

TEST(AddedFields, TheNameFilterNeverLetsAFalcoFieldBeReplaced) {
  Decoder d;
  d.set_stages(true);
  auto r = d.decode(R"({"rule":"r","priority":"Debug","output_fields":{"env":"falco","user.name":"root"},"top.key":1})");
  ASSERT_TRUE(r);
  Alert& a = *r.value();
  EXPECT_EQ(a.add_field("env", Value::string("prod")), Alert::AddResult::Exists);
  EXPECT_EQ(a.add_field("top.key", Value::string("x")), Alert::AddResult::Exists);
  EXPECT_EQ(a.add_field("user.name", Value::string("x")), Alert::AddResult::Exists);
  for (int i = 0; i < 500; ++i) {  // new names are added, whatever the filter's false positives
    ASSERT_EQ(a.add_field(fmt::format("n{}", i), Value::integer(i)), Alert::AddResult::Added) << i;
  }
  EXPECT_EQ(text_of(a, "env"), "falco");
  EXPECT_EQ(text_of(a, "n499"), "499");
}

TEST(AddedFields, TextThatIsNotUtf8IsNotAddedSoThePersistedFormStaysReadable) {
  auto a = fresh(kShell);
  EXPECT_EQ(a->add_field("city", Value::string("M\xfcnchen")), Alert::AddResult::Exists);
  EXPECT_EQ(a->add_field("bad\xa4name", Value::string("x")), Alert::AddResult::Exists);
  const std::string_view items[] = {"ok", "\xd0"};
  EXPECT_EQ(a->add_list("threat.technique.id", items), Alert::AddResult::Exists);
  a->add_tag("\xff");
  EXPECT_FALSE(a->has_additions());
  EXPECT_EQ(a->add_field("city", Value::string("M\xc3\xbcnchen")), Alert::AddResult::Added);
  Decoder d;
  EXPECT_TRUE(d.decode(a->persisted(), Decoder::Mode::Persisted));
}

TEST(AddedFields, ManyFieldsKeepTheirTextWhileTheArenaGrows) {
  auto a = fresh(kShell);
  for (int i = 0; i < 200; ++i) {
    a->add_field(fmt::format("f{}", i), Value::string(std::string(static_cast<std::size_t>(i % 50), 'a' + i % 26)));
    a->add_tag(fmt::format("t{}", i));
  }
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(text_of(*a, fmt::format("f{}", i)), std::string(static_cast<std::size_t>(i % 50), 'a' + i % 26));
  }
  ASSERT_EQ(a->tags.size(), 205u);
  EXPECT_EQ(a->tags[4], "mitre_privilege_escalation");
  EXPECT_EQ(a->tags[204], "t199");
}

TEST(AddedFields, JsonFormatPutsThemInOutputFieldsAndTagsAtTheEnd) {
  auto a = fresh(kShell);
  a->add_field("cluster", Value::string("eu-\"1\""));
  a->add_field("replicas", Value::integer(3));
  a->add_tag("pci");
  EXPECT_EQ(json_of(*a),
            R"({"uuid":"u-1","output":"shell","priority":"Notice","rule":"Terminal shell in container","time":"2024-08-28T21:35:04.518808525Z","output_fields":{"proc.name":"sh","user.name":"root","env":"falco-env","cluster":"eu-\"1\"","replicas":3},"source":"syscall","tags":["T1059","container","mitre_execution","T1611.001","mitre_privilege_escalation","pci"],"hostname":"h1"})");
}

TEST(AddedFields, JsonFormatOfTheFlattenedShapeAndOfEmptyOrEscapedContainers) {
  auto flat = fresh(R"({"rule":"r","priority":"Debug","uuid":"u","proc.name":"sh"})");
  flat->add_field("env", Value::string("prod"));
  flat->add_tag("pci");
  EXPECT_EQ(json_of(*flat), R"({"rule":"r","priority":"Debug","uuid":"u","proc.name":"sh","env":"prod","tags":["pci"]})");

  auto empty = fresh(R"({"rule":"r","priority":"Debug","uuid":"u","output_fields":{},"tags":[]})");
  empty->add_field("env", Value::string("prod"));
  empty->add_tag("pci");
  EXPECT_EQ(json_of(*empty), R"({"rule":"r","priority":"Debug","uuid":"u","output_fields":{"env":"prod"},"tags":["pci"]})");

  // A key written with escapes is still output_fields: the rebuilt path finds it, and the text stays one object.
  auto escaped = fresh(R"({"rule":"r","priority":"Debug","uuid":"u","\u006futput_fields":{"a":"\u00e9"},"tags":["x"]})");
  escaped->add_field("env", Value::string("prod"));
  escaped->add_tag("pci");
  const std::string out = json_of(*escaped);
  auto again = fresh(out);
  EXPECT_EQ(text_of(*again, "env"), "prod");
  EXPECT_EQ(text_of(*again, "a"), "\xc3\xa9");
  ASSERT_EQ(again->tags.size(), 2u);
  EXPECT_EQ(again->tags[1], "pci");
}

TEST(PersistedForm, RestoresAddedFieldsTagsAndArrivalExactly) {
  auto a = fresh(R"({"rule":"no time","priority":"Warning","output_fields":{"fd.sip":"1.2.3.4"}})");
  a->add_field("asset.owner", Value::string("payments ]\"\\ team"));
  a->add_field("score", Value::integer(-7));
  const std::string_view techniques[] = {"T1059", "T1611"};
  a->add_list("threat.technique.id", techniques);
  a->add_tag("pci");
  ASSERT_TRUE(a->time_was_absent);
  const std::string persisted = a->persisted();

  Decoder d;
  auto back = d.decode(persisted, Decoder::Mode::Persisted);
  ASSERT_TRUE(back) << back.error().message;
  const Alert& b = *back.value();
  EXPECT_EQ(b.json(), a->json());  // the alert as received, byte for byte
  EXPECT_EQ(b.time_ns, a->time_ns);
  EXPECT_EQ(b.arrival_ns, a->arrival_ns);
  EXPECT_EQ(b.uuid, a->uuid);
  EXPECT_EQ(text_of(b, "asset.owner"), "payments ]\"\\ team");
  EXPECT_EQ(text_of(b, "score"), "-7");
  Value list;
  ASSERT_TRUE(b.lookup("threat.technique.id", list));
  ASSERT_EQ(b.items(list).size(), 2u);
  EXPECT_EQ(b.items(list)[1].text, "T1611");
  ASSERT_EQ(b.added_tags().size(), 1u);
  EXPECT_EQ(json_of(b), json_of(*a));
  EXPECT_EQ(b.persisted(), persisted);
}

TEST(PersistedForm, ASenderCannotForgeTheEnvelope) {
  Decoder d;
  auto r = d.decode(R"({"rule":"r","priority":"Debug","_saker":{"len":5,"fields":{"threat.matched":true}}})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "reserved_key");
  // Even in the persisted mode an envelope that does not match its alert is refused.
  auto bad = d.decode(R"({"rule":"r","priority":"Debug","_saker":{"len":3}})", Decoder::Mode::Persisted);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "bad_envelope");
  // An alert without additions persists as itself.
  auto plain = fresh(R"({"rule":"r","priority":"Debug","time":"2024-01-01T00:00:00Z","uuid":"x"})");
  EXPECT_EQ(plain->persisted(), plain->json());
}

TEST(Template, RendersFieldsAndRefusesUnknownNamesWithTheirColumn) {
  StageFields fields;
  fields.names.insert("asset.owner");
  auto t = FieldTemplate::compile("{rule} on {hostname} by {user.name} ({asset.owner}{missing.x}) {{literal}}",
                                  [&](std::string_view n) { return fields.known(n) || n == "missing.x"; });
  ASSERT_TRUE(t) << t.error().message;
  auto a = fresh(kShell);
  EXPECT_EQ(t.value().render(*a), "Terminal shell in container on h1 by root () {literal}");

  auto bad = FieldTemplate::compile("{rule} by {usr.name}", [&](std::string_view n) { return fields.known(n); });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().column, 12u);
  EXPECT_NE(bad.error().message.find("usr.name"), std::string::npos);
  EXPECT_FALSE(FieldTemplate::compile("{rule", [](std::string_view) { return true; }));
  EXPECT_FALSE(FieldTemplate::compile("rule}", [](std::string_view) { return true; }));
}

TEST(FieldNames, KnowFalcosClassesAndAlertKeys) {
  EXPECT_TRUE(is_falco_field("proc.cmdline"));
  EXPECT_TRUE(is_falco_field("proc.aname[2]"));
  EXPECT_TRUE(is_falco_field("k8s.pod.label[app.kubernetes.io/name]"));
  EXPECT_TRUE(is_falco_field("ct.user.identitytype"));
  EXPECT_FALSE(is_falco_field("prc.cmdline"));
  EXPECT_FALSE(is_falco_field("proc."));
  EXPECT_FALSE(is_falco_field("proc..name"));
  EXPECT_TRUE(is_alert_key("hostname"));
  EXPECT_EQ(closest_name("mitr", {"fields", "mitre"}), "mitre");
}

TEST(Stages, FieldsAndMitreFromConfigRunInOrder) {
  ConfigErrors errors("test.yaml");
  auto cfg = config(R"(enrich:
  fields:
    static: {env: prod, replicas: 3, ratio: 0.5, on: true, quoted: "3"}
    templated: {summary: "{rule} on {hostname} in {env}"}
    tags: [pci, container]
  mitre: true
sinks: [{name: out, type: stdout}]
)", errors);
  ASSERT_TRUE(cfg) << errors.to_string();
  ASSERT_EQ(cfg->stages.size(), 2u);
  Metrics metrics;
  StageChain chain;
  for (const auto& s : cfg->stages) {
    StageContext ctx{s.name, metrics, "/tmp"};
    chain.add(s.name, s.build(ctx), metrics.timing("t", "t", {{"stage", s.name}}));
  }
  auto a = fresh(kShell);
  chain.run(*a);
  EXPECT_EQ(text_of(*a, "env"), "falco-env");  // Falco's own field wins
  EXPECT_EQ(text_of(*a, "summary"), "Terminal shell in container on h1 in falco-env");
  Value v;
  ASSERT_TRUE(a->lookup("replicas", v));
  EXPECT_EQ(v.kind, Value::Kind::Int);
  ASSERT_TRUE(a->lookup("ratio", v));
  EXPECT_EQ(v.kind, Value::Kind::Double);
  ASSERT_TRUE(a->lookup("on", v));
  EXPECT_EQ(v.kind, Value::Kind::Bool);
  ASSERT_TRUE(a->lookup("quoted", v));
  EXPECT_EQ(v.kind, Value::Kind::String);
  EXPECT_EQ(text_of(*a, "threat.technique.id"), R"(["T1059","T1611"])");
  EXPECT_EQ(text_of(*a, "threat.technique.subtechnique.id"), R"(["T1611.001"])");
  EXPECT_EQ(text_of(*a, "threat.tactic.id"), R"(["TA0002","TA0004"])");
  EXPECT_EQ(text_of(*a, "threat.tactic.name"), R"(["Execution","Privilege Escalation"])");
  ASSERT_EQ(a->added_tags().size(), 1u);  // "container" was there already
  EXPECT_EQ(a->added_tags()[0], "pci");
}

TEST(Stages, ConfigErrorsNameTheLineAndColumn) {
  ConfigErrors errors("test.yaml");
  auto cfg = config(R"(enrich:
  fields:
    templated: {summary: "{rule} by {usr.name}"}
    static: {rule: x}
  mitr: true
sinks: [{name: out, type: stdout}]
)", errors);
  ASSERT_FALSE(cfg);
  const std::string all = errors.to_string();
  EXPECT_NE(all.find("test.yaml:3:38: enrich.fields.templated.summary: unknown field \"usr.name\""), std::string::npos) << all;
  EXPECT_NE(all.find("test.yaml:4:14: enrich.fields.static.rule"), std::string::npos) << all;
  EXPECT_NE(all.find("did you mean mitre?"), std::string::npos) << all;
}

TEST(Stages, ATemplateThatIsNotUtf8IsAConfigError) {
  // Rendered text is added unchecked (every value of an alert is valid UTF-8): so the template's own text is checked.
  ConfigErrors errors("test.yaml");
  auto cfg = config("enrich:\n  fields:\n    templated: {summary: \"{rule} \xff\"}\nsinks: [{name: out, type: stdout}]\n", errors);
  ASSERT_FALSE(cfg);
  const std::string all = errors.to_string();
  EXPECT_NE(all.find("enrich.fields.templated.summary: is not valid UTF-8"), std::string::npos) << all;
}

namespace {

// A consumer that refuses, fails or takes on demand, and records what it took.
class ScriptedConsumer final : public Consumer {
 public:
  bool refuse = false;
  bool fail = false;
  std::vector<std::string> got;
  bool refusing() const noexcept override { return refuse; }
  bool push(std::vector<AlertPtr>& alerts) override {
    if (fail) return false;
    for (auto& a : alerts) got.emplace_back(a->uuid);
    alerts.clear();
    return true;
  }
};

}  // namespace

TEST(Router, ABatchRefusedByOneConsumerIsNotPushedTwiceIntoTheOthersOnRetry) {
  Metrics metrics;
  ScriptedConsumer a, b, c;
  Route all;
  Route warn;
  warn.min_priority = Priority::Warning;
  Router router({{"a", all, &a}, {"b", all, &b}, {"c", warn, &c}}, metrics);
  std::vector<AlertPtr> batch{test::decode_ok(R"({"rule":"r","priority":"Notice","uuid":"n1"})"),
                              test::decode_ok(R"({"rule":"r","priority":"Error","uuid":"e1"})")};
  // Full: nobody gets anything.
  b.refuse = true;
  EXPECT_EQ(router.submit(batch), Router::Outcome::Refused);
  EXPECT_TRUE(a.got.empty());
  ASSERT_EQ(batch.size(), 2u);
  // b takes, c fails to write after a and b took it: refused, and the retry reaches only c.
  b.refuse = false;
  c.fail = true;
  EXPECT_EQ(router.submit(batch), Router::Outcome::Refused);
  EXPECT_EQ(a.got.size(), 2u);
  EXPECT_EQ(b.got.size(), 2u);
  c.fail = false;
  EXPECT_EQ(router.submit(batch), Router::Outcome::Taken);
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(a.got.size(), 2u);
  EXPECT_EQ(b.got.size(), 2u);
  EXPECT_EQ(c.got, (std::vector<std::string>{"e1"}));
  EXPECT_EQ(metrics.counter_value("saker_backpressure_total", {}), 2u);
}

TEST(Router, TestAlertsReachEveryConsumerWhateverItsRoute) {
  Metrics metrics;
  ScriptedConsumer a;
  Route emergency;
  emergency.min_priority = Priority::Emergency;
  Router router({{"a", emergency, &a}}, metrics);
  auto t = fresh(R"({"rule":"Test rule","priority":"Debug","uuid":"t1"})");
  t->is_test = true;
  std::vector<AlertPtr> batch{t};
  EXPECT_EQ(router.submit(batch), Router::Outcome::Taken);
  EXPECT_EQ(a.got, (std::vector<std::string>{"t1"}));
}
