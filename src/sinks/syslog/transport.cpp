#include "sinks/syslog/transport.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

namespace saker {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using boost::system::error_code;
using std::chrono::milliseconds;

namespace {

constexpr int kTls13SettleMs = 250;                 // TLS 1.3 servers reject a client certificate after the handshake
constexpr auto kTlsShutdown = milliseconds(200);    // close_notify at stop: don't wait long for the answer
constexpr std::size_t kMaxDatagramsPerCall = 1024;  // sendmmsg's limit per call (UIO_MAXIOV)

bool is_ip_literal(const std::string& s) {
  error_code ec;
  asio::ip::make_address(s, ec);
  return !ec;
}

milliseconds remaining(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
  return std::max(left, milliseconds(1));
}

}  // namespace

struct SyslogTransport::Impl {
  explicit Impl(const SyslogConfig& c) : cfg(c) {}

  SyslogConfig cfg;
  asio::io_context io{1};
  std::unique_ptr<asio::ssl::context> tls_ctx;
  std::unique_ptr<tcp::socket> tcp_sock;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls;
  std::unique_ptr<udp::socket> udp_sock;
  udp::endpoint udp_dest;

  const std::string& addr() const { return cfg.address.text; }
  tcp::socket* stream_socket() { return tls ? &tls->next_layer() : tcp_sock.get(); }

  // Runs the started operation until `done` or `timeout`. On timeout `cancel` aborts it and the aborted
  // handlers are drained here, so none outlives the caller's frame. False: timed out.
  template <typename Cancel>
  bool run(const bool& done, milliseconds timeout, Cancel cancel) {
    io.restart();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done) {
      if (io.run_one_until(deadline) == 0 && !done) {
        cancel();
        io.restart();
        io.run();
        return false;
      }
    }
    return true;
  }

  void close_socket() noexcept {
    error_code ignored;
    if (tcp::socket* s = stream_socket()) s->close(ignored);
    if (udp_sock) udp_sock->close(ignored);
  }

  void close() noexcept {
    close_socket();
    tls.reset();
    tcp_sock.reset();
    udp_sock.reset();
  }

  Error timed_out(const char* what, milliseconds after) const {
    return make_error("timeout", fmt::format("{} {} timed out after {} ms", what, addr(), after.count()));
  }

  template <typename Resolver>
  Result<typename Resolver::results_type> resolve(Resolver& resolver, milliseconds timeout) {
    bool done = false;
    error_code ec;
    typename Resolver::results_type results;
    resolver.async_resolve(cfg.address.host, std::to_string(cfg.address.port), asio::ip::resolver_base::numeric_service,
                           [&](const error_code& e, typename Resolver::results_type r) {
                             ec = e;
                             results = std::move(r);
                             done = true;
                           });
    if (!run(done, timeout, [&] { resolver.cancel(); })) return timed_out("resolving the host of", timeout);
    if (!ec && results.empty()) ec = asio::error::host_not_found;
    if (ec) {
      return make_error("resolve_failed",
                        fmt::format("cannot resolve \"{}\" of {}: {}", cfg.address.host, addr(), ec.message()));
    }
    return results;
  }

