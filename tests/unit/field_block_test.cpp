// Given a FieldBlock (fields built once and shared by many alerts), an alert that gets it sees its fields exactly as if
// each had been added alone — in lookup(), items(), the json format and the persisted form — keeps Falco's fields,
// and outlives the stage chain that owns the block.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "core/decode.hpp"
#include "core/field_block.hpp"
#include "core/stage.hpp"
#include "format/json.hpp"
#include "pipeline/config.hpp"
#include "test_util.hpp"

using namespace saker;
using saker::test::json_of;
using saker::test::text_of;

namespace {

constexpr std::string_view kAlert =
    R"({"uuid":"u-1","output":"shell","priority":"Notice","rule":"r","output_fields":{"proc.name":"sh","env":"falco-env"},"tags":["T1059","mitre_execution"],"hostname":"h1"})";

std::shared_ptr<Alert> fresh(std::string_view json, bool stages = true) {
  Decoder d;
  d.set_stages(stages);  // as when stages run: the alert has room for additions
  auto r = d.decode(json);
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(r).value();
}

std::unique_ptr<const FieldBlock> sample_block() {
  FieldBlock::Builder b;
  EXPECT_TRUE(b.add("cluster", Value::string("eu-\"1\"")));
  EXPECT_TRUE(b.add("replicas", Value::integer(3)));
  const std::string_view ids[] = {"TA0002", "TA0004"};
  EXPECT_TRUE(b.add_list("threat.tactic.id", ids));
  return b.build();
}

}  // namespace

TEST(FieldBlock, RefusesWhatAddFieldRefuses) {
  FieldBlock::Builder b;
  EXPECT_FALSE(b.add("rule", Value::string("x")));
  EXPECT_FALSE(b.add("_saker", Value::string("x")));
  EXPECT_FALSE(b.add("bad\xff", Value::string("x")));
  EXPECT_FALSE(b.add("n", Value::string("\xc3")));
  EXPECT_TRUE(b.add("n", Value::string("ok")));
  EXPECT_FALSE(b.add("n", Value::string("twice")));
  const std::string_view bad[] = {"fine", "\xe2\x82"};
  EXPECT_FALSE(b.add_list("l", bad));
  auto block = b.build();
  ASSERT_EQ(block->fields().size(), 1u);
  EXPECT_EQ(block->json(), R"("n":"ok")");
}

TEST(FieldBlock, AnAlertSeesItsFieldsAsIfEachWereAddedAlone) {
  auto block = sample_block();
  auto one = fresh(kAlert);
  auto other = fresh(kAlert);
  EXPECT_EQ(one->add_block(*block), 0u);
  other->add_field("cluster", Value::string("eu-\"1\""));
  other->add_field("replicas", Value::integer(3));
  const std::string_view ids[] = {"TA0002", "TA0004"};
  other->add_list("threat.tactic.id", ids);

  EXPECT_EQ(json_of(*one), json_of(*other));
  EXPECT_EQ(one->added_json(), other->added_json());
  EXPECT_EQ(text_of(*one, "cluster"), "eu-\"1\"");
  Value list;
  ASSERT_TRUE(one->lookup("threat.tactic.id", list));
  ASSERT_EQ(one->items(list).size(), 2u);
  EXPECT_EQ(one->items(list)[1].text, "TA0004");

  // The persisted form carries them as copies: the alert read back needs no block.
  const std::string persisted = one->persisted();
  Decoder d;
  auto back = d.decode(persisted, Decoder::Mode::Persisted);
  ASSERT_TRUE(back) << back.error().message;
  block.reset();
  one.reset();
  EXPECT_EQ(json_of(*back.value()), json_of(*other));
  EXPECT_EQ(back.value()->persisted(), persisted);
}

