// Every added field records the stage that added it: the chain stamps it (a stage cannot set or forge it), the
// persisted form keeps it by the stage's `enrich:` key (records written before it have none), and OCSF's
// enrichments say it as `provider` and `type`.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "core/decode.hpp"
#include "core/field_block.hpp"
#include "core/stage.hpp"
#include "core/stage_origin.hpp"
#include "format/ocsf.hpp"
#include "pipeline/config.hpp"
#include "test_util.hpp"

using namespace saker;
using saker::test::json_of;

namespace {

constexpr std::string_view kShell =
    R"({"uuid":"u-1","output":"shell","priority":"Notice","rule":"Terminal shell in container","time":"2024-08-28T21:35:04.518808525Z","output_fields":{"proc.name":"sh","user.name":"root"},"source":"syscall","tags":["T1059","container","mitre_execution"],"hostname":"h1"})";

std::shared_ptr<Alert> fresh(std::string_view json, Decoder::Mode mode = Decoder::Mode::Received) {
  static thread_local Decoder d;
  auto r = d.decode(json, mode);
  if (!r) throw std::runtime_error(r.error().code + ": " + r.error().message);
  return std::move(r).value();
}

std::string ocsf(const Alert& a) {
  std::string out;
  OcsfFormatter().format(a, out);
  return out;
}

// The chain of a config's `enrich:` stages, as the pipeline builds it.
std::shared_ptr<StageChain> chain_of(const std::string& enrich, Metrics& metrics) {
  ConfigErrors errors("test.yaml");
  auto cfg = parse_config(enrich + "sinks: [{name: out, type: stdout}]\n", errors, ConfigUse::replay);
  if (!cfg) throw std::runtime_error(errors.to_string());
  auto chain = std::make_shared<StageChain>();
  for (const auto& s : cfg->stages) {
    StageContext ctx{s.name, metrics, "/tmp"};
    chain->add(s.name, s.build(ctx), metrics.timing("t", "t", {{"stage", s.name}}));
  }
  return chain;
}

const std::string kEnrich = R"(enrich:
  fields: {static: {env: prod, replicas: 3}, templated: {summary: "{rule} on {hostname}"}, tags: [pci]}
  mitre: true
)";

std::vector<std::string> stages_of(const Alert& a) {
  std::vector<std::string> out;
  for (const Field& f : a.added()) out.emplace_back(stage_origin(f.stage).key);
  return out;
}

const std::vector<std::string> kExpected = {"fields", "fields", "fields", "mitre", "mitre", "mitre"};

// A stage that tries to pass its fields off as another stage's.
class ForgingStage : public Stage {
 public:
  void process(Alert& alert) const override {
    // A block built by the stage: its fields carry no stage until an alert stamps them.
    FieldBlock::Builder b;
    b.add("forged.block", Value::string("x"));
    auto block = b.build();
    alert.copy_block(*block);
    // A chain of its own, whose stage is named as another's: adds as this stage all the same.
    StageChain inner;
    Metrics metrics;
    inner.add("mitre", std::make_unique<Adder>("forged.inner"), metrics.timing("t", "t", {{"stage", "mitre"}}));
    inner.run(alert);
    alert.add_field("forged.after", Value::string("y"));  // after the inner chain: still this stage
  }

 private:
  struct Adder : Stage {
    explicit Adder(std::string n) : name(std::move(n)) {}
    void process(Alert& alert) const override { alert.add_field(name, Value::string("z")); }
    std::string name;
  };
};

}  // namespace

TEST(Provenance, FieldStaysTheSizeItWas) {
  // Field::stage lives in the padding after top_level (also asserted in alert.hpp).
  static_assert(sizeof(Field) == sizeof(std::string_view) + sizeof(Value) + 8);
  EXPECT_EQ(stage_id("fields"), 1);
  EXPECT_EQ(stage_id("nosuch"), kUnknownStage);
  EXPECT_EQ(stage_origin(200).key, "");
}

TEST(Provenance, TheChainStampsEveryFieldWithTheStageThatAddedIt) {
  Metrics metrics;
  auto chain = chain_of(kEnrich, metrics);
  for (int round = 0; round < 40; ++round) {  // past the timing sample too, and mitre's remembered block
    auto a = fresh(kShell);
    chain->run(*a);
    ASSERT_EQ(stages_of(*a), kExpected) << round;
    // Outside the chain nothing is stamped: the stamp ended with the run.
    a->add_field("later", Value::string("x"));
    EXPECT_EQ(a->added()[a->added().size() - 1].stage, kUnknownStage);
  }
}

