#pragma once
// The syslog sink's one connection: UDP (datagrams via sendmmsg), TCP (RFC 6587) or TLS (RFC 5425), with
// connect and write timeouts. Calls block the sink's own thread; every failure is an Error, never an exception.
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "sinks/syslog/config.hpp"

namespace saker {

class SyslogTransport {
 public:
  explicit SyslogTransport(const SyslogConfig& cfg);
  ~SyslogTransport();
  SyslogTransport(const SyslogTransport&) = delete;
  SyslogTransport& operator=(const SyslogTransport&) = delete;

  // Loads the TLS material (CA, client certificate, key); errors here are configuration errors.
  Result<bool> init();
  // Resolves the host and connects (TCP/TLS, TLS handshake included) or opens the socket (UDP).
  Result<bool> connect();
  bool is_open() const noexcept;
  void close() noexcept;
  // A stream whose receiver closed or reset it (receivers never send), found without blocking; closes it.
  bool peer_gone();

  // Stream: writes all of `data`; `written` is how many bytes went out before an error.
  Result<bool> write(std::string_view data, std::size_t& written);
  // UDP: one datagram per message, as few sendmmsg calls as possible; `sent` counts datagrams sent.
  Result<bool> send_datagrams(std::span<const std::string_view> messages, std::size_t& sent);

  const std::string& address() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace saker