TEST(FieldBlock, ANameTheAlertHasIsSkippedAndTheOthersAreAdded) {
  FieldBlock::Builder b;
  b.add("env", Value::string("prod"));  // Falco's output field: kept
  b.add("team", Value::string("payments"));
  const std::string_view ids[] = {"T1"};
  b.add_list("ids", ids);
  auto block = b.build();
  auto a = fresh(kAlert);
  a->add_field("team", Value::string("earlier stage"));
  EXPECT_EQ(a->add_block(*block), 2u);
  EXPECT_EQ(text_of(*a, "env"), "falco-env");
  EXPECT_EQ(text_of(*a, "team"), "earlier stage");
  Value list;
  ASSERT_TRUE(a->lookup("ids", list));
  EXPECT_EQ(a->items(list)[0].text, "T1");
  block.reset();  // the fields added after a clash are copies
  EXPECT_EQ(a->added_json(), R"("team":"earlier stage","ids":["T1"])");
}

TEST(FieldBlock, ANameAStageRegisteredIsToldTakenFromWhatDecodePicked) {
  // As a config with a stage adding these names does: decode picks them, and the block knows their slots.
  StageFields names;
  names.add("slot.env");
  names.add("slot.team");
  FieldBlock::Builder b;
  b.add("slot.env", Value::string("prod"));
  b.add("slot.team", Value::string("payments"));
  auto block = b.build();
  ASSERT_GE(block->slots()[0], 0);
  ASSERT_GE(block->slots()[1], 0);

  // Falco sent one of them: it is kept, the other is added (as a copy, since the block is not added whole).
  auto has = fresh(R"({"rule":"r","priority":"Notice","output_fields":{"proc.name":"sh","slot.env":"falco"}})");
  EXPECT_TRUE(has->has_falco_field("slot.env"));
  EXPECT_FALSE(has->has_falco_field("slot.team"));
  EXPECT_EQ(has->add_block(*block), 1u);
  EXPECT_EQ(text_of(*has, "slot.env"), "falco");
  EXPECT_EQ(text_of(*has, "slot.team"), "payments");
  // Falco sent neither, in the flattened shape too: both are added.
  auto flat = fresh(R"({"rule":"r","priority":"Notice","proc.name":"sh"})");
  EXPECT_EQ(flat->add_block(*block), 0u);
  EXPECT_EQ(flat->added_json(), R"("slot.env":"prod","slot.team":"payments")");
  auto top = fresh(R"({"rule":"r","priority":"Notice","slot.team":"top-level"})");
  EXPECT_EQ(top->add_block(*block), 1u);
  EXPECT_EQ(text_of(*top, "slot.team"), "top-level");
  // A name of no slot (registered after this alert was decoded, or never) is looked up in the alert's fields.
  auto before = fresh(R"({"rule":"r","priority":"Notice","output_fields":{"slot.late":"falco"}})");
  names.add("slot.late");
  const auto late = AddedName::make("slot.late");
  ASSERT_TRUE(late);
  EXPECT_GE(late->slot(), 0);
  EXPECT_EQ(before->add_field(*late, Value::string("stage")), Alert::AddResult::Exists);
  EXPECT_EQ(text_of(*before, "slot.late"), "falco");
  EXPECT_EQ(before->add_field("slot.never", Value::string("x")), Alert::AddResult::Added);
  EXPECT_EQ(before->add_field("slot.never", Value::string("y")), Alert::AddResult::Exists);  // added before
}

