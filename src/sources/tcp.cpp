#include "sources/tcp.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <future>
#include <thread>
#include <unordered_set>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sources/decode_pool.hpp"
#include "sources/connection_limit.hpp"
#include "sources/line_splitter.hpp"
#include "sources/listeners.hpp"

namespace saker {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto kFlushRetry = std::chrono::milliseconds(10);    // sinks full: how soon to try again
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);  // accept failed (EMFILE): don't spin
constexpr auto kStopGrace = std::chrono::seconds(5);           // at stop: how long to wait for sinks to take the rest
// Reads of up to 1 MiB: a busy sender's data arrives in few system calls, and each read is one chunk to decode.
// The buffer is allocated uninitialised, so an idle connection costs no resident memory for it.
constexpr std::size_t kReadChunk = 1024 * 1024;
constexpr std::size_t kMaxChunksInFlight = 4;                  // per connection, with decode_threads: then stop reading

// How often each io thread looks for connections past idle_timeout: a quarter of it, within [10ms, 1s].
std::chrono::milliseconds sweep_interval(std::chrono::milliseconds idle_timeout) {
  return std::clamp<std::chrono::milliseconds>(idle_timeout / 4, std::chrono::milliseconds(10),
                                               std::chrono::seconds(1));
}

}  // namespace

struct TcpSource::Impl {
  struct Connection;

  // One io thread with its own io_context and decoder; a connection lives on one worker for its whole life.
  struct Worker {
    explicit Worker(Impl& impl)
        : impl(impl),
          intake(impl.name, impl.ingest, impl.metrics, impl.limits),
          lines(impl.name, intake, impl.log_limit, impl.opt.max_line) {}

    void flush_then_read(const std::shared_ptr<Connection>& conn);
    void arm_retry();
    void arm_sweep();
    void close_all();

    Impl& impl;
    std::unordered_set<Connection*> conns;  // declared before ctx: outlives handlers the ctx may still destroy
    asio::io_context ctx{1};
    AlertIntake intake;
    LineDecoder lines;
    asio::steady_timer retry{ctx};
    asio::steady_timer sweep{ctx};  // closes connections past idle_timeout
    asio::executor_work_guard<asio::io_context::executor_type> guard{ctx.get_executor()};
    bool paused = false;   // a flush failed: no connection on this worker reads until it succeeds
    bool closing = false;  // stop() began
    std::vector<std::shared_ptr<Connection>> waiters;
    std::thread thread;
  };

  // With decode_threads, a connection's complete lines go to the DecodePool a read at a time ("chunks"); the
  // chunks' alerts are submitted in the order they were read, so one connection's alerts keep their order.
  // Made on the accepting thread, which admits it (ConnectionLimit::admit) and hands it to its worker (start());
  // from then on only its worker's thread touches it, and the last reference to it is dropped there.
  struct Connection : std::enable_shared_from_this<Connection>, ConnectionLimit::Member {
    Connection(Worker& w, tcp::socket s)
        : ConnectionLimit::Member(&Connection::evict),
          w(w),
          sock(std::move(s)),
          split(w.impl.opt.max_line, kReadChunk) {}
    ~Connection() {
      w.impl.limit.remove(*this);  // first: an eviction may be looking at this connection
      if (started) w.conns.erase(this);
      if (admitted) {
        w.impl.open.fetch_sub(1, std::memory_order_relaxed);
        w.impl.conn_gauge.add(-1);
      }
    }

    // On its worker's thread, once admitted.
    void start() {
      if (w.closing) return;
      started = true;
      w.conns.insert(this);
      read();
    }

    // Reads more, unless a read is pending, the peer is done, or enough chunks are being decoded already.
    void read() {
      if (reading || ended || chunks.size() >= kMaxChunksInFlight) return;
      reading = true;
      // Nothing of this sender's is in progress: it is idle, and may make room for a new connection.
      if (split.partial() == 0 && chunks.empty()) w.impl.limit.idle(*this);
      const auto space = split.space();
      sock.async_read_some(asio::buffer(space.data(), space.size()),
                           [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                             self->on_read(ec, n);
                           });
    }

