#pragma once
// The `http` source: an HTTP/1.1 server (optionally TLS / mutual TLS) that Falco's http_output and
// falcosidekick-style clients POST alerts to. One alert or NDJSON per request, optionally gzip-compressed.
// See docs/sources/http.md.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "config/node.hpp"
#include "core/result.hpp"
#include "sources/source.hpp"

namespace saker {

struct HttpTlsConfig {
  std::string cert;       // PEM certificate chain
  std::string key;        // PEM private key
  std::string client_ca;  // PEM CA bundle; set: clients must present a certificate it signed
  bool enabled() const noexcept { return !cert.empty(); }
};

struct HttpSourceConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 2801;  // 0: any free port (see HttpSource::port())
  std::uint64_t max_body = 1024 * 1024;
  std::uint64_t max_decompressed = 8 * 1024 * 1024;
  std::string token;  // empty: no bearer token required
  HttpTlsConfig tls;
  int threads = 2;
  // At max_connections a new connection closes the one idle the longest; with none idle it is refused.
  int max_connections = 1024;
  // Waiting for a request (a new connection, or keep-alive between requests); also bounds reading one body and
  // writing one answer.
  std::chrono::milliseconds idle_timeout{60'000};
  // From a request's first byte (or the TLS handshake's start) until its header is complete: slow senders of
  // headers cannot hold a connection for long.
  std::chrono::milliseconds header_timeout{10'000};
  // `POST /-/reload` (behind the token) asks the daemon to reload its config, as SIGHUP does.
  bool reload_endpoint = false;
};

// Reads the source's config (keys: listen, max_body, max_decompressed, token, tls, threads, max_connections,
// idle_timeout, header_timeout), reporting problems through r.errors; the builder binds nothing until start().
SourceBuilder parse_http_source(const ConfigReader& r);

class HttpSource final : public Source {
 public:
  HttpSource(SourceContext& ctx, HttpSourceConfig config);
  ~HttpSource() override;
  HttpSource(const HttpSource&) = delete;
  HttpSource& operator=(const HttpSource&) = delete;

  Result<bool> start() override;
  void stop() override;
  // Handover: the acceptor closes; each open connection's next request is answered and the connection closed
  // (stop() closes the rest).
  bool hands_over() const override { return true; }
  void retire() override;
  bool drained() const override;

  // The bound port once start() succeeded (the chosen one when the config said port 0).
  std::uint16_t port() const noexcept;
  // Connections open right now.
  std::size_t connections() const;
  // Of those, the ones waiting for a request or its header (the ones max_connections may evict).
  std::size_t idle_connections() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace saker
