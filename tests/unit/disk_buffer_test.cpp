// Given a sink with a disk buffer, accepted alerts survive restarts and damage to the log's tail.
#include "sinks/queue/disk_buffer.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "sinks/dead_letter.hpp"
#include "sinks/queue/buffer.hpp"
#include "sinks/queue/crc32c.hpp"
#include "sinks/queue/segment_scan.hpp"
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

std::unique_ptr<Buffer> open_disk(const Dir& d, Metrics& m, BufferSpec spec = {}, DeadLetterFile* dead = nullptr) {
  spec.type = BufferSpec::Type::Disk;
  if (spec.max_bytes == 32ULL * 1024 * 1024) spec.max_bytes = 64ULL * 1024 * 1024;
  auto r = open_buffer(spec, BufferContext{"s", d.path.string(), m, DecodeLimits{}, dead});
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

fs::path buffer_dir(const Dir& d) { return d.path / "buffers" / "s"; }

std::vector<fs::path> segments(const Dir& d) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(buffer_dir(d))) {
    if (e.path().extension() == ".wal") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Where each record of an intact log lies, in push order: its segment and byte range. Read with the framing
// alone (length, skip), independently of the scan under test.
struct Placed {
  fs::path seg;
  std::uint64_t off;
  std::uint64_t end;
};
std::vector<Placed> records_of(const Dir& d) {
  std::vector<Placed> out;
  for (const auto& seg : segments(d)) {
    const std::string bytes = test::read_file(seg.string());
    for (std::uint64_t off = 0; off + 8 <= bytes.size();) {
      std::uint32_t len = 0;
      std::memcpy(&len, bytes.data() + off, 4);
      out.push_back({seg, off, off + 8 + len});
      off += 8 + len;
    }
  }
  return out;
}

void write_byte(const fs::path& file, std::uint64_t at, char value) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(at));
  f.put(value);
}

char read_byte(const fs::path& file, std::uint64_t at) {
  std::ifstream f(file, std::ios::binary);
  f.seekg(static_cast<std::streamoff>(at));
  return static_cast<char>(f.get());
}

void write_text(const fs::path& file, std::string_view text) {
  std::ofstream f(file, std::ios::binary | std::ios::trunc);
  f.write(text.data(), static_cast<std::streamsize>(text.size()));
}

std::set<std::string> ids_from(int from, int to, const std::set<int>& except = {}) {
  std::set<std::string> out;
  for (int i = from; i < to; ++i) {
    if (!except.contains(i)) out.insert(fmt::format("id-{}", i));
  }
  return out;
}

std::uint64_t counter(Metrics& m, const char* name) { return m.counter_value(name, {{"sink", "s"}}); }

// The "raw" dead letters of the sink, decoded from base64.
std::vector<std::string> raw_dead_letters(const Dir& d) {
  std::vector<std::string> out;
  std::ifstream in(d.path / "dead_letter" / "s.ndjson");
  for (std::string line; std::getline(in, line);) {
    const auto at = line.find("\"raw\":\"");
    if (at == std::string::npos) continue;
    const std::string b64 = line.substr(at + 7, line.rfind('"') - at - 7);
    std::string raw(b64.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()),
                                  reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
    raw.resize(static_cast<std::size_t>(n) - (b64.ends_with("==") ? 2 : b64.ends_with("=") ? 1 : 0));
    out.push_back(raw);
  }
  return out;
}

// A segment's bytes built in memory: records of varied sizes, and where each one lies.
struct Segment {
  std::string bytes;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> records;  // [offset, end)

  void add(std::string_view payload) {
    const auto len = static_cast<std::uint32_t>(payload.size());
    const std::uint32_t crc = crc32c(payload.data(), payload.size());
    const std::uint64_t off = bytes.size();
    bytes.append(reinterpret_cast<const char*>(&len), 4).append(reinterpret_cast<const char*>(&crc), 4).append(payload);
    records.emplace_back(off, bytes.size());
  }
  static Segment of(int n) {
    Segment s;
    for (int i = 0; i < n; ++i)
      s.add(fmt::format(R"({{"rule":"r{}","output":"{}"}})", i, std::string(7 + 13 * i, 'o')));
    return s;
  }
};

