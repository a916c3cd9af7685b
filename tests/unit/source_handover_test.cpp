// A reload's listener handover, source by source: the new tcp or http source accepts on the old one's socket, the
// old one stops accepting and finishes its connections, and the port never refuses a connection.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "fake_ingest.hpp"
#include "source_client.hpp"

#include "pipeline/config.hpp"
#include "pipeline/pipeline.hpp"
#include "sources/http.hpp"
#include "sources/listeners.hpp"
#include "sources/tcp.hpp"

namespace saker {
namespace {

using test::connect_to;
using test::eventually;
using test::FakeIngest;
using test::send_all;

bool refuses(std::uint16_t port) {
  const int fd = connect_to(port);
  if (fd >= 0) ::close(fd);
  return fd < 0;
}

// Reads one HTTP answer (header and a Content-Length body) within 10 s; empty when the connection ended first.
std::string read_answer(int fd) {
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto head_end = got.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      const auto cl = got.find("Content-Length: ");
      const std::size_t len = cl == std::string::npos ? 0 : std::stoul(got.substr(cl + 16));
      if (got.size() >= head_end + 4 + len) return got;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) != 1) continue;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return {};
    got.append(buf, static_cast<std::size_t>(n));
  }
  return {};
}

std::string post(const std::string& body) {
  return "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Two generations of one source, as a reload makes them: same name, each its own context (its own holder).
struct Generations {
  Listeners listeners;
  Metrics metrics;
  FakeIngest old_ingest, new_ingest;
  SourceContext old_ctx{"falco", old_ingest, metrics, {}, "", &listeners};
  SourceContext new_ctx{"falco", new_ingest, metrics, {}, "", &listeners};
};

TEST(SourceHandover, TcpSuccessorAcceptsOnTheSameSocketWhileTheOldFinishesItsConnections) {
  Generations g;
  TcpSourceOptions o;
  o.port = 0;
  o.decode_threads = 1;
  TcpSource old_source(g.old_ctx, o);
  ASSERT_TRUE(old_source.start());
  const std::uint16_t port = old_source.port();
  const int kept = connect_to(port);
  ASSERT_GE(kept, 0);
  ASSERT_TRUE(send_all(kept, test::falco_alert("one") + "\n"));
  ASSERT_TRUE(eventually([&] { return g.old_ingest.count() == 1; }));

  // Without the old one's yield, the same address is refused rather than shared.
  TcpSource intruder(g.new_ctx, o);
  auto refused = intruder.start();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("used by source falco"), std::string::npos) << refused.error().message;

  g.listeners.yield(&g.old_ctx, true);
  TcpSource new_source(g.new_ctx, o);
  ASSERT_TRUE(new_source.start());
  EXPECT_EQ(new_source.port(), port);
  old_source.retire();
  EXPECT_FALSE(old_source.drained());

  // New connections are the successor's; the connection the old one had stays with it, and is read to its end.
  const int fresh = connect_to(port);
  ASSERT_GE(fresh, 0);
  ASSERT_TRUE(send_all(fresh, test::falco_alert("two") + "\n"));
  ASSERT_TRUE(send_all(kept, test::falco_alert("three") + "\n" + test::falco_alert("four")));  // the last line ends with the connection
  ::close(kept);
  ASSERT_TRUE(eventually([&] { return g.new_ingest.count() == 1 && g.old_ingest.count() == 3; }))
      << g.new_ingest.count() << " " << g.old_ingest.count();
  EXPECT_EQ(g.old_ingest.outputs(), (std::vector<std::string>{"one", "three", "four"}));
  EXPECT_EQ(g.new_ingest.outputs(), (std::vector<std::string>{"two"}));
  ASSERT_TRUE(eventually([&] { return old_source.drained(); }));
  old_source.stop();

  // The old one is gone, the socket is not.
  const int after = connect_to(port);
  EXPECT_GE(after, 0);
  ASSERT_TRUE(send_all(after, test::falco_alert("five") + "\n"));
  ASSERT_TRUE(eventually([&] { return g.new_ingest.count() == 2; }));
  ::close(after);
  ::close(fresh);
  new_source.stop();
  EXPECT_EQ(g.listeners.size(), 0u);
  EXPECT_TRUE(refuses(port));  // the last holder let go: closed
}

