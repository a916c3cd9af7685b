// Given a sink with a disk buffer, accepted alerts survive restarts and damage to the log's tail.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <fmt/format.h>

#include "sinks/queue/buffer.hpp"
#include "sinks/queue/crc32c.hpp"
#include "sinks/queue/disk_buffer.hpp"
#include "test_util.hpp"

using namespace saker;
namespace fs = std::filesystem;

namespace {

struct Dir {
  fs::path path = fs::temp_directory_path() / fmt::format("saker-disk-{}-{}", ::getpid(), std::random_device{}());
  Dir() { fs::create_directories(path); }
  ~Dir() { fs::remove_all(path); }
};

AlertPtr alert(int i) {
  return test::decode_ok(fmt::format(R"({{"rule":"Write below etc","priority":"Error","uuid":"id-{}","output":"{}"}})", i,
                                     std::string(static_cast<std::size_t>(i % 50), 'x')));
}

std::unique_ptr<Buffer> open_disk(const Dir& d, Metrics& m, BufferSpec spec = {}) {
  spec.type = BufferSpec::Type::Disk;
  if (spec.max_bytes == 32ULL * 1024 * 1024) spec.max_bytes = 64ULL * 1024 * 1024;
  auto r = open_buffer(spec, BufferContext{"s", d.path.string(), m, DecodeLimits{}});
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(r).value();
}

void push(Buffer& b, int from, int to) {
  std::vector<AlertPtr> batch;
  for (int i = from; i < to; ++i) batch.push_back(alert(i));
  auto r = b.push(batch);
  ASSERT_TRUE(r.ok() && r.value());
}

std::vector<std::string> take_all(Buffer& b, bool ack = true) {
  std::vector<std::string> ids;
  for (;;) {
    std::vector<AlertPtr> out;
    b.take(out, 100, std::chrono::milliseconds(1));
    if (out.empty()) break;
    for (auto& a : out) ids.emplace_back(a->uuid);
    if (ack) b.ack(out.size());
  }
  return ids;
}

fs::path only_segment(const Dir& d) {
  for (const auto& e : fs::directory_iterator(d.path / "buffers" / "s")) {
    if (e.path().extension() == ".wal") return e.path();
  }
  return {};
}

}  // namespace

TEST(Crc32c, KnownVector) {
  // RFC 3720 B.4: CRC-32C of 32 zero bytes is 0x8A9136AA; "123456789" is 0xE3069283.
  const char zeros[32] = {};
  EXPECT_EQ(crc32c(zeros, 32), 0x8A9136AAu);
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
}

TEST(DiskBuffer, UnacknowledgedAlertsComeBackAfterARestart) {
  Dir d;
  Metrics m;
  {
    auto b = open_disk(d, m);
    push(*b, 0, 100);
    std::vector<AlertPtr> out;
    b->take(out, 30, std::chrono::milliseconds(1));
    ASSERT_EQ(out.size(), 30u);
    b->ack(30);
    b->take(out, 10, std::chrono::milliseconds(1));  // taken, never acknowledged
    EXPECT_EQ(b->queued(), 70u);
  }
  auto b = open_disk(d, m);
  EXPECT_EQ(b->queued(), 70u);
  auto ids = take_all(*b);
  ASSERT_EQ(ids.size(), 70u);
  EXPECT_EQ(ids.front(), "id-30");
  EXPECT_EQ(ids.back(), "id-99");
  EXPECT_EQ(b->queued(), 0u);
}