std::vector<SegmentPart> scan_all(std::string_view bytes) {
  std::vector<SegmentPart> parts;
  SegmentScan scan(bytes);
  for (SegmentPart p; scan.next(p);) parts.push_back(p);
  return parts;
}

// The parts cover every byte exactly once, in order.
void expect_tiling(const std::vector<SegmentPart>& parts, std::uint64_t size) {
  std::uint64_t at = 0;
  for (const auto& p : parts) {
    ASSERT_EQ(p.offset, at);
    ASSERT_GT(p.size, 0u);
    at += p.size;
  }
  ASSERT_EQ(at, size);
}

}  // namespace

TEST(SegmentScan, AnIntactSegmentIsAllRecords) {
  const Segment seg = Segment::of(10);
  const auto parts = scan_all(seg.bytes);
  ASSERT_EQ(parts.size(), seg.records.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    EXPECT_EQ(parts[i].damage, SegmentDamage::none);
    EXPECT_EQ(parts[i].offset, seg.records[i].first);
    EXPECT_EQ(parts[i].offset + parts[i].size, seg.records[i].second);
  }
  EXPECT_TRUE(scan_all("").empty());
}

TEST(SegmentScan, AFlippedByteAnywhereCostsExactlyItsRecord) {
  // Every byte of every record (length, CRC, payload; first, middle and last record), flipped three ways.
  const Segment seg = Segment::of(8);
  for (std::uint64_t at = 0; at < seg.bytes.size(); ++at) {
    for (const unsigned char x : {0x01, 0x80, 0xFF}) {
      std::string bytes = seg.bytes;
      bytes[at] = static_cast<char>(bytes[at] ^ x);
      const auto parts = scan_all(bytes);
      expect_tiling(parts, bytes.size());
      std::size_t valid = 0, damaged = 0;
      for (const auto& p : parts) {
        if (p.damage == SegmentDamage::none) {
          ++valid;
          EXPECT_FALSE(p.offset <= at && at < p.offset + p.size) << "flip at " << at << " in a valid record";
        } else {
          ++damaged;
          const auto rec = *std::find_if(seg.records.begin(), seg.records.end(), [&](auto r) { return r.second > at; });
          EXPECT_EQ(p.offset, rec.first) << "flip at " << at << " ^" << int{x};
          EXPECT_EQ(p.offset + p.size, rec.second) << "flip at " << at << " ^" << int{x};
        }
      }
      EXPECT_EQ(valid, seg.records.size() - 1) << "flip at " << at << " ^" << int{x};
      EXPECT_EQ(damaged, 1u) << "flip at " << at << " ^" << int{x};
    }
  }
}

TEST(SegmentScan, ACutAnywhereLeavesTheCompleteRecordsAndOneTornTail) {
  const Segment seg = Segment::of(6);
  for (std::uint64_t cut = 0; cut <= seg.bytes.size(); ++cut) {
    const auto parts = scan_all(std::string_view(seg.bytes).substr(0, cut));
    expect_tiling(parts, cut);
    const auto complete = static_cast<std::size_t>(
        std::count_if(seg.records.begin(), seg.records.end(), [&](auto r) { return r.second <= cut; }));
    const bool at_boundary =
        cut == 0 || std::any_of(seg.records.begin(), seg.records.end(), [&](auto r) { return r.second == cut; });
    ASSERT_EQ(parts.size(), complete + (at_boundary ? 0 : 1)) << "cut at " << cut;
    if (!at_boundary) {
      EXPECT_EQ(parts.back().damage, SegmentDamage::torn) << "cut at " << cut;
    }
  }
}

TEST(SegmentScan, GarbageAndZerosBetweenRecordsAreOnePartAndTheScanResyncs) {
  std::mt19937 rng(20240507);
  for (int round = 0; round < 200; ++round) {
    const Segment seg = Segment::of(6);
    const std::size_t k = rng() % seg.records.size();
    const std::size_t n = 1 + rng() % 300;
    std::string junk(n, '\0');
    if (round % 2) {
      for (auto& c : junk) c = static_cast<char>(rng());
    }
    std::string bytes = seg.bytes;
    bytes.insert(seg.records[k].first, junk);
    const auto parts = scan_all(bytes);
    expect_tiling(parts, bytes.size());
    std::size_t valid = 0;
    for (const auto& p : parts) valid += p.damage == SegmentDamage::none;
    EXPECT_EQ(valid, seg.records.size()) << "round " << round;
    EXPECT_EQ(parts.size(), seg.records.size() + 1) << "round " << round;
  }
}

