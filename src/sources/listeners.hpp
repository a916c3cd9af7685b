#pragma once
// Listening sockets that outlive the sources accepting on them. The tcp and http sources take their socket from
// here instead of binding it, so a reload that replaces such a source hands the very socket over: the new source
// accepts on it before the old one stops, connections that arrive meanwhile wait in the kernel's backlog, and the
// port never closes. A socket closes when the last source holding it lets go. See docs/design.md ("Reload").
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace saker {

class Listeners {
 public:
  // Who holds a socket: any address unique to the holder while it lives (the pipeline uses each running source's
  // SourceContext), so an old and a new source of the same name are two holders.
  using Holder = const void*;

  // A holder's share of one listening socket; move-only, released on destruction.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept { *this = std::move(other); }
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { release(); }

    // A new descriptor of the socket (close-on-exec) for the holder's acceptor to own: closing it leaves the
    // socket open for the other holders.
    Result<int> dup() const;
    // The normalised address, e.g. "127.0.0.1:2801", "[::1]:2801" (the port as configured, 0 included).
    const std::string& address() const noexcept { return key_; }
    // The bound port (the one the kernel chose when the config said 0).
    std::uint16_t port() const noexcept { return port_; }
    bool ipv6() const noexcept { return ipv6_; }
    explicit operator bool() const noexcept { return owner_ != nullptr; }
    // True when this was the socket's last holder: it is closed now.
    bool release();

   private:
    friend class Listeners;
    Listeners* owner_ = nullptr;
    std::string key_;
    Holder holder_ = nullptr;
    int fd_ = -1;
    std::uint16_t port_ = 0;
    bool ipv6_ = false;
  };

  Listeners() = default;
  Listeners(const Listeners&) = delete;
  Listeners& operator=(const Listeners&) = delete;
  ~Listeners();  // closes what is left (every lease must be gone by then)

  // The listening socket for host:port, bound now when nobody holds it. A socket someone else holds is shared only
  // when every other holder yields it (a source being replaced); otherwise the error code is "in_use" and the
  // message names that holder. Other error codes: "resolve", "open", "bind", "listen"; the message is the reason
  // alone ("Address already in use"), for the source to put in its own words. `name` (the source's) is for
  // messages.
  Result<Lease> acquire(std::string_view host, std::uint16_t port, Holder holder, std::string name);

  // `holder` is being replaced: a successor may share the sockets it holds now (true); or it stays after all and
  // keeps them to itself again (false). Forgotten once the holder holds no socket.
  void yield(Holder holder, bool yielding);
  // True when a socket `holder` holds is also held by another holder that does not yield it.
  bool shared(Holder holder) const;
  // Open sockets.
  std::size_t size() const;

  // "127.0.0.1:2801", "[::1]:2801": how an address is named (and keyed); empty when `host` does not resolve.
  static std::string normalise(std::string_view host, std::uint16_t port);

 private:
  struct Held {
    Holder holder;
    std::string name;
  };
  struct Socket {
    int fd = -1;
    std::uint16_t port = 0;
    bool ipv6 = false;
    std::vector<Held> holders;
  };
  bool release(const std::string& key, Holder holder);
  bool holds_any(Holder holder) const;  // mu_ held

  mutable std::mutex mu_;
  std::map<std::string, Socket, std::less<>> sockets_;
  std::set<Holder> yielding_;
};

}  // namespace saker