TEST(SourceHandover, HttpKeepAliveConnectionGetsItsNextRequestAnsweredAndClosedByTheOldSource) {
  Generations g;
  HttpSourceConfig cfg;
  cfg.port = 0;
  cfg.threads = 1;
  HttpSource old_source(g.old_ctx, cfg);
  ASSERT_TRUE(old_source.start());
  const std::uint16_t port = old_source.port();
  const int keep_alive = connect_to(port);
  ASSERT_GE(keep_alive, 0);
  ASSERT_TRUE(send_all(keep_alive, post(test::falco_alert("one"))));
  const std::string first = read_answer(keep_alive);
  ASSERT_NE(first.find("HTTP/1.1 200"), std::string::npos) << first;
  EXPECT_EQ(first.find("Connection: close"), std::string::npos) << first;

  g.listeners.yield(&g.old_ctx, true);
  HttpSource new_source(g.new_ctx, cfg);
  ASSERT_TRUE(new_source.start());
  EXPECT_EQ(new_source.port(), port);
  old_source.retire();

  // A new client reaches the successor.
  const int fresh = connect_to(port);
  ASSERT_GE(fresh, 0);
  ASSERT_TRUE(send_all(fresh, post(test::falco_alert("two"))));
  EXPECT_NE(read_answer(fresh).find("HTTP/1.1 200"), std::string::npos);
  ASSERT_TRUE(eventually([&] { return g.new_ingest.count() == 1; }));

  // The kept-alive client's next request is still the old source's: answered, then the connection closes.
  EXPECT_FALSE(old_source.drained());
  ASSERT_TRUE(send_all(keep_alive, post(test::falco_alert("three"))));
  const std::string last = read_answer(keep_alive);
  ASSERT_NE(last.find("HTTP/1.1 200"), std::string::npos) << last;
  EXPECT_NE(last.find("Connection: close"), std::string::npos) << last;
  ::close(keep_alive);
  ASSERT_TRUE(eventually([&] { return old_source.drained(); }));
  EXPECT_EQ(g.old_ingest.outputs(), (std::vector<std::string>{"one", "three"}));
  EXPECT_EQ(g.new_ingest.outputs(), (std::vector<std::string>{"two"}));
  old_source.stop();
  ::close(fresh);

  const int after = connect_to(port);
  EXPECT_GE(after, 0);
  ::close(after);
  new_source.stop();
  EXPECT_TRUE(refuses(port));
}

TEST(SourceHandover, AStartThatFailsTakesNothing) {
  Generations g;
  HttpSourceConfig cfg;
  cfg.port = 0;
  HttpSource old_source(g.old_ctx, cfg);
  ASSERT_TRUE(old_source.start());
  g.listeners.yield(&g.old_ctx, true);
  // The new certificate does not load: the successor fails before it takes the socket.
  HttpSourceConfig bad = cfg;
  bad.tls.cert = "/nonexistent/cert.pem";
  bad.tls.key = "/nonexistent/key.pem";
  HttpSource new_source(g.new_ctx, bad);
  auto r = new_source.start();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cannot load TLS certificate"), std::string::npos) << r.error().message;
  g.listeners.yield(&g.old_ctx, false);
  EXPECT_FALSE(g.listeners.shared(&g.old_ctx));
  const int c = connect_to(old_source.port());
  ASSERT_GE(c, 0);
  ASSERT_TRUE(send_all(c, post(test::falco_alert("still here"))));
  EXPECT_NE(read_answer(c).find("HTTP/1.1 200"), std::string::npos);
  ::close(c);
  EXPECT_EQ(g.old_ingest.count(), 1u);
  old_source.stop();
}

// A port nobody listens on right now (bound, read, closed).
std::uint16_t free_port() {
  Listeners probe;
  static int holder;
  auto lease = probe.acquire("127.0.0.1", 0, &holder, "probe");
  return lease ? lease->port() : 0;
}

