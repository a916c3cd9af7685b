// The tcp source: NDJSON over many connections, split lines, limits, bad input and backpressure.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "fake_ingest.hpp"
#include "source_client.hpp"

#include "sources/line_splitter.hpp"
#include "sources/tcp.hpp"

namespace saker {
namespace {

using test::connect_to;
using test::eventually;
using test::FakeIngest;

// True once the peer closed `fd` (EOF or reset) within `limit`; data that arrives first is read and ignored.
bool closed_by_peer(int fd, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) != 1) return false;
    char buf[256];
    if (::recv(fd, buf, sizeof buf, 0) <= 0) return true;
  }
}

// True while the peer has not closed `fd` (nothing to read, or data but no EOF).
bool still_open(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) == 0) return true;
  char byte = 0;
  return ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

void send_all(int fd, std::string_view data) { ASSERT_TRUE(test::send_all(fd, data)) << "send failed"; }

// Every test runs twice: lines decoded on the io thread (decode_threads 0) and on a DecodePool of two threads,
// where a connection's chunks are decoded side by side and must still come out in order.
class TcpSourceTest : public ::testing::TestWithParam<std::size_t> {
 protected:
  void start(TcpSourceOptions o = {}) {
    o.decode_threads = GetParam();
    o.host = "127.0.0.1";
    o.port = 0;
    source_ = std::make_unique<TcpSource>(ctx_, o);
    auto r = source_->start();
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_NE(source_->port(), 0);
  }
  void TearDown() override {
    if (source_) source_->stop();
  }
  std::uint64_t refused(const std::string& reason) {
    return metrics_.counter_value("saker_alerts_refused_total", {{"source", "tcp"}, {"reason", reason}});
  }
  std::uint64_t counter(const std::string& name) { return metrics_.counter_value(name, {{"source", "tcp"}}); }

  FakeIngest ingest_;
  Metrics metrics_;
  SourceContext ctx_{"tcp", ingest_, metrics_, {}, ""};
  std::unique_ptr<TcpSource> source_;
};

TEST_P(TcpSourceTest, JoinsLinesSplitAcrossWritesAndAcceptsCrlfAndBlankLines) {
  start();
  const int fd = connect_to(source_->port());
  ASSERT_GE(fd, 0);
  const std::string a = test::falco_alert("one"), b = test::falco_alert("two");
  send_all(fd, a.substr(0, 40));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a separate read for each part
  send_all(fd, a.substr(40) + "\r\n\n  \r\n" + b.substr(0, 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  send_all(fd, b.substr(10) + "\n" + test::falco_alert("three"));  // the last line ends with the connection
  ::close(fd);
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 3; })) << ingest_.count();
  EXPECT_EQ(ingest_.outputs(), (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(metrics_.counter_value("saker_alerts_received_total", {{"source", "tcp"}}), 3u);
  EXPECT_EQ(refused("invalid_json"), 0u);
}

TEST_P(TcpSourceTest, ServesManyConnectionsAtOnceInPerConnectionOrder) {
  TcpSourceOptions o;
  o.threads = 2;
  start(o);
  constexpr int kConns = 40, kLines = 50;
  std::vector<int> fds;
  for (int c = 0; c < kConns; ++c) {
    fds.push_back(connect_to(source_->port()));
    ASSERT_GE(fds.back(), 0);
  }
  ASSERT_TRUE(eventually([&] { return source_->connections() == kConns; }));
  for (int i = 0; i < kLines; ++i) {
    for (int c = 0; c < kConns; ++c) send_all(fds[c], test::falco_alert(fmt::format("c{}-{}", c, i)) + "\n");
  }
  for (int fd : fds) ::close(fd);
  ASSERT_TRUE(eventually([&] { return ingest_.count() == kConns * kLines; })) << ingest_.count();
  std::vector<int> next(kConns, 0);
  for (const auto& out : ingest_.outputs()) {
    int c = 0, i = 0;
    ASSERT_EQ(std::sscanf(out.c_str(), "c%d-%d", &c, &i), 2) << out;
    EXPECT_EQ(i, next[c]++) << "connection " << c << " out of order";
  }
  ASSERT_TRUE(eventually([&] { return source_->connections() == 0; }));
}

TEST_P(TcpSourceTest, OverlongLineIsDroppedAndCountedWhileLaterLinesArrive) {
  TcpSourceOptions o;
  o.max_line = 300;
  start(o);
  const int fd = connect_to(source_->port());
  ASSERT_GE(fd, 0);
  const std::string huge = test::falco_alert(std::string(1000, 'x'));
  // Once whole in one read, once in pieces so the splitter gives up before the newline arrives.
  send_all(fd, test::falco_alert("before") + "\n" + huge + "\n" + test::falco_alert("middle") + "\n");
  send_all(fd, huge.substr(0, 500));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  send_all(fd, huge.substr(500, 300));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  send_all(fd, huge.substr(800) + "\n" + test::falco_alert("after") + "\n");
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 3; }));
  EXPECT_EQ(ingest_.outputs(), (std::vector<std::string>{"before", "middle", "after"}));
  EXPECT_EQ(refused("too_large"), 2u);
  ::close(fd);
}

