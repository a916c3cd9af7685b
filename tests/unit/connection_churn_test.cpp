// Connection churn at max_connections on one, two and four io threads, for the tcp and http sources: bursts of idle
// connections arrive from two threads while live senders send, go quiet and are evicted. Every alert arrives, no
// connection is refused (none is ever busy but the live senders'), and afterwards the counts are exact: each
// connection the source closed is counted once (evicted, timed out or refused), and the places come back.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <functional>
#include <ostream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "fake_ingest.hpp"
#include "source_client.hpp"

#include "sources/http.hpp"
#include "sources/tcp.hpp"

namespace saker {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using test::eventually;
using test::FakeIngest;
using test::send_all;
using namespace std::chrono_literals;

constexpr std::size_t kMaxConnections = 8;
constexpr int kHolderThreads = 2;
constexpr int kHoldersEach = 150;  // idle connections each holder thread opens, as fast as it can
constexpr int kLiveSenders = 3;    // never more than this many connections are busy at once
constexpr int kLines = 40;         // per live sender
constexpr int kBurst = 4;          // lines a live sender sends before it waits for them and goes quiet
constexpr int kMaxConnects = 200;  // per live sender: more than this and it counts as locked out
constexpr auto kStall = 10s;       // nothing a sender waits for may take this long

std::string line_of(int sender, int line) { return fmt::format("live sender {} line {}", sender, line); }

// True when the source has closed `fd` (EOF or reset is waiting), without waiting for it.
bool closed_by_source(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) != 1) return false;
  char byte = 0;
  const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

// What the clients saw: the connections the source closed, each counted once, and the ones still open.
class ClientTally {
 public:
  void closed() {
    std::lock_guard lock(mu_);
    ++closed_;
  }
  void keep(int fd) {
    std::lock_guard lock(mu_);
    open_.push_back(fd);
  }
  // Looks at every open connection once more; counts (and closes) the ones the source closed meanwhile.
  void look() {
    std::lock_guard lock(mu_);
    std::erase_if(open_, [&](int fd) {
      if (!closed_by_source(fd)) return false;
      ::close(fd);
      ++closed_;
      return true;
    });
  }
  std::size_t closed_count() const {
    std::lock_guard lock(mu_);
    return closed_;
  }
  std::size_t open_count() const {
    std::lock_guard lock(mu_);
    return open_.size();
  }
  void close_all() {
    std::lock_guard lock(mu_);
    for (int fd : open_) ::close(fd);
    open_.clear();
  }
  ~ClientTally() { close_all(); }

 private:
  mutable std::mutex mu_;
  std::vector<int> open_;
  std::size_t closed_ = 0;
};

void open_holders(std::uint16_t port, ClientTally& tally) {
  for (int i = 0; i < kHoldersEach; ++i) {
    const int fd = test::connect_to(port, kStall);
    if (fd < 0) {
      ADD_FAILURE() << "connect failed: " << std::strerror(errno);
      return;
    }
    tally.keep(fd);
  }
}

// A tcp sender with something to say now and then: a burst of lines, then quiet until they arrived, so it may be
// the connection idle the longest. When the source closes its connection it connects again and sends what has not
// arrived (a line may then arrive twice: the comparison is of sets).
void live_tcp_sender(std::uint16_t port, int id, const FakeIngest& ingest, ClientTally& tally) {
  int fd = -1, connects = 0, sent = 0;
  const auto arrived = [&](int upto) {
    for (int k = 0; k < upto; ++k) {
      if (!ingest.has(line_of(id, k))) return false;
    }
    return true;
  };
  const auto lost = [&] {  // the source closed the connection
    tally.closed();
    ::close(fd);
    fd = -1;
  };
  while (sent < kLines || !arrived(sent)) {
    if (fd < 0) {
      if (++connects > kMaxConnects) {
        ADD_FAILURE() << "live sender " << id << " locked out: " << kMaxConnects << " connections closed by the source";
        return;
      }
      fd = test::connect_to(port, kStall);
      if (fd < 0) {
        ADD_FAILURE() << "connect failed: " << std::strerror(errno);
        return;
      }
      std::string resend;
      for (int k = 0; k < sent; ++k) {
        if (!ingest.has(line_of(id, k))) resend += test::falco_alert(line_of(id, k)) + "\n";
      }
      if (!send_all(fd, resend)) {
        lost();
        continue;
      }
    }
    if (sent < kLines && arrived(sent)) {
      std::string burst;
      for (int k = sent; k < std::min(sent + kBurst, kLines); ++k) burst += test::falco_alert(line_of(id, k)) + "\n";
      sent = std::min(sent + kBurst, kLines);
      if (!send_all(fd, burst)) {
        lost();
        continue;
      }
    }
    if (!eventually([&] { return arrived(sent) || closed_by_source(fd); }, kStall)) {
      ADD_FAILURE() << "live sender " << id << " stalled: its lines neither arrived nor was its connection closed";
      ::close(fd);
      return;
    }
    if (closed_by_source(fd)) lost();
  }
  if (fd >= 0) tally.keep(fd);
}

