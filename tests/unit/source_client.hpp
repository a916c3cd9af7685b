#pragma once
// The sender's side of source tests: a Falco-shaped alert, a loopback connection, a whole send.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace saker::test {

// One alert as Falco sends it, on one line, with `output` to tell it apart.
inline std::string falco_alert(const std::string& output) {
  return fmt::format(R"({{"rule":"Terminal shell in container","priority":"Notice","time":"2024-08-28T21:35:04.518808525Z","output":"{}","hostname":"h1","source":"syscall","output_fields":{{"proc.name":"sh"}}}})",
                     output);
}

// A connection to 127.0.0.1:port, or -1. With a `timeout`, a blocking send or read that waits longer fails instead
// of hanging the test.
inline int connect_to(std::uint16_t port, std::chrono::seconds timeout = std::chrono::seconds(0)) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  if (timeout.count() > 0) {
    timeval tv{static_cast<time_t>(timeout.count()), 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  return fd;
}

// Sends all of `data`; false when the connection fails first.
inline bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace saker::test
