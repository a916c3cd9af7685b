#pragma once
// `tcp` source: NDJSON alerts over plain TCP, many connections served by a few Asio io threads.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "sources/source.hpp"

namespace saker {

struct TcpSourceOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 2802;
  std::size_t max_line = 1024 * 1024;
  // At max_connections a new connection closes the one idle the longest; with none idle it is refused.
  std::size_t max_connections = 1024;
  // A connection that sends no complete line for this long is closed (time spent not reading because the sinks
  // are full does not count).
  std::chrono::milliseconds idle_timeout{5 * 60 * 1000};
  std::size_t threads = 1;          // io threads: accept, read, split lines
  // Threads that decode the lines read (each connection's alerts keep their order); 0 decodes on the io threads.
  std::size_t decode_threads = default_decode_threads();

  static std::size_t default_decode_threads();
};

class TcpSource : public Source {
 public:
  TcpSource(SourceContext& ctx, TcpSourceOptions options);
  ~TcpSource() override;

  Result<bool> start() override;
  void stop() override;
  // Handover: the acceptor closes; open connections stay and are read until their sender closes them (stop()
  // closes the rest).
  bool hands_over() const override { return true; }
  void retire() override;
  bool drained() const override;

  // The bound port (useful with port 0); 0 before start().
  std::uint16_t port() const noexcept;
  // Connections open right now.
  std::size_t connections() const noexcept;
  // Of those, the ones waiting for their sender with nothing in progress (the ones max_connections may evict).
  std::size_t idle_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Keys: listen ("127.0.0.1:2802"), max_line (1MiB), max_connections (1024), idle_timeout (5m), threads (1),
// decode_threads (cores, at most 4).
SourceBuilder parse_tcp_source(const ConfigReader& r);

}  // namespace saker