TEST(Provenance, AStageCannotForgeAnotherStagesFields) {
  Metrics metrics;
  StageChain chain;
  chain.add("fields", std::make_unique<ForgingStage>(), metrics.timing("t", "t", {{"stage", "fields"}}));
  chain.add("elsewhere", std::make_unique<ForgingStage>(), metrics.timing("t", "t", {{"stage", "elsewhere"}}));
  auto a = fresh(kShell);
  chain.run(*a);
  ASSERT_EQ(a->added().size(), 3u);  // the second stage's names were taken by the first
  for (const Field& f : a->added()) EXPECT_EQ(stage_origin(f.stage).key, "fields") << f.name;
  // A stage without a row in the table adds fields of no known stage, whatever it names them.
  StageChain other;
  other.add("elsewhere", std::make_unique<ForgingStage>(), metrics.timing("t", "t", {{"stage", "elsewhere"}}));
  auto b = fresh(kShell);
  other.run(*b);
  ASSERT_EQ(b->added().size(), 3u);
  for (const Field& f : b->added()) EXPECT_EQ(f.stage, kUnknownStage) << f.name;
  EXPECT_EQ(ocsf(*b).find("\"provider\""), std::string::npos);
}

TEST(Provenance, OcsfEnrichmentsNameProviderAndType) {
  Metrics metrics;
  auto chain = chain_of(kEnrich, metrics);
  auto a = fresh(kShell);
  chain->run(*a);
  const std::string t = ocsf(*a);
  EXPECT_NE(t.find(R"("enrichments":[)"
                   R"({"name":"env","value":"prod","data":{"env":"prod"},"provider":"saker config","type":"Custom Field"},)"
                   R"({"name":"replicas","value":"3","data":{"replicas":3},"provider":"saker config","type":"Custom Field"},)"
                   R"({"name":"summary","value":"Terminal shell in container on h1",)"
                   R"("data":{"summary":"Terminal shell in container on h1"},"provider":"saker config","type":"Custom Field"},)"
                   R"({"name":"threat.technique.id","value":"[\"T1059\"]","data":{"threat.technique.id":["T1059"]},)"
                   R"("provider":"Falco rule tags","type":"MITRE ATT&CK"},)"
                   R"({"name":"threat.tactic.id","value":"[\"TA0002\"]","data":{"threat.tactic.id":["TA0002"]},)"
                   R"("provider":"Falco rule tags","type":"MITRE ATT&CK"},)"
                   R"({"name":"threat.tactic.name","value":"[\"Execution\"]","data":{"threat.tactic.name":["Execution"]},)"
                   R"("provider":"Falco rule tags","type":"MITRE ATT&CK"}],)"),
            std::string::npos)
      << t;
  // The document is still valid JSON.
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_FALSE(p.parse(t).get(doc));
}

TEST(Provenance, ThePersistedFormKeepsStagesExactly) {
  Metrics metrics;
  auto chain = chain_of(kEnrich, metrics);
  auto a = fresh(kShell);
  chain->run(*a);
  const std::string persisted = a->persisted();
  EXPECT_NE(persisted.find(R"(,"stages":[["fields",3],["mitre",3]])"), std::string::npos) << persisted;

  // Read back without any stage (a replaying config with no `enrich:`): the same stages, the same bytes.
  auto b = fresh(persisted, Decoder::Mode::Persisted);
  EXPECT_EQ(stages_of(*b), kExpected);
  EXPECT_EQ(b->persisted(), persisted);
  EXPECT_EQ(ocsf(*b), ocsf(*a));
  EXPECT_EQ(json_of(*b), json_of(*a));

  // Read back and enriched again (saker replay of a dead letter with stages): fields of no known stage come first.
  auto old = fresh(R"({"rule":"r","priority":"Notice","time":"2024-01-01T00:00:00Z","uuid":"x","tags":["T1059"]})");
  old->add_field("a", Value::string("1"));  // outside a chain: no known stage
  old->add_field("b", Value::integer(2));
  EXPECT_EQ(old->persisted().find("stages"), std::string::npos);
  auto c = fresh(old->persisted(), Decoder::Mode::Persisted);
  chain_of("enrich: {mitre: true}\n", metrics)->run(*c);
  const std::string mixed = c->persisted();
  EXPECT_NE(mixed.find(R"(,"stages":[["",2],["mitre",1]])"), std::string::npos) << mixed;
  auto d = fresh(mixed, Decoder::Mode::Persisted);
  EXPECT_EQ(stages_of(*d), (std::vector<std::string>{"", "", "mitre"}));
  EXPECT_EQ(d->persisted(), mixed);
}