TEST_P(TcpSourceTest, BadLinesAreCountedAndTheRestContinue) {
  start();
  const int fd = connect_to(source_->port());
  ASSERT_GE(fd, 0);
  send_all(fd, test::falco_alert("a") + "\n{not json\n[1,2]\n{\"priority\":\"Notice\"}\n" + test::falco_alert("b") + "\n");
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 2; }));
  EXPECT_EQ(ingest_.outputs(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(refused("invalid_json"), 1u);
  EXPECT_EQ(refused("not_object"), 1u);
  EXPECT_EQ(refused("missing_rule"), 1u);
  ::close(fd);
}

TEST_P(TcpSourceTest, BackpressureLosesNothingOnceSinksFree) {
  start();
  ingest_.full = true;
  constexpr int kLines = 5000;  // ~1.1 MB: more than one read chunk, so reading must pause and resume
  std::string payload;
  for (int i = 0; i < kLines; ++i) payload += test::falco_alert(std::to_string(i)) + "\n";
  const int fd = connect_to(source_->port());
  ASSERT_GE(fd, 0);
  std::thread writer([&] { send_all(fd, payload); });
  ASSERT_TRUE(eventually([&] { return ingest_.calls() >= 3; }));  // refused, retried on the timer
  const auto calls_before = ingest_.calls();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_LT(ingest_.calls() - calls_before, 40u) << "retries should be paced by the timer, not spin";
  EXPECT_EQ(ingest_.count(), 0u);
  ingest_.full = false;
  writer.join();
  ASSERT_TRUE(eventually([&] { return ingest_.count() == kLines; })) << ingest_.count();
  const auto outs = ingest_.outputs();
  for (int i = 0; i < kLines; ++i) ASSERT_EQ(outs[i], std::to_string(i));
  ::close(fd);
}

TEST_P(TcpSourceTest, StopSubmitsWhatWasDecoded) {
  start();
  ingest_.full = true;
  const int fd = connect_to(source_->port());
  ASSERT_GE(fd, 0);
  send_all(fd, test::falco_alert("x") + "\n" + test::falco_alert("y") + "\n");
  ASSERT_TRUE(eventually([&] { return ingest_.calls() >= 1; }));
  ingest_.full = false;
  source_->stop();
  EXPECT_EQ(ingest_.outputs(), (std::vector<std::string>{"x", "y"}));
  ::close(fd);
}

TEST_P(TcpSourceTest, ConnectionsOverTheLimitAreClosedWhenNoneIsIdle) {
  TcpSourceOptions o;
  o.max_connections = 2;
  start(o);
  const int a = connect_to(source_->port()), b = connect_to(source_->port());
  ASSERT_TRUE(eventually([&] { return source_->connections() == 2 && source_->idle_connections() == 2; }));
  // Both are in the middle of a line: busy, so neither makes room.
  send_all(a, test::falco_alert("still served").substr(0, 20));
  send_all(b, test::falco_alert("b").substr(0, 20));
  ASSERT_TRUE(eventually([&] { return source_->idle_connections() == 0; }));
  const int c = connect_to(source_->port());
  ASSERT_GE(c, 0);
  EXPECT_TRUE(closed_by_peer(c)) << "the third connection should be closed by the source";
  EXPECT_EQ(counter("saker_source_connections_rejected_total"), 1u);
  EXPECT_EQ(counter("saker_source_connections_evicted_total"), 0u);
  send_all(a, test::falco_alert("still served").substr(20) + "\n");
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 1; }));
  for (int fd : {a, b, c}) ::close(fd);
}