    void on_read(const boost::system::error_code& ec, std::size_t n) {
      reading = false;
      const bool evicted = !w.impl.limit.busy(*this);
      if (w.closing) return;
      const std::uint64_t consumed = split.consumed();
      DecodePool* pool = w.impl.pool.get();
      if (!pool) {
        if (n > 0) split.commit(n, w.lines.on_line(), w.lines.on_drop());
        // The peer closed: its last line may lack a newline. Errors (reset) drop the partial line.
        if (ec == asio::error::eof) split.finish(w.lines.on_line(), w.lines.on_drop());
      } else {
        // The complete lines go to the pool in the buffer they were read into; no copy.
        if (n > 0) {
          if (auto block = split.commit_block(n, w.lines.on_drop()); !block.lines.empty()) decode(*pool, std::move(block));
        }
        if (ec == asio::error::eof) {
          // The last line, without its newline, stays in the splitter's buffer: it gets a block of its own.
          split.finish(
              [&](std::string_view last) {
                LineSplitter::Block block;
                block.data.reset(new char[last.size()]);
                std::memcpy(block.data.get(), last.data(), last.size());
                block.lines = std::string_view(block.data.get(), last.size());
                decode(*pool, std::move(block));
              },
              w.lines.on_drop());
        }
      }
      if (split.consumed() != consumed) progress_at = std::chrono::steady_clock::now();  // a line was completed
      if (ec || evicted) {
        // The sender is gone (or was evicted): nothing more is read, so the socket closes now and its place is
        // free, while the lines already read are still decoded and submitted.
        ended = true;
        if (!evicted) w.impl.limit.leave(*this);
        close();
      }
      w.flush_then_read(ended ? nullptr : shared_from_this());
    }

    void close() {
      boost::system::error_code ignored;
      sock.close(ignored);
    }

    // Evicted: when the sender's data is already here, the pending read takes it and on_read() closes afterwards,
    // so an eviction that races with a sender's first line loses nothing.
    void close_unless_data_arrived() {
      boost::system::error_code ec;
      if (reading && sock.available(ec) > 0 && !ec) return;
      close();
    }

    // On the accepting thread, under the limit's lock: the close runs on the connection's own thread.
    static bool evict(ConnectionLimit::Member& m) {
      auto& c = static_cast<Connection&>(m);
      // The only reference taken travels with the handler: dropping the last one here would destroy the connection
      // under the lock its destructor takes.
      auto self = c.weak_from_this().lock();
      if (!self) return false;  // being destroyed: its place is free without closing anything
      asio::post(c.w.ctx, [self = std::move(self)] { self->close_unless_data_arrived(); });
      return true;
    }

    void decode(DecodePool& pool, LineSplitter::Block block) {
      auto chunk = std::make_shared<DecodePool::Chunk>();
      chunk->block = std::move(block);
      chunks.push_back(chunk);
      // The reference moves on to the worker's thread with the result: were the pool's thread to drop the last one,
      // the destructor would touch the worker's connection set from there.
      pool.submit(chunk, [self = shared_from_this(), chunk]() mutable {
        asio::io_context& ctx = self->w.ctx;
        asio::post(ctx, [self = std::move(self), chunk = std::move(chunk)] {
          chunk->done = true;
          self->drain();
        });
      });
    }

    // Hands decoded chunks, oldest first, to the worker's intake; stops at the first one still decoding.
    void drain() {
      while (!chunks.empty() && chunks.front()->done) {
        w.intake.append(chunks.front()->alerts);
        chunks.pop_front();
        progress_at = std::chrono::steady_clock::now();
      }
      // Everything read is decoded and the next read waits for the sender: idle again.
      if (reading && chunks.empty() && split.partial() == 0) w.impl.limit.idle(*this);
      if (w.closing) return;  // stop() flushes what the intake holds
      w.flush_then_read(ended ? nullptr : shared_from_this());
    }

    Worker& w;
    tcp::socket sock;
    LineSplitter split;
    bool admitted = false;  // set by the accepting thread before start(): counted in `open` and the gauge
    bool started = false;   // in w.conns
    bool reading = false;
    bool ended = false;  // the peer closed (or the connection failed): no more reads
    bool timed_out = false;
    bool held_back = false;  // waits in w.waiters for the sinks: not idle, whatever its pending read
    // The last complete line (or the connection's start, or the end of a pause): idle_timeout counts from here.
    std::chrono::steady_clock::time_point progress_at = std::chrono::steady_clock::now();
    std::deque<std::shared_ptr<DecodePool::Chunk>> chunks;  // being decoded, in read order
  };

  Impl(SourceContext& ctx, TcpSourceOptions o)
      : ctx(ctx),
        name(ctx.name),
        ingest(ctx.ingest),
        metrics(ctx.metrics),
        limits(ctx.limits),
        opt(std::move(o)),
        conn_gauge(ctx.metrics.gauge("saker_source_connections", "Open source connections, by source",
                                     {{"source", ctx.name}})),
        rejected(ctx.metrics.counter("saker_source_connections_rejected_total",
                                     "Connections closed at once because max_connections were open, by source",
                                     {{"source", ctx.name}})),
        limit_metrics(ctx.metrics, ctx.name),
        limit(opt.max_connections) {}