TEST(SegmentScan, TwoDamagedRecordsInARowAreTwoParts) {
  const Segment seg = Segment::of(5);
  std::string bytes = seg.bytes;
  bytes[seg.records[1].first + 20] ^= 0x55;  // payloads of records 1 and 2
  bytes[seg.records[2].first + 9] ^= 0x55;
  const auto parts = scan_all(bytes);
  ASSERT_EQ(parts.size(), 5u);
  EXPECT_EQ(parts[1].damage, SegmentDamage::crc);
  EXPECT_EQ(parts[2].damage, SegmentDamage::crc);
  EXPECT_EQ(parts[2].offset, seg.records[2].first);
}

TEST(SegmentScan, RandomBytesNeverEndTheScanEarly) {
  std::mt19937 rng(99);
  for (int round = 0; round < 500; ++round) {
    std::string bytes(rng() % 2048, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng() % (round % 3 ? 256 : 4));  // small values: plausible lengths
    expect_tiling(scan_all(bytes), bytes.size());
  }
}

TEST(Crc32c, KnownVector) {
  // RFC 3720 B.4: CRC-32C of 32 zero bytes is 0x8A9136AA; "123456789" is 0xE3069283.
  const char zeros[32] = {};
  EXPECT_EQ(crc32c(zeros, 32), 0x8A9136AAu);
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
}

TEST(Crc32c, CombineMatchesTheCrcOfTheWhole) {
  std::mt19937 rng(3);
  for (int round = 0; round < 200; ++round) {
    std::string a(rng() % 3000, '\0'), b(rng() % 3000, '\0');
    for (auto& c : a) c = static_cast<char>(rng());
    for (auto& c : b) c = static_cast<char>(rng());
    const std::string ab = a + b;
    EXPECT_EQ(crc32c_combine(crc32c(a.data(), a.size()), crc32c(b.data(), b.size()), b.size()),
              crc32c(ab.data(), ab.size()));
  }
}

TEST(SegmentScan, ResyncsOnLongRecordsAfterDamage) {
  // Records long enough that the resync checks their CRC from prefix CRCs.
  Segment seg;
  for (int i = 0; i < 6; ++i) seg.add(std::string(300 + 977 * static_cast<std::size_t>(i), static_cast<char>('a' + i)));
  std::string bytes = seg.bytes;
  bytes[seg.records[2].first + 1] ^= 0x10;  // record 2's length
  const auto parts = scan_all(bytes);
  ASSERT_EQ(parts.size(), 6u);
  EXPECT_EQ(parts[2].damage, SegmentDamage::unframed);
  EXPECT_EQ(parts[3].offset, seg.records[3].first);
  EXPECT_EQ(parts[3].damage, SegmentDamage::none);
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

TEST(DiskBuffer, CorruptBytesCostOnlyTheRecordsTheyHit) {
  std::mt19937 rng(7);
  for (int round = 0; round < 30; ++round) {
    Dir d;
    Metrics m;
    {
      auto b = open_disk(d, m);
      for (int i = 0; i < 20; ++i) push(*b, i, i + 1);
    }
    const auto recs = records_of(d);
    const fs::path seg = only_segment(d);
    const std::string before = test::read_file(seg.string());
    // Overwrite a few bytes anywhere; the records whose bytes really changed are the damaged ones.
    const auto at = std::uniform_int_distribution<std::uint64_t>(0, before.size() - 1)(rng);
    {
      std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(static_cast<std::streamoff>(at));
      const char junk[3] = {'\x5a', '\x00', '\x7f'};
      f.write(junk, static_cast<std::streamsize>(std::min<std::uint64_t>(3, before.size() - at)));
    }
    const std::string after = test::read_file(seg.string());
    std::set<int> damaged;
    for (std::size_t i = 0; i < recs.size(); ++i) {
      if (before.substr(recs[i].off, recs[i].end - recs[i].off) !=
          after.substr(recs[i].off, recs[i].end - recs[i].off)) {
        damaged.insert(static_cast<int>(i));
      }
    }
    Metrics m2;
    DeadLetterFile dead(d.path.string(), "s", m2);
    auto b = open_disk(d, m2, {}, &dead);
    const auto ids = take_all(*b);
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), ids_from(0, 20, damaged)) << "damage at " << at;
    EXPECT_EQ(ids.size(), 20 - damaged.size());
    const auto corrupt = counter(m2, "saker_buffer_corrupt_records_total");
    EXPECT_GE(corrupt, damaged.empty() ? 0u : 1u);
    EXPECT_LE(corrupt, damaged.size());
    EXPECT_EQ(raw_dead_letters(d).size(), corrupt);
  }
}

