// ConnectionLimit on its own: places and the idle list change together, whatever the order in which the accepting
// thread and the connections' own threads get to them.
#include <atomic>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sources/connection_limit.hpp"

namespace saker {
namespace {

using Admission = ConnectionLimit::Admission;

// A connection as the list sees it: evict() records the call, as a source's posts the close to its thread.
struct FakeConnection : ConnectionLimit::Member {
  FakeConnection() : ConnectionLimit::Member(&FakeConnection::on_evict) {}
  static bool on_evict(ConnectionLimit::Member& m) {
    auto& c = static_cast<FakeConnection&>(m);
    if (c.dying) return false;
    ++c.evictions;
    return true;
  }
  int evictions = 0;
  bool dying = false;  // its destructor waits for the lock: evict() cannot take a reference any more
};

// Each of `conns` admitted to a place of its own (a fatal failure otherwise: wrap in ASSERT_NO_FATAL_FAILURE).
void admit_all(ConnectionLimit& limit, std::initializer_list<FakeConnection*> conns) {
  for (FakeConnection* c : conns) ASSERT_EQ(limit.admit(*c), Admission::Admitted);
}

// What each connection's destructor does at the end of a test.
void remove_all(ConnectionLimit& limit, std::initializer_list<FakeConnection*> conns) {
  for (FakeConnection* c : conns) limit.remove(*c);
}

TEST(ConnectionLimit, EvictsTheConnectionIdleLongestAndKeepsTheCount) {
  ConnectionLimit limit(3);
  FakeConnection a, b, c, d, e;
  EXPECT_EQ(limit.admit(a), Admission::Admitted);
  EXPECT_EQ(limit.admit(b), Admission::Admitted);
  EXPECT_EQ(limit.admit(c), Admission::Admitted);
  EXPECT_EQ(limit.idle(), 3u) << "a new connection is idle from its admission";
  limit.idle(a);  // still idle: keeps its place as the oldest
  EXPECT_TRUE(limit.busy(b));  // b sends something
  limit.idle(b);               // and waits again: now the newest
  EXPECT_EQ(limit.admit(d), Admission::Evicted);
  EXPECT_EQ(a.evictions, 1);
  EXPECT_FALSE(limit.busy(a)) << "an evicted connection must close";
  EXPECT_FALSE(limit.busy(a)) << "and every later look says so again";
  EXPECT_FALSE(limit.idle(a)) << "an evicted connection is never listed again";
  EXPECT_EQ(limit.open(), 3u) << "the evicted connection's place went to the new one";
  EXPECT_EQ(limit.idle(), 3u);  // c, b, d
  EXPECT_EQ(limit.admit(e), Admission::Evicted);
  EXPECT_EQ(c.evictions, 1);
  EXPECT_FALSE(limit.leave(a)) << "its close is the eviction's";
  EXPECT_FALSE(limit.leave(c));
  EXPECT_EQ(limit.open(), 3u);
  remove_all(limit, {&a, &b, &c, &d, &e});
  EXPECT_EQ(limit.open(), 0u);
  EXPECT_EQ(limit.idle(), 0u);
  EXPECT_EQ(b.evictions + d.evictions + e.evictions, 0);
}

TEST(ConnectionLimit, RefusesOnlyWhenEveryConnectionIsBusy) {
  ConnectionLimit limit(2);
  FakeConnection a, b, c;
  ASSERT_NO_FATAL_FAILURE(admit_all(limit, {&a, &b}));
  EXPECT_TRUE(limit.busy(a));
  EXPECT_TRUE(limit.busy(b));
  EXPECT_EQ(limit.admit(c), Admission::Refused);
  EXPECT_EQ(limit.open(), 2u);
  EXPECT_EQ(limit.idle(), 0u);
  limit.remove(c);  // a refused connection holds nothing
  EXPECT_EQ(limit.open(), 2u);
  limit.idle(b);
  FakeConnection d;
  EXPECT_EQ(limit.admit(d), Admission::Evicted);
  EXPECT_EQ(b.evictions, 1);
  remove_all(limit, {&a, &b, &d});
}

TEST(ConnectionLimit, AConnectionThatBecameBusyFirstIsNotEvicted) {
  // Its thread took the lock first: the eviction takes the next-oldest idle one.
  ConnectionLimit limit(2);
  FakeConnection a, b, c;
  ASSERT_NO_FATAL_FAILURE(admit_all(limit, {&a, &b}));
  EXPECT_TRUE(limit.busy(a));
  EXPECT_EQ(limit.admit(c), Admission::Evicted);
  EXPECT_EQ(a.evictions, 0);
  EXPECT_EQ(b.evictions, 1);
  limit.idle(a);
  EXPECT_EQ(limit.idle(), 2u);  // c, a
  remove_all(limit, {&a, &b, &c});
}

TEST(ConnectionLimit, AConnectionClosingByItselfFreesItsPlaceAndIsNeverEvicted) {
  // Its sender left, or idle_timeout closed it: counted as that, and a new connection gets its place without an
  // eviction.
  ConnectionLimit limit(2);
  FakeConnection a, b, c;
  ASSERT_NO_FATAL_FAILURE(admit_all(limit, {&a, &b}));
  EXPECT_TRUE(limit.leave(a)) << "not evicted: its own reason counts";
  EXPECT_EQ(limit.open(), 1u);
  limit.idle(a);  // a late read completing: never listed again
  EXPECT_EQ(limit.idle(), 1u);
  EXPECT_EQ(limit.admit(c), Admission::Admitted);
  EXPECT_EQ(a.evictions + b.evictions, 0);
  limit.remove(a);  // its destructor: the place is not freed twice
  EXPECT_EQ(limit.open(), 2u);
  remove_all(limit, {&b, &c});
  EXPECT_EQ(limit.open(), 0u);
}

TEST(ConnectionLimit, AConnectionEvictedFirstDoesNotCountItsOwnCloseToo) {
  // The eviction took the lock first, then the connection's idle_timeout or its sender's leaving arrives.
  ConnectionLimit limit(1);
  FakeConnection a, b;
  ASSERT_NO_FATAL_FAILURE(admit_all(limit, {&a}));
  EXPECT_EQ(limit.admit(b), Admission::Evicted);
  EXPECT_FALSE(limit.leave(a)) << "the close is the eviction's: no idle timeout is counted";
  EXPECT_EQ(limit.open(), 1u);
  remove_all(limit, {&a, &b});
}

TEST(ConnectionLimit, AConnectionBeingDestroyedIsNotCountedAsEvicted) {
  // Its last reference is gone and its destructor waits for the lock: its place is free, nothing is evicted, and
  // the destructor's remove() does not free it a second time.
  ConnectionLimit limit(2);
  FakeConnection a, b, c;
  ASSERT_NO_FATAL_FAILURE(admit_all(limit, {&a, &b}));
  a.dying = true;
  EXPECT_EQ(limit.admit(c), Admission::Admitted);
  EXPECT_EQ(a.evictions + b.evictions, 0);
  EXPECT_EQ(limit.open(), 2u);
  EXPECT_EQ(limit.idle(), 2u);  // b, c
  limit.remove(a);
  EXPECT_EQ(limit.open(), 2u);
  remove_all(limit, {&b, &c});
  EXPECT_EQ(limit.open(), 0u);
}

TEST(ConnectionLimit, ConcurrentAdmissionsNeverOvershootNorEvictOneConnectionTwice) {
  // Two accepting threads and the connections' own threads at once: every connection is evicted at most once, the
  // count of places never passes the limit, and evictions match the admissions that reported them.
  constexpr std::size_t kMax = 8, kPerThread = 4000;
  ConnectionLimit limit(kMax);
  std::vector<std::unique_ptr<FakeConnection>> conns(2 * kPerThread);
  for (auto& c : conns) c = std::make_unique<FakeConnection>();
  std::atomic<std::size_t> evicted{0}, refused{0};
  std::atomic<bool> over{false};
  auto accepting = [&](std::size_t first) {
    for (std::size_t i = first; i < first + kPerThread; ++i) {
      const auto how = limit.admit(*conns[i]);
      if (how == Admission::Evicted) ++evicted;
      if (how == Admission::Refused) ++refused;
      if (limit.open() > kMax) over = true;
      // Its own side: some send at once and idle again, some leave by themselves.
      if (how != Admission::Refused && i % 3 == 0 && limit.busy(*conns[i])) limit.idle(*conns[i]);
      if (how != Admission::Refused && i % 5 == 0) limit.leave(*conns[i]);
    }
  };
  std::thread t1(accepting, 0), t2(accepting, kPerThread);
  t1.join();
  t2.join();
  EXPECT_FALSE(over.load());
  std::size_t calls = 0;
  for (auto& c : conns) {
    EXPECT_LE(c->evictions, 1);
    calls += static_cast<std::size_t>(c->evictions);
  }
  EXPECT_EQ(calls, evicted.load());
  EXPECT_EQ(refused.load(), 0u) << "something was always idle";
  EXPECT_EQ(limit.open(), kMax);
  for (auto& c : conns) limit.remove(*c);
  EXPECT_EQ(limit.open(), 0u);
  EXPECT_EQ(limit.idle(), 0u);
}

}  // namespace
}  // namespace saker