TEST(DiskBuffer, SegmentsRollAndAreDeletedOnceAcknowledged) {
  Dir d;
  Metrics m;
  BufferSpec spec;
  spec.segment_bytes = 4096;
  auto b = open_disk(d, m, spec);
  for (int i = 0; i < 200; i += 10) push(*b, i, i + 10);
  std::size_t segs = 0;
  for (const auto& e : fs::directory_iterator(d.path / "buffers" / "s")) segs += e.path().extension() == ".wal";
  EXPECT_GT(segs, 3u);
  auto ids = take_all(*b);
  ASSERT_EQ(ids.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(ids[static_cast<std::size_t>(i)], fmt::format("id-{}", i));
  segs = 0;
  for (const auto& e : fs::directory_iterator(d.path / "buffers" / "s")) segs += e.path().extension() == ".wal";
  EXPECT_EQ(segs, 1u);  // only the segment being written
}

TEST(DiskBuffer, TornTailIsCutAtTheLastCompleteRecordAtAnyOffset) {
  std::mt19937 rng(42);
  for (int round = 0; round < 30; ++round) {
    Dir d;
    Metrics m;
    std::uintmax_t size = 0;
    std::vector<std::uintmax_t> ends;  // file size after each record
    {
      auto b = open_disk(d, m);
      for (int i = 0; i < 20; ++i) {
        push(*b, i, i + 1);
        ends.push_back(fs::file_size(only_segment(d)));
      }
      size = ends.back();
    }
    const std::uintmax_t cut = std::uniform_int_distribution<std::uintmax_t>(1, size - 1)(rng);
    fs::resize_file(only_segment(d), cut);
    const std::size_t complete = static_cast<std::size_t>(std::count_if(ends.begin(), ends.end(), [&](auto e) { return e <= cut; }));
    Metrics m2;
    auto b = open_disk(d, m2);
    auto ids = take_all(*b);
    ASSERT_EQ(ids.size(), complete) << "cut at " << cut;
    for (std::size_t i = 0; i < complete; ++i) EXPECT_EQ(ids[i], fmt::format("id-{}", i));
    const bool torn = std::find(ends.begin(), ends.end(), cut) == ends.end();
    EXPECT_EQ(m2.counter_value("saker_buffer_corrupt_records_total", {{"sink", "s"}}), torn ? 1u : 0u) << cut;
    // New alerts append after the cut and are read in order.
    push(*b, 100, 101);
    EXPECT_EQ(take_all(*b), std::vector<std::string>{"id-100"});
  }
}

TEST(DiskBuffer, CorruptBytesAreDetectedByCrc) {
  std::mt19937 rng(7);
  for (int round = 0; round < 30; ++round) {
    Dir d;
    Metrics m;
    std::vector<std::uintmax_t> ends;
    {
      auto b = open_disk(d, m);
      for (int i = 0; i < 20; ++i) {
        push(*b, i, i + 1);
        ends.push_back(fs::file_size(only_segment(d)));
      }
    }
    // Flip a few bytes somewhere in the last quarter of the log.
    const auto size = ends.back();
    const auto at = std::uniform_int_distribution<std::uintmax_t>(size * 3 / 4, size - 1)(rng);
    {
      std::fstream f(only_segment(d), std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(static_cast<std::streamoff>(at));
      const char junk[3] = {'\x5a', '\x00', '\x7f'};
      f.write(junk, static_cast<std::streamsize>(std::min<std::uintmax_t>(3, size - at)));
    }
    const std::size_t intact = static_cast<std::size_t>(std::count_if(ends.begin(), ends.end(), [&](auto e) { return e <= at; }));
    Metrics m2;
    auto b = open_disk(d, m2);
    auto ids = take_all(*b);
    // Every record wholly before the damage survives; the damaged one and what follows it are cut and counted
    // (the flipped bytes may happen to equal the original ones, in which case nothing is lost).
    ASSERT_GE(ids.size(), intact) << "damage at " << at;
    for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], fmt::format("id-{}", i));
    if (ids.size() < 20) {
      EXPECT_EQ(m2.counter_value("saker_buffer_corrupt_records_total", {{"sink", "s"}}), 1u);
    }
  }
}

TEST(DiskBuffer, FullBufferPushesBackAndDropNewestCounts) {
  Dir d;
  Metrics m;
  BufferSpec spec;
  spec.max_bytes = 500;
  auto b = open_disk(d, m, spec);
  push(*b, 0, 10);  // ~900 bytes: over the limit (one batch is always taken into an empty buffer)
  std::vector<AlertPtr> more{alert(10)};
  auto r = b->push(more);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.value());
  EXPECT_EQ(more.size(), 1u);
  EXPECT_TRUE(b->full());
  take_all(*b);
  EXPECT_FALSE(b->full());
  r = b->push(more);
  EXPECT_TRUE(r.ok() && r.value());
}

TEST(MemoryBuffer, DropOldestKeepsTheNewest) {
  Metrics m;
  BufferSpec spec;
  spec.max_alerts = 5;
  spec.when_full = WhenFull::DropOldest;
  auto b = std::move(open_buffer(spec, BufferContext{"mem", "/nonexistent", m, DecodeLimits{}})).value();
  for (int i = 0; i < 8; ++i) {
    std::vector<AlertPtr> one{alert(i)};
    ASSERT_TRUE(b->push(one).value());
  }
  auto ids = take_all(*b);
  ASSERT_EQ(ids.size(), 5u);
  EXPECT_EQ(ids.front(), "id-3");
  EXPECT_EQ(m.counter_value("saker_buffer_dropped_total", {{"sink", "mem"}}), 3u);
}