TEST(DiskBuffer, FlippedBytesAcrossSegmentsCostOnlyTheirRecordsAtStartUp) {
  std::mt19937 rng(424242);
  for (int round = 0; round < 8; ++round) {
    Dir d;
    Metrics m;
    BufferSpec spec;
    spec.segment_bytes = 4096;
    constexpr int kAlerts = 400;
    {
      auto b = open_disk(d, m, spec);
      for (int i = 0; i < kAlerts; ++i) push(*b, i, i + 1);
    }
    const auto recs = records_of(d);
    ASSERT_EQ(recs.size(), static_cast<std::size_t>(kAlerts));
    ASSERT_GT(segments(d).size(), 5u);
    // One flipped byte in each of a dozen distinct records, anywhere in them (length and CRC fields included).
    std::set<int> damaged;
    while (damaged.size() < 12) damaged.insert(static_cast<int>(rng() % kAlerts));
    std::vector<std::string> originals;
    for (const int i : damaged) {
      const auto& r = recs[static_cast<std::size_t>(i)];
      originals.push_back(test::read_file(r.seg.string()).substr(r.off, r.end - r.off));
      const auto at = r.off + rng() % (r.end - r.off);
      write_byte(r.seg, at, static_cast<char>(read_byte(r.seg, at) ^ static_cast<char>(1 + rng() % 255)));
    }
    Metrics m2;
    DeadLetterFile dead(d.path.string(), "s", m2);
    auto b = open_disk(d, m2, spec, &dead);
    EXPECT_EQ(b->queued(), static_cast<std::size_t>(kAlerts) - damaged.size());
    EXPECT_EQ(counter(m2, "saker_buffer_corrupt_records_total"), damaged.size()) << "round " << round;
    // The dead letters are the damaged records' bytes as they are now, one line each.
    const auto raw = raw_dead_letters(d);
    ASSERT_EQ(raw.size(), damaged.size());
    for (std::size_t k = 0; k < raw.size(); ++k) {
      EXPECT_EQ(raw[k].size(), originals[k].size());
      EXPECT_NE(raw[k], originals[k]);
    }
    const auto ids = take_all(*b);
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), ids_from(0, kAlerts, damaged)) << "round " << round;
    EXPECT_EQ(ids.size(), kAlerts - damaged.size());
    EXPECT_EQ(b->queued(), 0u);
    EXPECT_EQ(counter(m2, "saker_buffer_corrupt_records_total"), damaged.size()) << "counted once";
  }
}