TEST_P(TcpSourceTest, ANewSenderTakesThePlaceOfTheConnectionIdleLongest) {
  TcpSourceOptions o;
  o.max_connections = 3;
  start(o);
  const int oldest = connect_to(source_->port());
  ASSERT_TRUE(eventually([&] { return source_->idle_connections() == 1; }));
  const int idle = connect_to(source_->port());
  ASSERT_TRUE(eventually([&] { return source_->idle_connections() == 2; }));
  const int busy = connect_to(source_->port());
  ASSERT_TRUE(eventually([&] { return source_->idle_connections() == 3; }));
  send_all(busy, test::falco_alert("busy").substr(0, 20));  // a line in progress: never evicted
  ASSERT_TRUE(eventually([&] { return source_->idle_connections() == 2; }));

  const int fresh = connect_to(source_->port());
  ASSERT_GE(fresh, 0);
  send_all(fresh, test::falco_alert("fresh") + "\n");
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 1; }));
  EXPECT_TRUE(closed_by_peer(oldest)) << "the connection idle the longest makes room";
  EXPECT_TRUE(still_open(idle));
  EXPECT_EQ(counter("saker_source_connections_evicted_total"), 1u);
  EXPECT_EQ(counter("saker_source_connections_rejected_total"), 0u);

  // The next one evicts the next-oldest idle connection, never the busy one.
  const int another = connect_to(source_->port());
  send_all(another, test::falco_alert("another") + "\n");
  EXPECT_TRUE(closed_by_peer(idle));
  send_all(busy, test::falco_alert("busy").substr(20) + "\n");
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 3; }));
  auto outs = ingest_.outputs();
  std::sort(outs.begin(), outs.end());
  EXPECT_EQ(outs, (std::vector<std::string>{"another", "busy", "fresh"}));
  EXPECT_EQ(counter("saker_source_connections_evicted_total"), 2u);
  ASSERT_TRUE(eventually([&] { return source_->connections() == 3; }));
  for (int fd : {oldest, idle, busy, fresh, another}) ::close(fd);
}

TEST_P(TcpSourceTest, IdleTimeoutClosesASilentConnection) {
  TcpSourceOptions o;
  o.idle_timeout = std::chrono::milliseconds(200);
  start(o);
  const int fd = connect_to(source_->port());
  ASSERT_GE(fd, 0);
  send_all(fd, test::falco_alert("before the silence") + "\n");
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(closed_by_peer(fd));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(150));
  EXPECT_EQ(ingest_.outputs(), (std::vector<std::string>{"before the silence"}));
  ASSERT_TRUE(eventually([&] { return source_->connections() == 0; }));
  EXPECT_EQ(counter("saker_source_idle_timeouts_total"), 1u);
  ::close(fd);
}

TEST_P(TcpSourceTest, IdleTimeoutEndsATrickleThatNeverCompletesALine) {
  TcpSourceOptions o;
  o.idle_timeout = std::chrono::milliseconds(300);
  start(o);
  const int trickle = connect_to(source_->port()), steady = connect_to(source_->port());
  ASSERT_GE(trickle, 0);
  ASSERT_GE(steady, 0);
  // One byte of a line every 20 ms keeps the connection busy but completes nothing; a line every 20 ms is progress.
  const std::string line = test::falco_alert(std::string(200, 'x'));
  int lines = 0;
  bool trickle_closed = false;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < line.size() && !trickle_closed; ++i) {
    if (::send(trickle, line.data() + i, 1, MSG_NOSIGNAL) != 1) trickle_closed = true;
    send_all(steady, test::falco_alert(std::to_string(lines++)) + "\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!still_open(trickle)) trickle_closed = true;
  }
  EXPECT_TRUE(trickle_closed || closed_by_peer(trickle, std::chrono::seconds(1)));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(4)) << "the trickle outlived idle_timeout";
  EXPECT_TRUE(still_open(steady));
  ASSERT_TRUE(eventually([&] { return ingest_.count() == static_cast<std::size_t>(lines); })) << ingest_.count();
  EXPECT_EQ(counter("saker_source_idle_timeouts_total"), 1u);
  ::close(trickle);
  ::close(steady);
}

