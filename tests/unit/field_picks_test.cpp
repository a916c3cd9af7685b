// The registry of names decode picks is bounded: a process that compiles ever new field names (reloads, or a fuzzer
// parsing filters) keeps a bounded set, and a name past the cap is still found by lookup() through the table.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "core/decode.hpp"
#include "core/field_picks.hpp"

using namespace saker;

TEST(FieldPicks, TheRegistryStopsGrowingAtItsCap) {
  for (std::size_t n = 0; n < FieldPicks::kMaxNames + 100; ++n) FieldPicks::want(fmt::format("cap.test.{}", n));
  const FieldPicks* now = FieldPicks::current();
  ASSERT_NE(now, nullptr);
  EXPECT_EQ(now->size(), FieldPicks::kMaxNames);
  EXPECT_GE(now->find("cap.test.0"), 0);
  EXPECT_LT(now->find(fmt::format("cap.test.{}", FieldPicks::kMaxNames + 99)), 0);

  FieldPicks::want("cap.test.late");  // past the cap: not registered, and nothing else changes
  EXPECT_EQ(FieldPicks::current(), now);

  Decoder d;
  auto a = d.decode(R"({"rule":"r","priority":"Error","output_fields":{"cap.test.0":"picked","cap.test.late":7}})");
  ASSERT_TRUE(a.ok());
  Value v;
  ASSERT_TRUE(a.value()->lookup("cap.test.0", v));
  EXPECT_EQ(v.to_text(), "picked");
  ASSERT_TRUE(a.value()->lookup("cap.test.late", v));  // not picked: found in the table
  EXPECT_EQ(v.to_text(), "7");
  EXPECT_FALSE(a.value()->lookup("cap.test.absent", v));
}
