#include "sources/listeners.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <fmt/format.h>

namespace saker {

namespace {

using boost::asio::ip::tcp;

std::optional<tcp::endpoint> resolve(std::string_view host, std::uint16_t port, std::string& why) {
  boost::system::error_code ec;
  const auto addr = boost::asio::ip::make_address(host, ec);
  if (!ec) return tcp::endpoint(addr, port);
  boost::asio::io_context ioc;
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    why = ec ? ec.message() : "no addresses";
    return std::nullopt;
  }
  return results.begin()->endpoint();
}

std::string key_of(const tcp::endpoint& ep) {
  const auto addr = ep.address();
  return addr.is_v6() ? fmt::format("[{}]:{}", addr.to_string(), ep.port())
                      : fmt::format("{}:{}", addr.to_string(), ep.port());
}

}  // namespace

Listeners::Lease& Listeners::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    key_ = std::move(other.key_);
    holder_ = other.holder_;
    fd_ = std::exchange(other.fd_, -1);
    port_ = other.port_;
    ipv6_ = other.ipv6_;
  }
  return *this;
}

Result<int> Listeners::Lease::dup() const {
  if (fd_ < 0) return make_error("dup", "no socket");
  const int fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return make_error("dup", std::strerror(errno));
  return fd;
}

bool Listeners::Lease::release() {
  if (owner_ == nullptr) return false;
  fd_ = -1;
  return std::exchange(owner_, nullptr)->release(key_, holder_);
}

Listeners::~Listeners() {
  for (auto& [key, s] : sockets_) ::close(s.fd);
}

std::string Listeners::normalise(std::string_view host, std::uint16_t port) {
  std::string why;
  const auto ep = resolve(host, port, why);
  return ep ? key_of(*ep) : std::string();
}

Result<Listeners::Lease> Listeners::acquire(std::string_view host, std::uint16_t port, Holder holder,
                                            std::string name) {
  std::string why;
  const auto ep = resolve(host, port, why);
  if (!ep) return make_error("resolve", fmt::format("cannot resolve \"{}\": {}", host, why));
  const std::string key = key_of(*ep);

  std::lock_guard lock(mu_);
  auto it = sockets_.find(key);
  if (it != sockets_.end()) {
    for (const Held& h : it->second.holders) {
      if (h.holder != holder && !yielding_.contains(h.holder)) {
        return make_error("in_use", fmt::format("used by source {}", h.name));
      }
    }
  } else {
    // Bound once here; every holder's acceptor gets a dup() of it.
    const int fd = ::socket(ep->protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return make_error("open", std::strerror(errno));
    const auto fail = [fd](const char* step) -> Error {
      const int err = errno;
      ::close(fd);
      return make_error(step, std::strerror(err));
    };
    const int on = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0) return fail("open");
    if (::bind(fd, ep->data(), static_cast<socklen_t>(ep->size())) != 0) return fail("bind");
    if (::listen(fd, SOMAXCONN) != 0) return fail("listen");
    tcp::endpoint bound;
    socklen_t len = static_cast<socklen_t>(bound.capacity());
    if (::getsockname(fd, bound.data(), &len) != 0) return fail("listen");
    bound.resize(len);
    it = sockets_.emplace(key, Socket{fd, bound.port(), ep->address().is_v6(), {}}).first;
  }
  it->second.holders.push_back(Held{holder, std::move(name)});
  Lease lease;
  lease.owner_ = this;
  lease.key_ = key;
  lease.holder_ = holder;
  lease.fd_ = it->second.fd;
  lease.port_ = it->second.port;
  lease.ipv6_ = it->second.ipv6;
  return lease;
}

bool Listeners::release(const std::string& key, Holder holder) {
  std::lock_guard lock(mu_);
  auto it = sockets_.find(key);
  if (it == sockets_.end()) return false;
  auto& holders = it->second.holders;
  for (auto h = holders.begin(); h != holders.end(); ++h) {
    if (h->holder == holder) {
      holders.erase(h);
      break;
    }
  }
  const bool last = holders.empty();
  if (last) {
    // Nobody accepts on it any more: connections still in its backlog are refused now, as at shutdown.
    ::close(it->second.fd);
    sockets_.erase(it);
  }
  if (!holds_any(holder)) yielding_.erase(holder);  // its address may be a new holder's next
  return last;
}

bool Listeners::holds_any(Holder holder) const {
  for (const auto& [key, s] : sockets_) {
    for (const Held& h : s.holders) {
      if (h.holder == holder) return true;
    }
  }
  return false;
}

void Listeners::yield(Holder holder, bool yielding) {
  std::lock_guard lock(mu_);
  if (yielding) {
    if (holds_any(holder)) yielding_.insert(holder);
  } else {
    yielding_.erase(holder);
  }
}

bool Listeners::shared(Holder holder) const {
  std::lock_guard lock(mu_);
  for (const auto& [key, s] : sockets_) {
    bool mine = false, other = false;
    for (const Held& h : s.holders) {
      if (h.holder == holder) {
        mine = true;
      } else if (!yielding_.contains(h.holder)) {
        other = true;
      }
    }
    if (mine && other) return true;
  }
  return false;
}

std::size_t Listeners::size() const {
  std::lock_guard lock(mu_);
  return sockets_.size();
}

}  // namespace saker