TEST_P(TcpSourceTest, TimeHeldBackByFullSinksIsNotIdle) {
  TcpSourceOptions o;
  o.idle_timeout = std::chrono::milliseconds(100);
  start(o);
  ingest_.full = true;
  std::string payload;
  for (int i = 0; i < 5000; ++i) payload += test::falco_alert(std::to_string(i)) + "\n";  // over a read chunk: reading pauses
  const int fd = connect_to(source_->port());
  ASSERT_GE(fd, 0);
  std::thread writer([&] { send_all(fd, payload); });
  // Retries come every 10 ms: 40 of them take several idle_timeouts.
  ASSERT_TRUE(eventually([&] { return ingest_.calls() >= 40; }));
  EXPECT_TRUE(still_open(fd));
  EXPECT_EQ(counter("saker_source_idle_timeouts_total"), 0u);
  ingest_.full = false;
  writer.join();
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 5000; })) << ingest_.count();
  ::close(fd);
}

TEST_P(TcpSourceTest, StartReportsAPortInUse) {
  start();
  TcpSourceOptions o;
  o.host = "127.0.0.1";
  o.port = source_->port();
  TcpSource second(ctx_, o);
  auto r = second.start();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "listen_failed");
  EXPECT_NE(r.error().message.find("cannot listen on 127.0.0.1:"), std::string::npos) << r.error().message;
}

TEST_P(TcpSourceTest, LineLongerThanTheReadChunkButWithinMaxLineArrivesWhole) {
  start();
  const int fd = connect_to(source_->port());
  ASSERT_GE(fd, 0);
  const std::string big(600 * 1024, 'b');  // over the 256 KiB read chunk: the buffer has to grow
  std::thread writer([&] { send_all(fd, test::falco_alert("small") + "\n" + test::falco_alert(big) + "\n" + test::falco_alert("tail") + "\n"); });
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 3; }));
  writer.join();
  const auto outs = ingest_.outputs();
  EXPECT_EQ(outs[0], "small");
  EXPECT_EQ(outs[1], big);
  EXPECT_EQ(outs[2], "tail");
  ::close(fd);
}

// The splitter on its own, fed byte ranges of every size, including a buffer that must grow.
INSTANTIATE_TEST_SUITE_P(DecodeThreads, TcpSourceTest, ::testing::Values(0, 2),
                         [](const auto& info) { return fmt::format("decode_threads_{}", info.param); });

TEST_P(TcpSourceTest, OneBusyConnectionKeepsItsOrderAcrossManyChunks) {
  start();
  constexpr int kLines = 20000;  // ~5 MB in reads of up to 256 KiB: many chunks in flight at once
  std::string payload;
  for (int i = 0; i < kLines; ++i) {
    payload += (i % 997 == 5) ? "{\"rule\":\"no priority\"}\n" : test::falco_alert(std::to_string(i)) + "\n";
  }
  const int fd = connect_to(source_->port());
  ASSERT_GE(fd, 0);
  send_all(fd, payload);
  ::close(fd);
  const int bad = (kLines - 5 + 996) / 997;
  ASSERT_TRUE(eventually([&] { return ingest_.count() == static_cast<std::size_t>(kLines - bad); })) << ingest_.count();
  const auto outs = ingest_.outputs();
  int next = 0;
  for (const auto& out : outs) {
    if (next % 997 == 5) ++next;
    ASSERT_EQ(out, std::to_string(next)) << "out of order";
    ++next;
  }
  EXPECT_EQ(refused("missing_priority"), static_cast<std::uint64_t>(bad));
  EXPECT_EQ(metrics_.counter_value("saker_alerts_received_total", {{"source", "tcp"}}),
            static_cast<std::uint64_t>(kLines - bad));
}

// Feeds `input` to the splitter in reads of at most `piece` bytes; `commit(n)` commits each read.
template <typename Commit>
void feed(LineSplitter& split, const std::string& input, std::size_t piece, Commit&& commit) {
  for (std::size_t at = 0; at < input.size();) {
    const auto space = split.space();
    ASSERT_FALSE(space.empty());
    const std::size_t n = std::min({piece, space.size(), input.size() - at});
    std::memcpy(space.data(), input.data() + at, n);
    commit(n);
    at += n;
  }
}

