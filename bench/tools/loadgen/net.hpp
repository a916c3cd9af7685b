#pragma once
// Senders for the load generator: one TCP stream of NDJSON, HTTP POSTs over keep-alive connections,
// and the poller that tells when a receiver's output file holds the expected number of lines.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

namespace saker::loadgen {

using SteadyClock = std::chrono::steady_clock;

inline double seconds_since(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

struct HostPort {
  std::string host;
  std::string port;
};

inline HostPort split_host_port(std::string_view s) {
  const auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size()) {
    throw std::runtime_error(fmt::format("'{}' is not HOST:PORT (e.g. 127.0.0.1:5140)", s));
  }
  return {std::string(s.substr(0, colon)), std::string(s.substr(colon + 1))};
}

// Connects, retrying for up to `retry_s` seconds while the receiver is still starting.
inline int connect_tcp(const HostPort& hp, double retry_s) {
  const auto t0 = SteadyClock::now();
  for (;;) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (int rc = getaddrinfo(hp.host.c_str(), hp.port.c_str(), &hints, &res); rc != 0) {
      throw std::runtime_error(fmt::format("cannot resolve {}:{}: {}", hp.host, hp.port, gai_strerror(rc)));
    }
    int fd = -1;
    int err = 0;
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
      fd = ::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
      if (fd < 0) continue;
      if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
      err = errno;
      ::close(fd);
      fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      return fd;
    }
    if (seconds_since(t0) >= retry_s) {
      throw std::runtime_error(fmt::format("cannot connect to {}:{}: {} (is the receiver running?)", hp.host, hp.port,
                                           std::strerror(err)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

inline void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(fmt::format("send failed: {} (the receiver closed the connection?)", std::strerror(errno)));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

struct TcpSendResult {
  std::size_t bytes = 0;
  double seconds = 0;
  SteadyClock::time_point first_byte;
};

// Streams `data` over one connection in 1 MiB writes, then half-closes and waits for the peer to close.
inline TcpSendResult send_stream(const HostPort& hp, std::string_view data) {
  const int fd = connect_tcp(hp, 10.0);
  int sndbuf = 4 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  TcpSendResult r;
  r.first_byte = SteadyClock::now();
  constexpr std::size_t kChunk = 1 << 20;
  for (std::size_t off = 0; off < data.size(); off += kChunk) {
    send_all(fd, data.substr(off, std::min(kChunk, data.size() - off)));
  }
  r.bytes = data.size();
  r.seconds = seconds_since(r.first_byte);
  ::shutdown(fd, SHUT_WR);
  ::close(fd);
  return r;
}

struct WaitResult {
  std::uint64_t lines = 0;
  bool reached = false;
  double seconds = 0;  // from `since` until the last expected line was seen (or until giving up)
};

// Polls `path` (reading only what was appended) until it holds `expected` newline-terminated lines, or until
// no line arrived for `stall_s` seconds, or `timeout_s` passed.
// With `count_file`, the file holds a decimal count instead (a receiver that counts records rewrites it).
inline WaitResult wait_for_lines(const std::string& path, std::uint64_t expected, SteadyClock::time_point since,
                                 double timeout_s, double stall_s, bool count_file = false) {
  WaitResult r;
  std::vector<char> buf(1 << 20);
  int fd = -1;
  off_t offset = 0;
  auto last_progress = SteadyClock::now();
  for (;;) {
    bool progressed = false;
    if (count_file) {
      const int cfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (cfd >= 0) {
        const ssize_t n = ::read(cfd, buf.data(), 64);
        ::close(cfd);
        const std::uint64_t count = n > 0 ? std::strtoull(std::string(buf.data(), static_cast<std::size_t>(n)).c_str(), nullptr, 10) : 0;
        progressed = count > r.lines;
        r.lines = std::max(r.lines, count);
      }
    } else if (fd < 0) {
      fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    }
    if (!count_file && fd >= 0) {
      for (;;) {
        const ssize_t n = ::pread(fd, buf.data(), buf.size(), offset);
        if (n <= 0) break;
        offset += n;
        r.lines += static_cast<std::uint64_t>(std::count(buf.data(), buf.data() + n, '\n'));
        progressed = true;
      }
    }
    const auto now = SteadyClock::now();
    if (progressed) last_progress = now;
    if (r.lines >= expected) {
      r.reached = true;
      break;
    }
    if (std::chrono::duration<double>(now - since).count() > timeout_s ||
        std::chrono::duration<double>(now - last_progress).count() > stall_s) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  r.seconds = seconds_since(since);
  if (fd >= 0) ::close(fd);
  return r;
}

// Asks the kernel for a free loopback port (bind to port 0). Racy by nature, good enough for a benchmark.
inline int free_tcp_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    throw std::runtime_error(fmt::format("cannot find a free port: {}", std::strerror(errno)));
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

struct HttpTarget {
  HostPort hp;
  std::string path;
};

inline HttpTarget parse_http_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) throw std::runtime_error(fmt::format("'{}': only http:// URLs are supported", url));
  url.remove_prefix(kScheme.size());
  const auto slash = url.find('/');
  HttpTarget t;
  std::string_view authority = url.substr(0, slash);
  t.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (authority.find(':') == std::string_view::npos) {
    t.hp = {std::string(authority), "80"};
  } else {
    t.hp = split_host_port(authority);
  }
  return t;
}

struct HttpResult {
  std::uint64_t requests = 0, non_2xx = 0, reconnects = 0;
  double seconds = 0;
  std::vector<std::uint32_t> latencies_us;
};

// One keep-alive connection: POSTs each body in turn and reads each response (Content-Length framed).
class HttpConnection {
 public:
  explicit HttpConnection(const HttpTarget& t) : t_(t) { reconnect(); }
  ~HttpConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Returns the status code.
  int post(std::string_view body, HttpResult& stats) {
    req_.clear();
    fmt::format_to(std::back_inserter(req_),
                   "POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                   t_.path, t_.hp.host, t_.hp.port, body.size());
    req_ += body;
    for (int attempt = 0;; ++attempt) {
      try {
        send_all(fd_, req_);
        return read_response(stats);
      } catch (const std::runtime_error&) {
        if (attempt >= 2) throw;
        ++stats.reconnects;
        reconnect();
      }
    }
  }

 private:
  void reconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = connect_tcp(t_.hp, 10.0);
    buf_.clear();
  }

  int read_response(HttpResult& stats) {
    std::size_t header_end;
    while ((header_end = buf_.find("\r\n\r\n")) == std::string::npos) fill();
    const std::string_view head(buf_.data(), header_end);
    if (head.size() < 12 || !head.starts_with("HTTP/1.")) throw std::runtime_error("malformed HTTP response");
    const int status = std::atoi(std::string(head.substr(9, 3)).c_str());
    std::size_t content_length = 0;
    bool close = false;
    std::string lower(head);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (auto p = lower.find("\r\ncontent-length:"); p != std::string::npos) content_length = std::strtoul(lower.c_str() + p + 17, nullptr, 10);
    if (lower.find("\r\nconnection: close") != std::string::npos) close = true;
    while (buf_.size() < header_end + 4 + content_length) fill();
    buf_.erase(0, header_end + 4 + content_length);
    if (status < 200 || status > 299) ++stats.non_2xx;
    if (close) {
      ++stats.reconnects;
      reconnect();
    }
    return status;
  }

  void fill() {
    char tmp[16384];
    const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) throw std::runtime_error("connection closed while reading the response");
    buf_.append(tmp, static_cast<std::size_t>(n));
  }

  HttpTarget t_;
  int fd_ = -1;
  std::string buf_, req_;
};

// POSTs every line of `alerts` once, spread round-robin over `connections` keep-alive connections.
inline HttpResult post_all(const HttpTarget& target, const std::vector<std::string_view>& alerts, unsigned connections) {
  connections = std::max(1u, connections);
  std::vector<HttpResult> per(connections);
  std::vector<std::thread> threads;
  std::atomic<bool> failed{false};
  std::string first_error;
  const auto t0 = SteadyClock::now();
  for (unsigned c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      try {
        HttpConnection conn(target);
        for (std::size_t i = c; i < alerts.size() && !failed; i += connections) {
          const auto s = SteadyClock::now();
          conn.post(alerts[i], per[c]);
          per[c].latencies_us.push_back(static_cast<std::uint32_t>(
              std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - s).count()));
          ++per[c].requests;
        }
      } catch (const std::exception& e) {
        if (!failed.exchange(true)) first_error = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  if (failed) throw std::runtime_error(first_error);
  HttpResult total;
  total.seconds = seconds_since(t0);
  for (auto& r : per) {
    total.requests += r.requests;
    total.non_2xx += r.non_2xx;
    total.reconnects += r.reconnects;
    total.latencies_us.insert(total.latencies_us.end(), r.latencies_us.begin(), r.latencies_us.end());
  }
  return total;
}

}  // namespace saker::loadgen
