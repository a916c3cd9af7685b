// Counters that many threads add to at once (a stage counting per alert on every decoding thread) lose no count:
// the stripes each thread adds to sum to every increment, in a scrape and in counter_value().
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "observe/metrics.hpp"

using namespace saker;

TEST(Metrics, ACounterThatManyThreadsAddToCountsEveryIncrement) {
  Metrics m;
  Counter& c = m.counter("saker_test_total", "test", {{"stage", "t"}});
  constexpr int kThreads = 12;  // more threads than stripes: some share one
  constexpr int kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&c, t] {
      for (int i = 0; i < kEach; ++i) c.inc(t % 2 ? 1 : 2);
    });
  }
  for (auto& t : threads) t.join();
  const std::uint64_t want = (kThreads / 2) * kEach * 1 + (kThreads / 2) * kEach * 2;
  EXPECT_EQ(c.value(), want);
  EXPECT_EQ(m.counter_value("saker_test_total", {{"stage", "t"}}), want);
  EXPECT_NE(m.render().find("saker_test_total{stage=\"t\"} " + std::to_string(want) + "\n"), std::string::npos);
}