TEST(FieldBlock, BlocksAndSingleFieldsMixBeyondTheRoomAndKeepTheirTexts) {
  auto block = sample_block();
  for (bool room : {true, false}) {
    auto a = fresh(kAlert, room);
    for (int i = 0; i < 40; ++i) {
      a->add_field(fmt::format("f{}", i), Value::string(std::string(static_cast<std::size_t>(10 + i), 'a' + i % 26)));
      if (i == 3) {
        ASSERT_EQ(a->add_block(*block), 0u);
      }
      const std::string_view items[] = {"x", "y"};
      a->add_list(fmt::format("l{}", i), items);
      a->add_tag(fmt::format("tag{}", i));
    }
    for (int i = 0; i < 40; ++i) {
      ASSERT_EQ(text_of(*a, fmt::format("f{}", i)), std::string(static_cast<std::size_t>(10 + i), 'a' + i % 26));
      Value list;
      ASSERT_TRUE(a->lookup(fmt::format("l{}", i), list));
      ASSERT_EQ(a->items(list).size(), 2u);
      EXPECT_EQ(a->items(list)[1].text, "y");
    }
    Value list;
    ASSERT_TRUE(a->lookup("threat.tactic.id", list));
    EXPECT_EQ(a->items(list)[0].text, "TA0002");
    EXPECT_EQ(a->tags.back(), "tag39");
    // The json format and the persisted form agree with what lookup() sees.
    Decoder d;
    auto back = d.decode(a->persisted(), Decoder::Mode::Persisted);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(json_of(*back.value()), json_of(*a));
    EXPECT_EQ(text_of(*back.value(), "f39"), text_of(*a, "f39"));
  }
}

TEST(FieldBlock, AnAlertOutlivesTheStageChainWhoseBlocksItBorrowed) {
  ConfigErrors errors("test.yaml");
  auto cfg = parse_config(R"(enrich:
  fields: {static: {env2: prod, n: 3}}
  mitre: true
sinks: [{name: out, type: stdout}]
)", errors, ConfigUse::replay);
  ASSERT_TRUE(cfg) << errors.to_string();
  Metrics metrics;
  auto chain = std::make_shared<StageChain>();
  for (const auto& s : cfg->stages) {
    StageContext ctx{s.name, metrics, "/tmp"};
    chain->add(s.name, s.build(ctx), metrics.timing("t", "t", {{"stage", s.name}}));
  }
  auto a = fresh(kAlert);
  chain->run(*a);
  const std::string before = json_of(*a);
  chain.reset();  // a reload replaced it: the blocks are interned (ASan would see a use after free otherwise)
  EXPECT_EQ(json_of(*a), before);
  EXPECT_EQ(text_of(*a, "env2"), "prod");
  EXPECT_EQ(text_of(*a, "threat.tactic.id"), R"(["TA0002"])");
}

TEST(FieldBlock, InterningGivesEqualBlocksOneAddressAndTellsKindsApart) {
  const auto make = [](const Value& v) {
    FieldBlock::Builder b;
    b.add("intern.test", v);
    return b.build();
  };
  auto first = make(Value::string("a"));
  const FieldBlock* const raw = first.get();
  const FieldBlock* kept = FieldBlock::intern(first);
  ASSERT_EQ(kept, raw);
  EXPECT_EQ(first, nullptr);  // the pool took it
  auto again = make(Value::string("a"));
  EXPECT_EQ(FieldBlock::intern(again), kept);  // an equal block: the one interned before
  EXPECT_EQ(again, nullptr);

  // The same JSON, another kind: an added list and an Array value whose text is that list.
  FieldBlock::Builder lb;
  const std::string_view items[] = {"x"};
  lb.add_list("intern.list", items);
  auto list = lb.build();
  Value array;
  array.kind = Value::Kind::Array;
  array.text = R"(["x"])";
  FieldBlock::Builder ab;
  ab.add("intern.list", array);
  auto arr = ab.build();
  ASSERT_EQ(list->json(), arr->json());
  const FieldBlock* l = FieldBlock::intern(list);
  const FieldBlock* r = FieldBlock::intern(arr);
  ASSERT_NE(l, nullptr);
  EXPECT_NE(l, r);
  ASSERT_EQ(l->fields().size(), 1u);
  EXPECT_TRUE(l->fields()[0].value.added_list);
  EXPECT_FALSE(r->fields()[0].value.added_list);
}