  void accept();

  SourceContext& ctx;
  std::string name;
  Ingest& ingest;
  Metrics& metrics;
  DecodeLimits limits;
  TcpSourceOptions opt;
  Gauge& conn_gauge;
  Counter& rejected;
  ConnectionLimitMetrics limit_metrics;
  ConnectionLimit limit;  // declared before workers: outlives every connection
  std::shared_ptr<RateLimiter> log_limit = std::make_shared<RateLimiter>();
  std::shared_ptr<RateLimiter> conn_log_limit = std::make_shared<RateLimiter>();
  std::vector<std::unique_ptr<Worker>> workers;
  std::unique_ptr<DecodePool> pool;  // decode_threads > 0
  std::unique_ptr<Listeners> own_listeners;  // when the context brings none (tests); outlives the lease
  Listeners::Lease lease;                    // the listening socket; the acceptor has a dup() of it
  std::unique_ptr<tcp::acceptor> acceptor;  // on workers[0]
  std::unique_ptr<asio::steady_timer> accept_timer;
  std::size_t next_worker = 0;
  std::atomic<std::size_t> open{0};  // connections open (an evicted one until its worker closed it)
  std::atomic<bool> stopping{false};
  std::atomic<std::uint16_t> port{0};
  bool started = false;
};

void TcpSource::Impl::Worker::flush_then_read(const std::shared_ptr<Connection>& conn) {
  const auto hold = [&] {
    if (!conn) return;
    conn->held_back = true;  // a read may still be pending (decode_threads): the wait is saker's, not the sender's
    waiters.push_back(conn);
  };
  if (paused) return hold();
  if (intake.flush()) {
    if (conn) conn->read();
    return;
  }
  // Sinks are full: stop reading (the kernel buffers, then the sender blocks) and retry shortly.
  paused = true;
  hold();
  arm_retry();
}

void TcpSource::Impl::Worker::arm_retry() {
  retry.expires_after(kFlushRetry);
  retry.async_wait([this](const boost::system::error_code& ec) {
    if (ec || closing) return;
    if (!intake.flush()) {
      arm_retry();
      return;
    }
    paused = false;
    auto resume = std::move(waiters);
    waiters.clear();
    const auto now = std::chrono::steady_clock::now();
    for (auto& c : resume) {
      c->held_back = false;
      c->progress_at = now;  // the pause was saker's, not the sender's
      c->read();
    }
  });
}

void TcpSource::Impl::Worker::arm_sweep() {
  sweep.expires_after(sweep_interval(impl.opt.idle_timeout));
  sweep.async_wait([this](const boost::system::error_code& ec) {
    if (ec || closing) return;
    const auto now = std::chrono::steady_clock::now();
    for (Connection* c : conns) {
      // Only a connection waiting for its sender times out; one held back by full sinks or decoding does not.
      if (!c->reading || c->held_back || c->ended || c->timed_out || now - c->progress_at < impl.opt.idle_timeout) {
        continue;
      }
      c->timed_out = true;
      // Evicted a moment ago: its close is on its way, and counts as the eviction alone.
      if (!impl.limit.leave(*c)) continue;
      impl.limit_metrics.idle_timeouts.inc();
      c->close();  // its read ends with an error, and the connection with it
    }
    arm_sweep();
  });
}

void TcpSource::Impl::Worker::close_all() {
  closing = true;
  retry.cancel();
  sweep.cancel();
  for (Connection* c : conns) {
    boost::system::error_code ignored;
    c->sock.close(ignored);
  }
  waiters.clear();
}