// Every alert sent arrived (some twice, after a reconnection), and nothing else did.
void expect_every_line_arrived(const FakeIngest& ingest) {
  std::set<std::string> want;
  for (int id = 0; id < kLiveSenders; ++id) {
    for (int k = 0; k < kLines; ++k) want.insert(line_of(id, k));
  }
  const auto outs = ingest.outputs();
  EXPECT_EQ(std::set<std::string>(outs.begin(), outs.end()), want);
  EXPECT_GE(outs.size(), want.size());
}

struct Churn {
  std::size_t threads;
  std::size_t decode_threads;  // tcp only
  std::chrono::milliseconds idle_timeout;
};

void PrintTo(const Churn& c, std::ostream* os) {
  *os << c.threads << " io threads, " << c.decode_threads << " decode threads, idle_timeout " << c.idle_timeout.count()
      << "ms";
}

bool times_out(const Churn& c) { return c.idle_timeout < 1min; }

std::string churn_name(const ::testing::TestParamInfo<Churn>& info) {
  return fmt::format("threads_{}_decode_{}_idle_timeout_{}ms", info.param.threads, info.param.decode_threads,
                     info.param.idle_timeout.count());
}

// Runs the senders and holders against `port`, then checks that every connection the source closed is counted
// once in `counted()` and that the source's open and idle connections are the ones the clients still hold.
void churn(std::uint16_t port, const FakeIngest& ingest, ClientTally& tally, const std::function<std::size_t()>& counted,
           const std::function<std::size_t()>& open, const std::function<std::size_t()>& idle,
           const std::function<void(std::uint16_t, int)>& live) {
  std::vector<std::thread> clients;
  for (int i = 0; i < kHolderThreads; ++i) clients.emplace_back([&] { open_holders(port, tally); });
  for (int id = 0; id < kLiveSenders; ++id) clients.emplace_back([&, id] { live(port, id); });
  for (auto& t : clients) t.join();
  expect_every_line_arrived(ingest);
  const bool settled = eventually(
      [&] {
        tally.look();
        const std::size_t held = tally.open_count();
        return tally.closed_count() == counted() && open() == held && idle() == held;
      },
      kStall);
  EXPECT_TRUE(settled) << "the clients saw " << tally.closed_count() << " connections closed, the source counted "
                       << counted() << "; the clients hold " << tally.open_count() << ", the source has " << open()
                       << " open and " << idle() << " idle";
  EXPECT_LE(tally.open_count(), kMaxConnections);
}

// With a short idle_timeout, the connections left idle all time out, and are counted once too.
void expect_the_rest_to_time_out(ClientTally& tally, const std::function<std::size_t()>& counted,
                                 const std::function<std::size_t()>& open, const std::function<std::size_t()>& timeouts) {
  const bool all_closed = eventually(
      [&] {
        tally.look();
        return tally.open_count() == 0 && open() == 0 && tally.closed_count() == counted();
      },
      kStall);
  EXPECT_TRUE(all_closed) << "the clients hold " << tally.open_count() << " and saw " << tally.closed_count()
                          << " closed; the source has " << open() << " open and counted " << counted();
  EXPECT_GT(timeouts(), 0u);
}

