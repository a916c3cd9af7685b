// Listeners: the listening sockets a reload hands from a source to its successor without closing them.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <gtest/gtest.h>

#include "sources/listeners.hpp"

namespace saker {
namespace {

// A connection attempt to 127.0.0.1:port: 0 when it connected, else the errno (ECONNREFUSED once nothing listens).
int connect_error(std::uint16_t port, int* out_fd = nullptr) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  const int err = rc == 0 ? 0 : errno;
  if (rc == 0 && out_fd != nullptr) {
    *out_fd = fd;
  } else {
    ::close(fd);
  }
  return err;
}

// Accepts one connection from `fd` within a second; true when one was waiting.
bool accepts_one(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 1000) != 1) return false;
  const int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (c < 0) return false;
  ::close(c);
  return true;
}

int holder_old, holder_new, holder_other;  // holders: any distinct addresses
const Listeners::Holder kOld = &holder_old, kNew = &holder_new, kOther = &holder_other;

TEST(Listeners, BindsOnFirstUseAndClosesWhenTheLastHolderLetsGo) {
  Listeners listeners;
  auto lease = listeners.acquire("127.0.0.1", 0, kOld, "http");
  ASSERT_TRUE(lease) << lease.error().message;
  const std::uint16_t port = lease->port();
  ASSERT_NE(port, 0);
  EXPECT_EQ(lease->address(), "127.0.0.1:0");  // named as configured: the same config finds it again
  EXPECT_EQ(listeners.size(), 1u);
  EXPECT_EQ(connect_error(port), 0);

  lease->release();
  EXPECT_EQ(listeners.size(), 0u);
  EXPECT_EQ(connect_error(port), ECONNREFUSED);
}

TEST(Listeners, ClosingAnAcceptorsDupLeavesTheSocketListening) {
  Listeners listeners;
  auto lease = listeners.acquire("127.0.0.1", 0, kOld, "tcp");
  ASSERT_TRUE(lease);
  auto fd = lease->dup();
  ASSERT_TRUE(fd);
  int client = -1;
  ASSERT_EQ(connect_error(lease->port(), &client), 0);
  EXPECT_TRUE(accepts_one(fd.value()));
  ::close(client);
  ::close(fd.value());  // the acceptor goes; the socket stays
  EXPECT_EQ(connect_error(lease->port()), 0);
}

TEST(Listeners, ASecondSourceOnTheSameAddressIsRefusedUnlessTheHolderYields) {
  Listeners listeners;
  auto old_lease = listeners.acquire("127.0.0.1", 0, kOld, "falco");
  ASSERT_TRUE(old_lease);

  auto refused = listeners.acquire("127.0.0.1", 0, kNew, "other");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "in_use");
  EXPECT_EQ(refused.error().message, "used by source falco");

  // The old source is being replaced: its successor shares the very socket, and the port it was given.
  listeners.yield(kOld, true);
  auto new_lease = listeners.acquire("127.0.0.1", 0, kNew, "falco");
  ASSERT_TRUE(new_lease) << new_lease.error().message;
  EXPECT_EQ(new_lease->port(), old_lease->port());
  EXPECT_EQ(listeners.size(), 1u);

  // A connection made while both hold it waits in the one backlog, for whichever accepts first.
  auto old_fd = old_lease->dup(), new_fd = new_lease->dup();
  ASSERT_TRUE(old_fd && new_fd);
  int client = -1;
  ASSERT_EQ(connect_error(old_lease->port(), &client), 0);
  ::close(old_fd.value());
  old_lease->release();  // the old one is gone; nothing was closed
  EXPECT_TRUE(accepts_one(new_fd.value()));
  ::close(client);
  EXPECT_EQ(connect_error(new_lease->port()), 0);

  // The successor does not yield: a third holder is refused again.
  auto third = listeners.acquire("127.0.0.1", 0, kOther, "third");
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().message, "used by source falco");
  ::close(new_fd.value());
}

TEST(Listeners, SharedSaysWhenAStayingHolderHasACompanion) {
  Listeners listeners;
  auto a = listeners.acquire("127.0.0.1", 0, kOld, "a");
  ASSERT_TRUE(a);
  listeners.yield(kOld, true);
  auto b = listeners.acquire("127.0.0.1", 0, kNew, "b");
  ASSERT_TRUE(b);
  // The old one's successor failed and it stays after all: someone else (b) accepts on its socket now.
  listeners.yield(kOld, false);
  EXPECT_TRUE(listeners.shared(kOld));
  EXPECT_TRUE(listeners.shared(kNew));
  a->release();
  EXPECT_FALSE(listeners.shared(kNew));
}

TEST(Listeners, AYieldIsForgottenOnceTheHolderHoldsNothing) {
  Listeners listeners;
  {
    auto a = listeners.acquire("127.0.0.1", 0, kOld, "a");
    ASSERT_TRUE(a);
    listeners.yield(kOld, true);
  }
  // The same address as a holder again (a new source context allocated where the old one was): it yields nothing.
  auto again = listeners.acquire("127.0.0.1", 0, kOld, "a");
  ASSERT_TRUE(again);
  auto other = listeners.acquire("127.0.0.1", 0, kNew, "b");
  EXPECT_FALSE(other);
  // Yielding with no socket held records nothing either: what it acquires later is its own.
  listeners.yield(kOther, true);
  auto c = listeners.acquire("127.0.0.2", 0, kOther, "c");
  ASSERT_TRUE(c) << c.error().message;
  auto d = listeners.acquire("127.0.0.2", 0, kNew, "d");
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message, "used by source c");
}

TEST(Listeners, AddressesAreNormalisedAndFailuresSayWhy) {
  EXPECT_EQ(Listeners::normalise("127.0.0.1", 2801), "127.0.0.1:2801");
  EXPECT_EQ(Listeners::normalise("::1", 2801), "[::1]:2801");
  EXPECT_EQ(Listeners::normalise("0.0.0.0", 80), "0.0.0.0:80");
  EXPECT_EQ(Listeners::normalise("no-such-host.invalid", 80), "");

  Listeners listeners;
  auto bad = listeners.acquire("no-such-host.invalid", 2801, kOld, "a");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "resolve");
  EXPECT_NE(bad.error().message.find("cannot resolve \"no-such-host.invalid\""), std::string::npos);

  // A port someone outside saker listens on: the kernel's reason, for the source to word.
  const int outside = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(outside, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(::listen(outside, 8), 0);
  socklen_t len = sizeof sa;
  ::getsockname(outside, reinterpret_cast<sockaddr*>(&sa), &len);
  auto taken = listeners.acquire("127.0.0.1", ntohs(sa.sin_port), kOld, "a");
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, "bind");
  EXPECT_EQ(taken.error().message, "Address already in use");
  EXPECT_EQ(listeners.size(), 0u);
  ::close(outside);
}

}  // namespace
}  // namespace saker