void TcpSource::Impl::accept() {
  Worker& target = *workers[next_worker++ % workers.size()];
  // The socket is created on its worker's io_context so all its I/O runs on that worker's thread.
  auto socket = std::make_shared<tcp::socket>(target.ctx);
  acceptor->async_accept(*socket, [this, &target, socket](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted || stopping.load()) return;
    // Retired (handed over): a connection accepted before the acceptor closed is still served, but none after.
    if (ec && !acceptor->is_open()) return;
    if (ec) {
      std::uint64_t suppressed = 0;
      if (conn_log_limit->allow(suppressed)) {
        spdlog::warn("source {}: accepting a connection failed: {}", name, ec.message());
      }
      accept_timer->expires_after(kAcceptRetry);
      accept_timer->async_wait([this](const boost::system::error_code& tec) {
        if (!tec && !stopping.load()) accept();
      });
      return;
    }
    // Admitted here, before its worker runs it: from now on it holds a place and is idle (it has sent nothing), so
    // a burst of new connections finds them to evict in the order they arrived.
    auto conn = std::make_shared<Connection>(target, std::move(*socket));
    const auto admission = limit.admit(*conn);
    std::uint64_t suppressed = 0;
    if (admission == ConnectionLimit::Admission::Refused) {
      rejected.inc();
      if (conn_log_limit->allow(suppressed)) {
        spdlog::warn("source {}: refusing a connection: max_connections ({}) are open and none is idle", name,
                     opt.max_connections);
      }
      conn->close();  // never started: its last reference goes here
    } else {
      if (admission == ConnectionLimit::Admission::Evicted) {
        // The connection idle the longest closes (on its own thread) to make room: a live sender always gets in.
        limit_metrics.evicted.inc();
        if (conn_log_limit->allow(suppressed)) {
          spdlog::info("source {}: max_connections ({}) are open: closing the connection idle the longest", name,
                       opt.max_connections);
        }
      }
      conn->admitted = true;
      open.fetch_add(1, std::memory_order_relaxed);
      conn_gauge.add(1);
      asio::post(target.ctx, [conn = std::move(conn)] { conn->start(); });
    }
    if (acceptor->is_open()) accept();
  });
}

std::size_t TcpSourceOptions::default_decode_threads() {
  return std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 4);
}

TcpSource::TcpSource(SourceContext& ctx, TcpSourceOptions options)
    : impl_(std::make_unique<Impl>(ctx, std::move(options))) {}

TcpSource::~TcpSource() { stop(); }

Result<bool> TcpSource::start() {
  Impl& m = *impl_;
  if (m.started) return true;
  const std::size_t n = std::max<std::size_t>(m.opt.threads, 1);
  m.workers.clear();
  for (std::size_t i = 0; i < n; ++i) m.workers.push_back(std::make_unique<Impl::Worker>(m));
  if (m.opt.decode_threads > 0) {
    m.pool = std::make_unique<DecodePool>(m.opt.decode_threads, m.ctx, m.log_limit, m.opt.max_line);
  }
  asio::io_context& ctx0 = m.workers[0]->ctx;

  // The socket comes from the pipeline's Listeners (shared with the source this one replaces at a reload); the
  // acceptor owns a dup() of it, so closing the acceptor leaves the socket to the other holders.
  const std::string where = fmt::format("{}:{}", m.opt.host, m.opt.port);
  Listeners& listeners =
      m.ctx.listeners != nullptr ? *m.ctx.listeners : *(m.own_listeners = std::make_unique<Listeners>());
  auto lease = listeners.acquire(m.opt.host, m.opt.port, &m.ctx, m.name);
  if (!lease) {
    m.workers.clear();
    m.pool.reset();
    const Error& e = lease.error();
    if (e.code == "resolve") {
      return make_error("resolve_failed", fmt::format("source {}: cannot resolve listen address {}: {}", m.name, where,
                                                      e.message));
    }
    return make_error("listen_failed", fmt::format("source {}: cannot listen on {} ({}): {}", m.name, where,
                                                   e.code == "in_use" ? "in use" : e.code, e.message));
  }
  auto fd = lease->dup();
  boost::system::error_code ec;
  auto acceptor = std::make_unique<tcp::acceptor>(ctx0);
  if (fd) acceptor->assign(lease->ipv6() ? tcp::v6() : tcp::v4(), fd.value(), ec);
  if (!fd || ec) {
    if (fd && ec) ::close(fd.value());
    m.workers.clear();
    m.pool.reset();
    return make_error("listen_failed", fmt::format("source {}: cannot listen on {} (dup): {}", m.name, where,
                                                   fd ? ec.message() : fd.error().message));
  }
  m.port.store(lease->port());
  m.lease = std::move(lease).value();
  m.acceptor = std::move(acceptor);
  m.accept_timer = std::make_unique<asio::steady_timer>(ctx0);
  m.stopping.store(false);
  m.accept();
  for (auto& w : m.workers) {
    w->arm_sweep();
    Impl::Worker* wp = w.get();
    w->thread = std::thread([wp] { wp->ctx.run(); });
  }
  m.started = true;
  spdlog::info("source {}: listening for NDJSON on tcp {}:{}", m.name, m.opt.host, m.port.load());
  return true;
}