// Once every client has gone, the places are all free again: max_connections new ones get in without an eviction,
// and one more evicts exactly the one that came first.
void expect_places_came_back(std::uint16_t port, ClientTally& tally, const std::function<std::size_t()>& open,
                             const std::function<std::size_t()>& idle, const std::function<std::size_t()>& evicted,
                             const std::function<std::size_t()>& refused) {
  tally.close_all();
  ASSERT_TRUE(eventually([&] { return open() == 0 && idle() == 0; }, kStall))
      << open() << " open and " << idle() << " idle after every client left";
  const std::size_t evicted_before = evicted();
  std::vector<int> fresh;
  for (std::size_t i = 0; i < kMaxConnections; ++i) fresh.push_back(test::connect_to(port, kStall));
  ASSERT_TRUE(eventually([&] { return open() == kMaxConnections && idle() == kMaxConnections; }, kStall))
      << open() << " open and " << idle() << " idle";
  EXPECT_EQ(evicted(), evicted_before);
  const int one_more = test::connect_to(port, kStall);
  EXPECT_TRUE(eventually([&] { return closed_by_source(fresh[0]); }, kStall))
      << "the connection idle the longest is the one that came first";
  EXPECT_TRUE(eventually([&] { return evicted() == evicted_before + 1 && open() == kMaxConnections; }, kStall))
      << evicted() - evicted_before << " evicted, " << open() << " open";
  for (std::size_t i = 1; i < fresh.size(); ++i) EXPECT_FALSE(closed_by_source(fresh[i])) << i;
  EXPECT_EQ(refused(), 0u);
  for (int fd : fresh) ::close(fd);
  ::close(one_more);
}

class TcpChurn : public ::testing::TestWithParam<Churn> {
 protected:
  std::uint64_t counter(const std::string& name) { return metrics_.counter_value(name, {{"source", "tcp"}}); }
  FakeIngest ingest_;
  Metrics metrics_;
  SourceContext ctx_{"tcp", ingest_, metrics_, {}, ""};
};

TEST_P(TcpChurn, EveryLineArrivesNobodyIsRefusedAndTheCountsComeBack) {
  TcpSourceOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.max_connections = kMaxConnections;
  o.threads = GetParam().threads;
  o.decode_threads = GetParam().decode_threads;
  o.idle_timeout = GetParam().idle_timeout;
  TcpSource source(ctx_, o);
  ASSERT_TRUE(source.start().ok());
  ClientTally tally;
  const auto evicted = [&] { return counter("saker_source_connections_evicted_total"); };
  const auto refused = [&] { return counter("saker_source_connections_rejected_total"); };
  const auto timeouts = [&] { return counter("saker_source_idle_timeouts_total"); };
  const auto counted = [&] { return evicted() + refused() + timeouts(); };
  const auto open = [&] { return source.connections(); };
  const auto idle = [&] { return source.idle_connections(); };
  churn(source.port(), ingest_, tally, counted, open, idle,
        [&](std::uint16_t port, int id) { live_tcp_sender(port, id, ingest_, tally); });
  EXPECT_EQ(refused(), 0u) << "only the live senders are ever busy, and they are fewer than max_connections";
  EXPECT_GT(evicted(), 0u);
  if (times_out(GetParam())) {
    expect_the_rest_to_time_out(tally, counted, open, timeouts);
  } else {
    expect_places_came_back(source.port(), tally, open, idle, evicted, refused);
  }
  source.stop();
}

INSTANTIATE_TEST_SUITE_P(IoThreads, TcpChurn,
                         ::testing::Values(Churn{1, 0, 5min}, Churn{2, 0, 5min}, Churn{2, 2, 5min}, Churn{4, 0, 5min},
                                           Churn{4, 2, 5min}, Churn{4, 0, 50ms}, Churn{4, 2, 50ms}),
                         churn_name);