TEST(DiskBuffer, TruncatedSegmentsLoseOnlyWhatWasCutAndOnlyTheNewestIsCut) {
  std::mt19937 rng(31337);
  for (int round = 0; round < 8; ++round) {
    Dir d;
    Metrics m;
    BufferSpec spec;
    spec.segment_bytes = 4096;
    constexpr int kAlerts = 300;
    {
      auto b = open_disk(d, m, spec);
      for (int i = 0; i < kAlerts; ++i) push(*b, i, i + 1);
    }
    const auto recs = records_of(d);
    const auto segs = segments(d);
    // Cut three older segments and the newest one at random offsets.
    std::set<fs::path> cut_segs{segs.back()};
    while (cut_segs.size() < 4) cut_segs.insert(segs[rng() % (segs.size() - 1)]);
    std::map<fs::path, std::uint64_t> cut_at;
    for (const auto& seg : cut_segs) {
      cut_at[seg] = rng() % fs::file_size(seg);
      fs::resize_file(seg, cut_at[seg]);
    }
    std::set<int> lost;
    std::size_t torn = 0;
    for (std::size_t i = 0; i < recs.size(); ++i) {
      const auto it = cut_at.find(recs[i].seg);
      if (it == cut_at.end() || recs[i].end <= it->second) continue;
      lost.insert(static_cast<int>(i));
      torn += recs[i].off < it->second;  // the record the cut went through
    }
    Metrics m2;
    DeadLetterFile dead(d.path.string(), "s", m2);
    auto b = open_disk(d, m2, spec, &dead);
    EXPECT_EQ(counter(m2, "saker_buffer_corrupt_records_total"), torn) << "round " << round;
    // The newest segment ends at its last complete record; older ones keep their bytes.
    const auto last_complete = [&](const fs::path& seg) {
      std::uint64_t end = 0;
      for (const auto& r : recs) {
        if (r.seg == seg && r.end <= cut_at[seg]) end = r.end;
      }
      return end;
    };
    EXPECT_EQ(fs::file_size(segs.back()), last_complete(segs.back()));
    for (const auto& seg : cut_segs) {
      if (seg != segs.back()) {
        EXPECT_EQ(fs::file_size(seg), cut_at[seg]);
      }
    }
    const auto ids = take_all(*b);
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), ids_from(0, kAlerts, lost)) << "round " << round;
    // New alerts go after the last complete record and come back in order.
    push(*b, 1000, 1001);
    EXPECT_EQ(take_all(*b), std::vector<std::string>{"id-1000"});
  }
}

TEST(DiskBuffer, ALengthDamagedWhileRunningCostsOneRecordAndTheReaderResyncs) {
  std::mt19937 rng(5);
  for (int round = 0; round < 20; ++round) {
    Dir d;
    Metrics m;
    DeadLetterFile dead(d.path.string(), "s", m);
    BufferSpec spec;
    spec.segment_bytes = 2048;
    auto b = open_disk(d, m, spec, &dead);
    for (int i = 0; i < 100; ++i) push(*b, i, i + 1);
    const auto recs = records_of(d);
    // One record's length field (or, every other round, its payload) damaged under the running buffer.
    const int victim = static_cast<int>(rng() % 100);
    const auto& r = recs[static_cast<std::size_t>(victim)];
    const auto at = round % 2 ? r.off + rng() % 4 : r.off + 8 + rng() % (r.end - r.off - 8);
    write_byte(r.seg, at, static_cast<char>(read_byte(r.seg, at) ^ static_cast<char>(1 + rng() % 255)));
    const auto ids = take_all(*b);
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), ids_from(0, 100, {victim})) << "round " << round;
    EXPECT_EQ(counter(m, "saker_buffer_corrupt_records_total"), 1u);
    EXPECT_EQ(raw_dead_letters(d).size(), 1u);
    EXPECT_EQ(b->queued(), 0u);
    EXPECT_EQ(b->queued_bytes(), 0u);
  }
}

TEST(DiskBuffer, ARecordThatNoLongerDecodesIsDeadLetteredRaw) {
  Dir d;
  Metrics m;
  {
    auto b = open_disk(d, m);
    push(*b, 0, 3);
  }
  // A record whose CRC matches but whose payload is not an alert (e.g. written under other limits).
  const std::string bad = "not an alert";
  const auto len = static_cast<std::uint32_t>(bad.size());
  const std::uint32_t crc = crc32c(bad.data(), bad.size());
  {
    std::ofstream f(only_segment(d), std::ios::binary | std::ios::app);
    f.write(reinterpret_cast<const char*>(&len), 4).write(reinterpret_cast<const char*>(&crc), 4) << bad;
  }
  Metrics m2;
  DeadLetterFile dead(d.path.string(), "s", m2);
  auto b = open_disk(d, m2, {}, &dead);
  EXPECT_EQ(take_all(*b).size(), 3u);
  EXPECT_EQ(counter(m2, "saker_buffer_corrupt_records_total"), 1u);
  const auto raw = raw_dead_letters(d);
  ASSERT_EQ(raw.size(), 1u);
  EXPECT_EQ(raw[0].substr(8), bad);
  EXPECT_EQ(b->queued(), 0u);
}