void TcpSource::stop() {
  Impl& m = *impl_;
  if (!m.started) return;
  m.started = false;
  m.stopping.store(true);
  asio::post(m.workers[0]->ctx, [&m] {
    boost::system::error_code ignored;
    m.acceptor->close(ignored);
    m.accept_timer->cancel();
  });
  // Close every connection (no more reads, so no more chunks), let the chunks being decoded finish and reach
  // their connection's worker, then let the io threads run out.
  std::vector<std::future<void>> closed;
  for (auto& w : m.workers) {
    Impl::Worker* wp = w.get();
    auto done = std::make_shared<std::promise<void>>();
    closed.push_back(done->get_future());
    asio::post(w->ctx, [wp, done] {
      wp->close_all();
      done->set_value();
    });
  }
  for (auto& f : closed) f.wait();
  if (m.pool) m.pool->wait_idle();
  for (auto& w : m.workers) {
    Impl::Worker* wp = w.get();
    asio::post(w->ctx, [wp] { wp->guard.reset(); });
  }
  for (auto& w : m.workers) {
    if (w->thread.joinable()) w->thread.join();
  }
  m.pool.reset();
  // Threads are gone: what was decoded but not yet taken by the sinks gets a last, bounded chance.
  const auto deadline = std::chrono::steady_clock::now() + kStopGrace;
  for (auto& w : m.workers) {
    const std::size_t pending = w->intake.pending();
    if (!flush_until(w->intake, deadline)) {
      spdlog::error("source {}: sinks stayed full at shutdown, dropping {} decoded alerts", m.name, pending);
      w->intake.discard();
    }
  }
  m.accept_timer.reset();
  m.acceptor.reset();
  m.lease.release();
  m.workers.clear();
}

void TcpSource::retire() {
  Impl& m = *impl_;
  if (!m.started) return;
  // Closed on the acceptor's thread, and waited for: once this returns, every new connection is the successor's.
  std::promise<void> closed;
  asio::post(m.workers[0]->ctx, [&m, &closed] {
    boost::system::error_code ignored;
    m.acceptor->close(ignored);
    m.accept_timer->cancel();
    closed.set_value();
  });
  closed.get_future().wait();
  const bool last = m.lease.release();
  spdlog::info("source {}: {}; {} connection(s) finish here", m.name,
               last ? "closed its listener" : "handed its listener over", m.open.load(std::memory_order_relaxed));
}

bool TcpSource::drained() const { return impl_->open.load(std::memory_order_relaxed) == 0; }

std::uint16_t TcpSource::port() const noexcept { return impl_->port.load(); }

std::size_t TcpSource::connections() const noexcept { return impl_->open.load(std::memory_order_relaxed); }

std::size_t TcpSource::idle_connections() const { return impl_->limit.idle(); }

SourceBuilder parse_tcp_source(const ConfigReader& r) {
  r.only({"listen", "max_line", "max_connections", "idle_timeout", "threads", "decode_threads"}, kCommonSourceKeys);
  TcpSourceOptions o;
  const std::string listen = r.string("listen", "127.0.0.1:2802");
  if (auto hp = parse_host_port(listen)) {
    o.host = hp->host;
    o.port = hp->port;  // 0 picks a free port (tests)
  } else {
    r.errors.add(r.node["listen"], r.key_name("listen"),
                 fmt::format("must be host:port such as \"127.0.0.1:2802\" or \":2802\", got \"{}\"", listen));
  }
  const std::uint64_t max_line = r.size("max_line", o.max_line);
  if (max_line < 2 || max_line > (1ull << 30)) {
    r.errors.add(r.node["max_line"], r.key_name("max_line"), "must be between 2 bytes and 1GiB");
  } else {
    o.max_line = static_cast<std::size_t>(max_line);
  }
  o.max_connections = static_cast<std::size_t>(r.integer("max_connections", 1024, 1, 1'000'000));
  if (const auto idle = r.duration("idle_timeout", o.idle_timeout);
      idle < std::chrono::milliseconds(10) || idle > std::chrono::hours(24)) {
    r.errors.add(r.node["idle_timeout"], r.key_name("idle_timeout"), "must be between 10ms and 24h");
  } else {
    o.idle_timeout = idle;
  }
  o.threads = static_cast<std::size_t>(r.integer("threads", 1, 1, 64));
  o.decode_threads = static_cast<std::size_t>(r.integer("decode_threads", static_cast<std::int64_t>(o.decode_threads), 0, 64));
  return [o](SourceContext& ctx) -> std::unique_ptr<Source> { return std::make_unique<TcpSource>(ctx, o); };
}

}  // namespace saker