TEST(Provenance, RecordsWrittenBeforeStagesWereRecordedReadBackWithoutThem) {
  // The envelope as saker wrote it before this change: no "stages".
  const std::string old =
      R"({"rule":"r","priority":"Notice","time":"2024-01-01T00:00:00Z","uuid":"x","_saker":{"len":72,"arrival_ns":5,)"
      R"("fields":{"env":"prod","threat.tactic.id":["TA0002"]},"tags":["pci"]}})";
  auto a = fresh(old, Decoder::Mode::Persisted);
  ASSERT_EQ(a->added().size(), 2u);
  for (const Field& f : a->added()) EXPECT_EQ(f.stage, kUnknownStage);
  EXPECT_EQ(a->persisted(), old);  // persists as it was read
  const std::string t = ocsf(*a);
  EXPECT_NE(t.find(R"({"name":"env","value":"prod","data":{"env":"prod"}},)"), std::string::npos) << t;
  EXPECT_EQ(t.find("\"provider\""), std::string::npos) << t;
  EXPECT_EQ(t.find("Custom Field"), std::string::npos) << t;

  // Stages this version does not know, and ones of another shape, give fields of no known stage.
  const std::string head = R"({"rule":"r","priority":"Notice","time":"2024-01-01T00:00:00Z","uuid":"x","_saker":{"len":72,)";
  const std::string fields = R"("fields":{"env":"prod","geo":"NL","n":1})";
  auto unknown = fresh(head + fields + R"(,"stages":[["fields",1],["nosuch",1],["mitre",1]]}})", Decoder::Mode::Persisted);
  EXPECT_EQ(stages_of(*unknown), (std::vector<std::string>{"fields", "", "mitre"}));
  for (const char* bad : {R"("stages":{"fields":3})", R"("stages":[["fields",4]])", R"("stages":[["fields",0],["mitre",3]])",
                          R"("stages":[["fields"]])", R"("stages":[[1,3]])", R"("stages":[["fields",-1]])",
                          R"("stages":"fields")"}) {
    auto r = fresh(head + fields + "," + bad + "}}", Decoder::Mode::Persisted);
    EXPECT_EQ(stages_of(*r), (std::vector<std::string>{"", "", ""})) << bad;
  }
  // Fewer counted than there are fields: the rest have no known stage.
  auto fewer = fresh(head + fields + R"(,"stages":[["mitre",2]]}})", Decoder::Mode::Persisted);
  EXPECT_EQ(stages_of(*fewer), (std::vector<std::string>{"mitre", "mitre", ""}));
}

TEST(Provenance, AnAlertWithoutAdditionsPersistsAsItself) {
  auto a = fresh(kShell);
  EXPECT_EQ(a->persisted(), a->json());
  Metrics metrics;
  auto chain = chain_of("enrich: {mitre: true}\n", metrics);
  auto b = fresh(R"({"rule":"r","priority":"Notice","time":"2024-01-01T00:00:00Z","uuid":"x","tags":["container"]})");
  chain->run(*b);  // nothing to add
  EXPECT_EQ(b->persisted(), b->json());
}

TEST(Provenance, TheFuzzSeedsOfThePersistedFormReadBackAsWritten) {
  // The fuzz_persisted seeds with an envelope: saker's own form with stages and without (written before), which
  // persist again byte for byte, and one with stages of every odd kind, which reads back.
  for (const char* name : {"04_envelope_with_stages.json", "05_envelope_before_stages.json"}) {
    const std::string text = test::read_file(std::string(SAKER_SOURCE_DIR) + "/tests/fuzz/seeds/fuzz_persisted/" + name);
    auto a = fresh(text, Decoder::Mode::Persisted);
    EXPECT_EQ(a->persisted(), text) << name;
    EXPECT_EQ(a->added().size(), 6u) << name;
  }
  const std::string odd = test::read_file(std::string(SAKER_SOURCE_DIR) +
                                          "/tests/fuzz/seeds/fuzz_persisted/06_envelope_stages_unknown_and_odd.json");
  EXPECT_EQ(stages_of(*fresh(odd, Decoder::Mode::Persisted)), (std::vector<std::string>(6, "")));
  auto with = fresh(test::read_file(std::string(SAKER_SOURCE_DIR) +
                                    "/tests/fuzz/seeds/fuzz_persisted/04_envelope_with_stages.json"),
                    Decoder::Mode::Persisted);
  EXPECT_EQ(stages_of(*with), kExpected);
}