TEST(TcpLineSplitter, SplitsAtEveryBoundaryAndDropsOnlyOverlongLines) {
  const std::string input = "a\r\nbb\n\n" + std::string(5000, 'x') + "\n" + std::string(700, 'y') + "\nlast";
  for (std::size_t piece : {1u, 3u, 64u, 1000u, 100000u}) {
    LineSplitter split(/*max_line=*/1000, /*chunk=*/256);
    std::vector<std::string> lines;
    std::vector<std::size_t> drops;
    auto on_line = [&](std::string_view l) { lines.emplace_back(l); };
    auto on_drop = [&](std::size_t n) { drops.push_back(n); };
    feed(split, input, piece, [&](std::size_t n) { split.commit(n, on_line, on_drop); });
    EXPECT_EQ(split.partial(), 4u) << "piece " << piece;
    split.finish(on_line, on_drop);
    EXPECT_EQ(lines, (std::vector<std::string>{"a\r", "bb", "", std::string(700, 'y'), "last"})) << "piece " << piece;
    EXPECT_EQ(drops.size(), 1u) << "piece " << piece;
    EXPECT_EQ(split.consumed(), input.size());
  }
}

TEST(TcpLineSplitter, BlocksCarryTheSameLinesWithoutCopyingThem) {
  // commit_block gives whole buffers away; the lines in them (split later, as the decode pool does) are the ones
  // commit() hands out, except that over-long complete lines are left for the pool to drop.
  const std::string input = "a\r\nbb\n\n" + std::string(5000, 'x') + "\n" + std::string(700, 'y') + "\nlast";
  for (std::size_t piece : {1u, 3u, 64u, 1000u, 100000u}) {
    LineSplitter split(/*max_line=*/1000, /*chunk=*/256);
    std::vector<std::string> lines;
    std::vector<std::size_t> drops;
    auto on_drop = [&](std::size_t n) { drops.push_back(n); };
    feed(split, input, piece, [&](std::size_t n) {
      auto block = split.commit_block(n, on_drop);
      if (block.lines.empty()) return;
      ASSERT_EQ(block.lines.back(), '\n');
      ASSERT_GE(block.lines.data(), block.data.get());
      std::string_view rest = block.lines;
      while (!rest.empty()) {
        const auto nl = rest.find('\n');
        lines.emplace_back(rest.substr(0, nl));
        rest.remove_prefix(nl + 1);
      }
    });
    EXPECT_EQ(split.partial(), 4u) << "piece " << piece;
    split.finish([&](std::string_view l) { lines.emplace_back(l); }, on_drop);
    EXPECT_EQ(split.consumed(), input.size());
    // Reads are at most the buffer's free space, so the 5000-byte line outgrows max_line while incomplete.
    EXPECT_EQ(lines, (std::vector<std::string>{"a\r", "bb", "", std::string(700, 'y'), "last"})) << "piece " << piece;
    EXPECT_EQ(drops.size(), 1u) << "piece " << piece;
  }
}

TEST(TcpSourceConfig, DefaultsAndErrors) {
  {
    const YAML::Node n = YAML::Load("{type: tcp}");
    ConfigErrors errors;
    auto b = parse_tcp_source(ConfigReader{n, "sources[0]", errors});
    EXPECT_TRUE(errors.empty()) << errors.to_string();
    EXPECT_TRUE(static_cast<bool>(b));
  }
  for (const char* bad : {"{idle_timeout: 0}", "{idle_timeout: 25h}", "{idle_timeout: soon}"}) {
    const YAML::Node n = YAML::Load(bad);
    ConfigErrors errors;
    parse_tcp_source(ConfigReader{n, "sources[0]", errors});
    EXPECT_NE(errors.to_string().find("sources[0].idle_timeout"), std::string::npos) << bad << errors.to_string();
  }
  {
    const YAML::Node n = YAML::Load("{idle_timeout: 90s}");
    ConfigErrors errors;
    parse_tcp_source(ConfigReader{n, "sources[0]", errors});
    EXPECT_TRUE(errors.empty()) << errors.to_string();
  }
  {
    const YAML::Node n = YAML::Load(
        "{type: tcp, listen: nowhere, max_connections: 0, threads: 2, decode_threads: 65, lisen: x,\n"
        " idle_timeout: 5ms}");
    ConfigErrors errors("test.yaml");
    parse_tcp_source(ConfigReader{n, "sources[0]", errors});
    const std::string text = errors.to_string();
    EXPECT_EQ(errors.errors().size(), 5u) << text;
    EXPECT_NE(text.find("test.yaml:2:16: sources[0].idle_timeout: must be between 10ms and 24h"), std::string::npos)
        << text;
    EXPECT_NE(text.find("sources[0].decode_threads"), std::string::npos) << text;
    EXPECT_NE(text.find("sources[0].listen"), std::string::npos) << text;
    EXPECT_NE(text.find("sources[0].max_connections"), std::string::npos) << text;
    EXPECT_NE(text.find("lisen"), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace saker