namespace {

// 5 segments of alerts, none acknowledged, closed cleanly.
void fill_segments(const Dir& d, int alerts) {
  Metrics m;
  BufferSpec spec;
  spec.segment_bytes = 2048;
  auto b = open_disk(d, m, spec);
  for (int i = 0; i < alerts; ++i) push(*b, i, i + 1);
}

}  // namespace

TEST(DiskBuffer, ADamagedCursorKeepsEverySegmentAndDeliversFromTheOldest) {
  for (const std::string& cursor :
       std::vector<std::string>{"9 0\n", "99 0\n", "3 0\n", "1 99999\n", "1 5\n", "", "garbage", "1 0x\n", "1\n",
                                "-1 0\n", "1 0 extra\n", std::string("1 \0\n", 4)}) {
    Dir d;
    fill_segments(d, 120);
    const auto segs_before = segments(d);
    ASSERT_GT(segs_before.size(), 4u);
    write_text(buffer_dir(d) / "cursor", cursor);
    Metrics m;
    auto b = open_disk(d, m);
    EXPECT_EQ(counter(m, "saker_buffer_cursor_errors_total"), 1u) << "cursor \"" << cursor << "\"";
    EXPECT_EQ(segments(d), segs_before) << "cursor \"" << cursor << "\"";
    const auto ids = take_all(*b);
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), ids_from(0, 120)) << "cursor \"" << cursor << "\"";
  }
}

TEST(DiskBuffer, ACursorIntoAMissingSegmentIsAnError) {
  Dir d;
  fill_segments(d, 120);
  auto segs = segments(d);
  fs::remove(segs[2]);
  write_text(buffer_dir(d) / "cursor", fmt::format("{} 0\n", std::stoull(segs[2].stem().string())));
  Metrics m;
  auto b = open_disk(d, m);
  EXPECT_EQ(counter(m, "saker_buffer_cursor_errors_total"), 1u);
  const auto ids = take_all(*b);
  EXPECT_GT(ids.size(), 60u);
  EXPECT_EQ(ids.front(), "id-0");
}

TEST(DiskBuffer, AGoodCursorIsNoErrorAndARepairedOneIsNotReportedTwice) {
  Dir d;
  fill_segments(d, 120);
  {
    Metrics m;
    BufferSpec spec;
    spec.segment_bytes = 2048;
    auto b = open_disk(d, m, spec);
    std::vector<AlertPtr> out;
    b->take(out, 50, std::chrono::milliseconds(1));
    b->ack(out.size());
    EXPECT_EQ(counter(m, "saker_buffer_cursor_errors_total"), 0u);
  }
  EXPECT_FALSE(fs::exists(buffer_dir(d) / "cursor.tmp"));
  {
    Metrics m;
    auto b = open_disk(d, m);
    EXPECT_EQ(counter(m, "saker_buffer_cursor_errors_total"), 0u);
    EXPECT_EQ(b->queued(), 70u);
  }
  write_text(buffer_dir(d) / "cursor", "77 0\n");
  {
    Metrics m;
    auto b = open_disk(d, m);
    EXPECT_EQ(counter(m, "saker_buffer_cursor_errors_total"), 1u);
  }
  Metrics m;
  auto b = open_disk(d, m);
  EXPECT_EQ(counter(m, "saker_buffer_cursor_errors_total"), 0u);
  EXPECT_GE(b->queued(), 70u);
}

TEST(DiskBuffer, AMissingCursorIsNoError) {
  Dir d;
  fill_segments(d, 60);
  fs::remove(buffer_dir(d) / "cursor");
  Metrics m;
  auto b = open_disk(d, m);
  EXPECT_EQ(counter(m, "saker_buffer_cursor_errors_total"), 0u);
  EXPECT_EQ(take_all(*b).size(), 60u);
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