bool pings(std::uint16_t port) {
  const int fd = connect_to(port);
  if (fd < 0) return false;
  const bool ok = send_all(fd, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n") &&
                  read_answer(fd).find("HTTP/1.1 200") != std::string::npos;
  ::close(fd);
  return ok;
}

std::shared_ptr<const PipelineConfig> config(const std::string& sources) {
  ConfigErrors errors("test.yaml");
  auto cfg = parse_config("shutdown_grace: 2s\nsources:\n" + sources + "sinks:\n  - {type: stdout}\n", errors);
  if (!cfg) throw std::runtime_error(errors.to_string());
  return cfg;
}

std::uint64_t answered(Metrics& metrics, const std::string& source) {
  return metrics.counter_value("saker_http_requests_total", {{"source", source}, {"code", "200"}});
}

TEST(PipelineHandover, TwoSourcesSwappingAddressesEachTakeTheOthersSocket) {
  const std::uint16_t p1 = free_port(), p2 = free_port();
  Metrics metrics;
  Pipeline pipeline(config(fmt::format("  - {{type: http, name: a, listen: '127.0.0.1:{}'}}\n"
                                       "  - {{type: http, name: b, listen: '127.0.0.1:{}'}}\n",
                                       p1, p2)),
                    metrics);
  ASSERT_TRUE(pipeline.start());
  auto r = pipeline.reload(config(fmt::format("  - {{type: http, name: a, listen: '127.0.0.1:{}'}}\n"
                                              "  - {{type: http, name: b, listen: '127.0.0.1:{}'}}\n",
                                              p2, p1)));
  ASSERT_TRUE(r) << r.error().message;
  const auto a_before = answered(metrics, "a"), b_before = answered(metrics, "b");
  ASSERT_TRUE(pings(p2));
  EXPECT_EQ(answered(metrics, "a"), a_before + 1);  // p2 is a's now
  ASSERT_TRUE(pings(p1));
  EXPECT_EQ(answered(metrics, "b"), b_before + 1);
  pipeline.stop();
  EXPECT_TRUE(refuses(p1));
  EXPECT_TRUE(refuses(p2));
}

TEST(PipelineHandover, AnAddressAKeptSourceHoldsIsRefusedToANewOne) {
  const std::uint16_t p1 = free_port();
  Metrics metrics;
  const std::string a = fmt::format("  - {{type: http, name: a, listen: '127.0.0.1:{}'}}\n", p1);
  Pipeline pipeline(config(a), metrics);
  ASSERT_TRUE(pipeline.start());
  auto r = pipeline.reload(config(a + fmt::format("  - {{type: http, name: c, listen: '127.0.0.1:{}'}}\n", p1)));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("used by source a"), std::string::npos) << r.error().message;
  const auto before = answered(metrics, "a");
  ASSERT_TRUE(pings(p1));
  EXPECT_EQ(answered(metrics, "a"), before + 1);
  EXPECT_EQ(answered(metrics, "c"), 0u);
}

TEST(PipelineHandover, ANewConfigThatCannotStartKeepsTheOldUnlessItsAddressWentToAnotherSource) {
  const std::uint16_t p1 = free_port(), p2 = free_port();
  // Someone outside saker listens on p3.
  Listeners outside;
  static int outsider;
  auto taken = outside.acquire("127.0.0.1", 0, &outsider, "outside");
  ASSERT_TRUE(taken);
  const std::uint16_t p3 = taken->port();
  Metrics metrics;
  Pipeline pipeline(config(fmt::format("  - {{type: http, name: a, listen: '127.0.0.1:{}'}}\n"
                                       "  - {{type: http, name: b, listen: '127.0.0.1:{}'}}\n",
                                       p1, p2)),
                    metrics);
  ASSERT_TRUE(pipeline.start());

  // b cannot move to p3: it goes on at p2 with its old config.
  auto r = pipeline.reload(config(fmt::format("  - {{type: http, name: a, listen: '127.0.0.1:{}'}}\n"
                                              "  - {{type: http, name: b, listen: '127.0.0.1:{}'}}\n",
                                              p1, p3)));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("Address already in use"), std::string::npos) << r.error().message;
  auto before = answered(metrics, "b");
  ASSERT_TRUE(pings(p2));
  EXPECT_EQ(answered(metrics, "b"), before + 1);

  // b cannot move to p3 again, but this time the new config gives p2 to a: a takes it, b stops, p1 closes.
  r = pipeline.reload(config(fmt::format("  - {{type: http, name: a, listen: '127.0.0.1:{}'}}\n"
                                         "  - {{type: http, name: b, listen: '127.0.0.1:{}'}}\n",
                                         p2, p3)));
  ASSERT_FALSE(r);
  before = answered(metrics, "a");
  const auto b_before = answered(metrics, "b");
  ASSERT_TRUE(pings(p2));
  EXPECT_EQ(answered(metrics, "a"), before + 1);
  EXPECT_EQ(answered(metrics, "b"), b_before);
  EXPECT_TRUE(eventually([&] { return refuses(p1); }));
  pipeline.stop();
}

}  // namespace
}  // namespace saker