// An http client with something to say now and then, one alert per request on a kept-alive connection. When the
// source closes the connection (an eviction: before the request, or after answering it) it connects again and
// sends the request again if it got no answer.
void live_http_client(std::uint16_t port, int id, ClientTally& tally) {
  net::io_context ioc;
  net::ip::tcp::socket sock(ioc);
  beast::flat_buffer buf;
  int connects = 0;
  const auto gone = [](const beast::error_code& ec) {
    return ec == http::error::end_of_stream || ec == http::error::partial_message || ec == net::error::eof ||
           ec == net::error::connection_reset || ec == net::error::broken_pipe;
  };
  for (int k = 0; k < kLines; ++k) {
    http::request<http::string_body> req{http::verb::post, "/", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.body() = test::falco_alert(line_of(id, k));
    req.prepare_payload();
    for (;;) {
      if (!sock.is_open()) {
        if (++connects > kMaxConnects) {
          ADD_FAILURE() << "live client " << id << " locked out: " << kMaxConnects << " connections closed";
          return;
        }
        const int fd = test::connect_to(port, kStall);
        if (fd < 0) {
          ADD_FAILURE() << "connect failed: " << std::strerror(errno);
          return;
        }
        sock.assign(net::ip::tcp::v4(), fd);
        buf.clear();
      }
      beast::error_code ec;
      http::response<http::string_body> res;
      http::write(sock, req, ec);
      if (!ec) http::read(sock, buf, res, ec);
      if (ec) {
        if (!gone(ec)) {
          ADD_FAILURE() << "live client " << id << " stalled: " << ec.message();
          return;
        }
        tally.closed();
        sock.close(ec);
        continue;
      }
      EXPECT_EQ(res.result_int(), 200u) << res.body();
      if (!res.keep_alive()) {  // evicted while its request arrived: answered, then closed
        tally.closed();
        sock.close(ec);
      }
      break;
    }
  }
  if (sock.is_open()) tally.keep(sock.release());
}

class HttpChurn : public ::testing::TestWithParam<Churn> {
 protected:
  std::uint64_t counter(const std::string& name, Labels labels = {{"source", "http"}}) {
    return metrics_.counter_value(name, labels);
  }
  FakeIngest ingest_;
  Metrics metrics_;
  SourceContext ctx_{"http", ingest_, metrics_, {}, ""};
};

TEST_P(HttpChurn, EveryAlertArrivesNobodyIsRefusedAndTheCountsComeBack) {
  HttpSourceConfig cfg;
  cfg.host = "127.0.0.1";
  cfg.port = 0;
  cfg.max_connections = static_cast<int>(kMaxConnections);
  cfg.threads = static_cast<int>(GetParam().threads);
  cfg.idle_timeout = GetParam().idle_timeout;
  HttpSource source(ctx_, cfg);
  ASSERT_TRUE(source.start().ok());
  ClientTally tally;
  const auto evicted = [&] { return counter("saker_source_connections_evicted_total"); };
  const auto refused = [&] { return counter("saker_http_connections_rejected_total"); };
  const auto timeouts = [&] {
    return counter("saker_source_idle_timeouts_total") +
           counter("saker_http_request_timeouts_total", {{"source", "http"}, {"phase", "header"}}) +
           counter("saker_http_request_timeouts_total", {{"source", "http"}, {"phase", "body"}});
  };
  const auto counted = [&] { return evicted() + refused() + timeouts(); };
  const auto open = [&] { return source.connections(); };
  const auto idle = [&] { return source.idle_connections(); };
  churn(source.port(), ingest_, tally, counted, open, idle,
        [&](std::uint16_t port, int id) { live_http_client(port, id, tally); });
  EXPECT_EQ(refused(), 0u) << "only the live clients are ever busy, and they are fewer than max_connections";
  EXPECT_GT(evicted(), 0u);
  if (times_out(GetParam())) {
    expect_the_rest_to_time_out(tally, counted, open, timeouts);
  } else {
    expect_places_came_back(source.port(), tally, open, idle, evicted, refused);
  }
  source.stop();
}

INSTANTIATE_TEST_SUITE_P(IoThreads, HttpChurn,
                         ::testing::Values(Churn{1, 0, 5min}, Churn{2, 0, 5min}, Churn{4, 0, 5min},
                                           Churn{4, 0, 50ms}),
                         churn_name);

}  // namespace
}  // namespace saker