TEST(FieldBlockDeathTest, APoolFullOfBlocksLeavesTheNextToItsCaller) {
  // In a child process: the pool stays full for the rest of the process it fills.
  EXPECT_EXIT(
      {
        const std::string big(std::size_t{1} << 20, 'x');
        std::size_t kept = 0;  // bytes interned
        for (int i = 0;; ++i) {
          FieldBlock::Builder b;
          b.add(fmt::format("big{}", i), Value::string(big));
          auto block = b.build();
          const std::size_t size = block->bytes();
          const FieldBlock* in = FieldBlock::intern(block);
          if (!in) {
            // full: the caller keeps its block, and this one would have taken the pool past its limit
            std::exit(block && kept <= FieldBlock::kInternLimit && kept + size > FieldBlock::kInternLimit ? 0 : 1);
          }
          kept += in->bytes();
        }
      },
      ::testing::ExitedWithCode(0), "");
}

// A chain of the mitre stage alone, as `enrich: {mitre: true}` builds it.
static void mitre_chain(Metrics& metrics, std::shared_ptr<StageChain>& chain) {
  ConfigErrors errors("test.yaml");
  auto cfg = parse_config("enrich: {mitre: true}\nsinks: [{name: out, type: stdout}]\n", errors, ConfigUse::replay);
  ASSERT_TRUE(cfg) << errors.to_string();
  chain = std::make_shared<StageChain>();
  StageContext ctx{cfg->stages[0].name, metrics, "/tmp"};
  chain->add("mitre", cfg->stages[0].build(ctx), metrics.timing("t", "t", {{"stage", "mitre"}}));
}

TEST(MitreStage, EveryTagSetGetsItsOwnFieldsBeyondTheRememberedOnes) {
  Metrics metrics;
  std::shared_ptr<StageChain> chain;
  ASSERT_NO_FATAL_FAILURE(mitre_chain(metrics, chain));
  // More distinct tag sets than the stage remembers, each twice: every alert gets the fields of its own tags.
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 1200; ++i) {
      const std::string json = fmt::format(
          R"({{"rule":"r","priority":"Notice","output_fields":{{}},"tags":["T{:04d}","mitre_{}","x{}"]}})", i % 10000,
          i % 2 ? "execution" : "persistence", i);
      auto a = fresh(json);
      chain->run(*a);
      ASSERT_EQ(text_of(*a, "threat.technique.id"), fmt::format(R"(["T{:04d}"])", i)) << i;
      ASSERT_EQ(text_of(*a, "threat.tactic.id"), i % 2 ? R"(["TA0002"])" : R"(["TA0003"])") << i;
    }
  }
  auto none = fresh(R"({"rule":"r","priority":"Notice","tags":["container"]})");
  chain->run(*none);
  EXPECT_TRUE(none->added().empty());
}

TEST(MitreStage, TagSetsWithTheSameBytesSplitDifferentlyAreDifferentSets) {
  Metrics metrics;
  std::shared_ptr<StageChain> chain;
  ASSERT_NO_FATAL_FAILURE(mitre_chain(metrics, chain));
  // "T1059" + "mitre_execution" and "T1059mitre_" + "execution" are the same bytes back to back: the first is
  // remembered, the second must not get its fields.
  auto first = fresh(R"({"rule":"r","priority":"Notice","tags":["T1059","mitre_execution"]})");
  chain->run(*first);
  EXPECT_EQ(text_of(*first, "threat.technique.id"), R"(["T1059"])");
  auto split = fresh(R"({"rule":"r","priority":"Notice","tags":["T1059mitre_","execution"]})");
  chain->run(*split);
  EXPECT_TRUE(split->added().empty());
  // The same tags, not back to back in memory (an alert built in code), find the remembered set.
  Alert a;
  const std::string t1 = "T1059", t2 = "mitre_execution";
  a.rule = "r";
  a.tags = {t2, t1};  // another order is another set
  chain->run(a);
  EXPECT_EQ(text_of(a, "threat.tactic.id"), R"(["TA0002"])");
  Alert b;
  b.rule = "r";
  b.tags = {std::string_view(t1), std::string_view(t2)};
  chain->run(b);
  EXPECT_EQ(text_of(b, "threat.technique.id"), R"(["T1059"])");
}