  Result<bool> init() {
    if (cfg.address.kind != SyslogTransportKind::Tls) return true;
    auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);  // RFC 9662: TLS 1.2 or later
    error_code ec;
    auto fail = [&](const std::string& what) {
      return make_error("tls_config", fmt::format("syslog {}: {}: {}", addr(), what, ec.message()));
    };
    if (cfg.tls.verify) {
      ctx->set_verify_mode(asio::ssl::verify_peer, ec);
      if (cfg.tls.ca.empty()) {
        if (ctx->set_default_verify_paths(ec); ec) return fail("cannot load the system's CA certificates");
      } else if (ctx->load_verify_file(cfg.tls.ca, ec); ec) {
        return fail("cannot load tls.ca " + cfg.tls.ca);
      }
    } else {
      ctx->set_verify_mode(asio::ssl::verify_none, ec);
    }
    if (!cfg.tls.cert.empty()) {
      if (ctx->use_certificate_chain_file(cfg.tls.cert, ec); ec) return fail("cannot load tls.cert " + cfg.tls.cert);
      if (ctx->use_private_key_file(cfg.tls.key, asio::ssl::context::pem, ec); ec) {
        return fail("cannot load tls.key " + cfg.tls.key + " (or it does not match tls.cert)");
      }
    }
    tls_ctx = std::move(ctx);
    return true;
  }

  Result<bool> connect_udp() {
    udp::resolver resolver(io);
    auto endpoints = resolve(resolver, cfg.connect_timeout);
    if (!endpoints) return endpoints.error();
    udp_dest = endpoints->begin()->endpoint();
    udp_sock = std::make_unique<udp::socket>(io);
    error_code ec;
    udp_sock->open(udp_dest.protocol(), ec);
    if (ec) {
      close();
      return make_error("socket_failed", fmt::format("cannot open a UDP socket for {}: {}", addr(), ec.message()));
    }
    return true;
  }

  Result<bool> connect_stream() {
    const auto deadline = std::chrono::steady_clock::now() + cfg.connect_timeout;
    tcp::resolver resolver(io);
    auto endpoints = resolve(resolver, remaining(deadline));
    if (!endpoints) return endpoints.error();
    if (cfg.address.kind == SyslogTransportKind::Tls) {
      tls = std::make_unique<asio::ssl::stream<tcp::socket>>(io, *tls_ctx);
    } else {
      tcp_sock = std::make_unique<tcp::socket>(io);
    }
    tcp::socket& sock = *stream_socket();
    bool done = false;
    error_code ec;
    asio::async_connect(sock, endpoints.value(), [&](const error_code& e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    if (!run(done, remaining(deadline), [&] { close_socket(); })) {
      close();
      return timed_out("connecting to", cfg.connect_timeout);
    }
    if (ec) {
      close();
      return make_error("connect_failed", fmt::format("cannot connect to {}: {}", addr(), ec.message()));
    }
    error_code ignored;
    sock.set_option(tcp::no_delay(true), ignored);
    sock.set_option(asio::socket_base::keep_alive(true), ignored);
    if (tls) return handshake(deadline);
    return true;
  }

  Result<bool> handshake(std::chrono::steady_clock::time_point deadline) {
    SSL* ssl = tls->native_handle();
    const std::string& name = cfg.tls.server_name;
    const bool ip = is_ip_literal(name);
    if (!ip) SSL_set_tlsext_host_name(ssl, name.c_str());  // SNI carries DNS names only (RFC 6066)
    if (cfg.tls.verify) {
      if (ip) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
      } else {
        SSL_set1_host(ssl, name.c_str());
      }
    }
    bool done = false;
    error_code ec;
    tls->async_handshake(asio::ssl::stream_base::client, [&](const error_code& e) {
      ec = e;
      done = true;
    });
    if (!run(done, remaining(deadline), [&] { close_socket(); })) {
      close();
      return timed_out("TLS handshake with", cfg.connect_timeout);
    }
    if (ec) {
      std::string why = ec.message();
      const long verify = SSL_get_verify_result(ssl);
      if (verify != X509_V_OK) why += fmt::format(": {}", X509_verify_cert_error_string(verify));
      if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        why += fmt::format(" (the server's certificate is not for \"{}\"; see tls.server_name)", name);
      }
      close();
      return make_error("tls_failed", fmt::format("TLS handshake with {} failed: {}", addr(), why));
    }
    if (SSL_version(ssl) == TLS1_3_VERSION) {
      if (std::string why = dead_reason(kTls13SettleMs); !why.empty()) {
        close();
        return make_error("tls_failed", fmt::format("{} dropped the TLS connection after the handshake: {}", addr(), why));
      }
    }
    return true;
  }

  // Why the stream is unusable, found by waiting at most `wait_ms` for anything readable; "" when it looks alive.
  std::string dead_reason(int wait_ms) {
    tcp::socket* s = stream_socket();
    if (s == nullptr || !s->is_open()) return "not connected";
    pollfd p{s->native_handle(), POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, wait_ms) <= 0) return {};
    char buf[4096];
    if (!tls) {
      const ssize_t n = ::recv(p.fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) return {};  // a receiver that talks back: ignore what it said
      if (n == 0) return "the receiver closed the connection";
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return {};
      return std::strerror(errno);
    }
    // Let OpenSSL consume what arrived: session tickets keep the connection, alerts and EOF end it.
    error_code ec;
    s->non_blocking(true, ec);
    while (!ec) tls->read_some(asio::buffer(buf), ec);
    error_code ignored;
    s->non_blocking(false, ignored);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return {};
    if (ec == asio::error::eof) return "the receiver closed the TLS connection";
    return ec.message();
  }

  Result<bool> write(std::string_view data, std::size_t& written) {
    written = 0;
    bool done = false;
    error_code ec;
    auto handler = [&](const error_code& e, std::size_t n) {
      ec = e;
      written = n;
      done = true;
    };
    if (tls) {
      asio::async_write(*tls, asio::buffer(data.data(), data.size()), handler);
    } else {
      asio::async_write(*tcp_sock, asio::buffer(data.data(), data.size()), handler);
    }
    if (!run(done, cfg.write_timeout, [&] { close_socket(); })) {
      close();
      return make_error("timeout", fmt::format("writing to {} timed out after {} ms (the receiver is not reading)",
                                               addr(), cfg.write_timeout.count()));
    }
    if (ec) {
      close();
      return make_error("write_failed", fmt::format("cannot write to {}: {}", addr(), ec.message()));
    }
    return true;
  }

  Result<bool> send_datagrams(std::span<const std::string_view> messages, std::size_t& sent) {
    sent = 0;
    std::vector<mmsghdr> headers;
    std::vector<iovec> iovs;
    while (sent < messages.size()) {
      const std::size_t n = std::min(kMaxDatagramsPerCall, messages.size() - sent);
      headers.assign(n, mmsghdr{});
      iovs.resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        const std::string_view m = messages[sent + i];
        iovs[i] = iovec{const_cast<char*>(m.data()), m.size()};
        headers[i].msg_hdr.msg_iov = &iovs[i];
        headers[i].msg_hdr.msg_iovlen = 1;
        headers[i].msg_hdr.msg_name = udp_dest.data();
        headers[i].msg_hdr.msg_namelen = static_cast<socklen_t>(udp_dest.size());
      }
      const int r = ::sendmmsg(udp_sock->native_handle(), headers.data(), static_cast<unsigned>(n), MSG_NOSIGNAL);
      if (r < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        close();
        return make_error("send_failed", fmt::format("cannot send to {}: {}", addr(), std::strerror(err)));
      }
      sent += static_cast<std::size_t>(r);
    }
    return true;
  }

  // Sends close_notify so the receiver sees a clean end rather than a truncated stream.
  void shutdown() noexcept {
    if (tls && tls->next_layer().is_open()) {
      bool done = false;
      tls->async_shutdown([&](const error_code&) { done = true; });
      run(done, kTlsShutdown, [&] { close_socket(); });
    }
    close();
  }
};

SyslogTransport::SyslogTransport(const SyslogConfig& cfg) : impl_(std::make_unique<Impl>(cfg)) {}

SyslogTransport::~SyslogTransport() {
  try {
    impl_->shutdown();
  } catch (...) {  // a destructor must not throw; the connection is being dropped anyway
  }
}

Result<bool> SyslogTransport::init() {
  try {
    return impl_->init();
  } catch (const std::exception& e) {
    return make_error("tls_config", fmt::format("syslog {}: TLS setup failed: {}", impl_->addr(), e.what()));
  }
}

Result<bool> SyslogTransport::connect() {
  impl_->close();
  try {
    return impl_->cfg.address.kind == SyslogTransportKind::Udp ? impl_->connect_udp() : impl_->connect_stream();
  } catch (const std::exception& e) {
    impl_->close();
    return make_error("connect_failed", fmt::format("cannot connect to {}: {}", impl_->addr(), e.what()));
  }
}

bool SyslogTransport::is_open() const noexcept {
  return impl_->udp_sock != nullptr || impl_->tcp_sock != nullptr || impl_->tls != nullptr;
}

void SyslogTransport::close() noexcept { impl_->close(); }

bool SyslogTransport::peer_gone() {
  if (impl_->udp_sock) return false;
  if (impl_->dead_reason(0).empty()) return false;
  impl_->close();
  return true;
}

Result<bool> SyslogTransport::write(std::string_view data, std::size_t& written) {
  written = 0;
  if (!impl_->stream_socket()) return make_error("not_connected", fmt::format("not connected to {}", impl_->addr()));
  try {
    return impl_->write(data, written);
  } catch (const std::exception& e) {
    impl_->close();
    return make_error("write_failed", fmt::format("cannot write to {}: {}", impl_->addr(), e.what()));
  }
}

Result<bool> SyslogTransport::send_datagrams(std::span<const std::string_view> messages, std::size_t& sent) {
  sent = 0;
  if (!impl_->udp_sock) return make_error("not_connected", fmt::format("no UDP socket for {}", impl_->addr()));
  return impl_->send_datagrams(messages, sent);
}

const std::string& SyslogTransport::address() const noexcept { return impl_->addr(); }

}  // namespace saker
