// The http source's server: Boost.Beast over Asio, one io_context per io thread. A connection lives on one
// thread for its whole life, so its handler (AlertIntake, scratch buffer) needs no lock and memory stays
// bounded by threads, not by connections. Request logic lives in sources/http/handler.cpp.
#include "sources/http.hpp"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <future>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include "sources/http/handler.hpp"
#include "sources/connection_limit.hpp"
#include "sources/listeners.hpp"

namespace saker {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

constexpr std::chrono::seconds kStopGrace{5};     // in-flight requests get this long once stop() is called
constexpr std::chrono::seconds kCloseTimeout{2};  // TLS close_notify / draining a refused upload
constexpr std::size_t kHeaderLimit = 16 * 1024;
// A connection's read buffer never grows past this: a connection not yet authorised holds at most this much (its
// header), and a body passes through it into the request a read at a time.
constexpr std::size_t kBufferLimit = 32 * 1024;
constexpr std::size_t kFirstRead = 4 * 1024;  // the read that waits for a request's first bytes
constexpr std::size_t kDrainRead = 4 * 1024;  // what is read (and dropped) at a time while closing

struct SessionBase {
  virtual ~SessionBase() = default;
  // Closes the connection if it is between requests (or always when `force`).
  virtual void on_stop(bool force) = 0;
};

// One io thread: its io_context, its request handler and the connections it serves.
struct Worker {
  explicit Worker(const HttpShared& shared) : handler(shared) {}
  ~Worker() { dying = true; }  // sessions destroyed with `ioc` below must not touch `grace` (gone by then)
  HttpHandler handler;
  bool dying = false;
  std::unordered_set<SessionBase*> sessions;  // touched only on this worker's thread
  bool stopping = false;                      // ditto
  bool retiring = false;                      // ditto: handed over, every answer closes its connection
  net::io_context ioc{1};                     // destroyed before `sessions` and `handler`
  std::optional<net::steady_timer> grace;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> guard;
  std::thread thread;
};

std::string endpoint_text(const std::string& host, std::uint16_t port) {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

}  // namespace

struct HttpSource::Impl {
  Impl(SourceContext& ctx, HttpSourceConfig c)
      : cfg(std::move(c)),
        listeners(ctx.listeners),
        holder(&ctx),
        shared(ctx.name, ctx.ingest, ctx.metrics),
        connections_gauge(
            ctx.metrics.gauge("saker_http_connections", "Open HTTP connections, by source", {{"source", ctx.name}})),
        rejected(ctx.metrics.counter("saker_http_connections_rejected_total",
                                     "HTTP connections closed at once because max_connections was reached, by source",
                                     {{"source", ctx.name}})),
        tls_failures(ctx.metrics.counter("saker_http_tls_handshake_failures_total",
                                         "Failed TLS handshakes (including missing client certificates), by source",
                                         {{"source", ctx.name}})),
        limit_metrics(ctx.metrics, ctx.name),
        header_timeouts(ctx.metrics.counter("saker_http_request_timeouts_total",
                                            "HTTP requests not received within their timeout, by source and phase",
                                            {{"source", ctx.name}, {"phase", "header"}})),
        body_timeouts(ctx.metrics.counter("saker_http_request_timeouts_total",
                                          "HTTP requests not received within their timeout, by source and phase",
                                          {{"source", ctx.name}, {"phase", "body"}})),
        limit(static_cast<std::size_t>(cfg.max_connections)) {
    shared.limits = ctx.limits;
    shared.max_body = cfg.max_body;
    shared.max_decompressed = cfg.max_decompressed;
    shared.set_token(cfg.token);
    shared.reload_endpoint = cfg.reload_endpoint;
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0) shared.hostname = host;
  }

  Result<bool> start();
  void retire();
  void stop();
  void accept();
  void on_accept(Worker& w, beast::error_code ec, tcp::socket sock);
  template <class AnySession>
  void admit(Worker& w, std::shared_ptr<AnySession> session);

  HttpSourceConfig cfg;
  Listeners* listeners;                      // the pipeline's; null: own_listeners
  Listeners::Holder holder;
  std::unique_ptr<Listeners> own_listeners;  // outlives the lease
  Listeners::Lease lease;                    // the listening socket; the acceptor has a dup() of it
  HttpShared shared;
  Gauge& connections_gauge;
  Counter& rejected;
  Counter& tls_failures;
  ConnectionLimitMetrics limit_metrics;
  Counter& header_timeouts;  // header_timeout passed between a request's first byte and the end of its header
  Counter& body_timeouts;    // idle_timeout passed while a body was being read
  ConnectionLimit limit;     // declared before workers: outlives every session
  std::optional<ssl::context> tls;
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<tcp::acceptor> acceptor;          // on workers[0]
  std::optional<net::steady_timer> accept_retry;  // ditto
  std::size_t next_worker = 0;                    // acceptor thread only
  // Sessions open (an evicted one until its worker closed it). Not the gauge: a source and its successor at a
  // reload share that series.
  std::atomic<std::size_t> open{0};
  std::uint16_t port = 0;
  bool started = false;
  bool stopped = false;
};

namespace {

// Made on the accepting thread, which admits it (ConnectionLimit::admit) and hands it to its worker (run()); from
// then on only its worker's thread touches it. Until its first header is complete it is idle: it may make room for a
// new connection.
template <class Stream>
class Session final : public SessionBase,
                      public std::enable_shared_from_this<Session<Stream>>,
                      public ConnectionLimit::Member {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  template <class... Args>
  Session(HttpSource::Impl& src, Worker& w, Args&&... args)
      : ConnectionLimit::Member(&Session::evict), src_(src), w_(w), stream_(std::forward<Args>(args)...) {}

  ~Session() override {
    src_.limit.remove(*this);  // first: an eviction may be looking at this session
    if (admitted) {
      src_.open.fetch_sub(1, std::memory_order_relaxed);
      src_.connections_gauge.add(-1);
    }
    if (!started_) return;
    w_.sessions.erase(this);
    if (w_.stopping && !w_.dying && w_.sessions.empty() && w_.grace) w_.grace->cancel();
  }

  // On its worker's thread, once admitted.
  void run() {
    started_ = true;
    w_.sessions.insert(this);
    if (w_.stopping) return close_now();
    if constexpr (kTls) {
      lowest().expires_after(src_.cfg.header_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              beast::bind_front_handler(&Session::on_handshake, this->shared_from_this()));
    } else {
      read_header();
    }
  }

  void on_stop(bool force) override {
    if (idle_ || force) close_now();
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void close_now() {
    src_.limit.leave(*this);
    idle_ = true;
    lowest().close();
  }

  // On the accepting thread, under the limit's lock: the close runs on the session's own thread.
  static bool evict(ConnectionLimit::Member& m) {
    auto& s = static_cast<Session&>(m);
    // The only reference taken travels with the handler: dropping the last one here would destroy the session
    // under the lock its destructor takes.
    auto self = s.weak_from_this().lock();
    if (!self) return false;  // being destroyed: its place is free without closing anything
    net::post(s.w_.ioc, [self = std::move(self)] { self->close_unless_request_arrived(); });
    return true;
  }

  // Evicted: when a request is already here, the pending read takes it and it is answered with Connection: close,
  // so an eviction that races with a client's request loses nothing.
  void close_unless_request_arrived() {
    if (!idle_) return;  // its header was read meanwhile: on_header() saw the eviction and closes after answering
    if (!request_waiting()) close_now();
  }

  bool request_waiting() {
    beast::error_code ec;
    return lowest().socket().available(ec) > 0 && !ec;
  }

  void on_handshake(beast::error_code ec) {
    if (ec) {
      if (!src_.limit.leave(*this)) return close_now();  // evicted while handshaking: the eviction closed it
      src_.tls_failures.inc();
      spdlog::debug("http source {}: TLS handshake failed: {}", src_.shared.source, ec.message());
      return close_now();
    }
    read_header();
  }

  void read_header() {
    if (w_.stopping) return close_now();  // between requests: nothing to drain or answer
    idle_ = true;
    if (!src_.limit.idle(*this) && buffer_.size() == 0 && !request_waiting()) {
      return close_now();  // evicted during its TLS handshake, and no request has come: nothing to answer
    }
    parser_.emplace();
    parser_->body_limit(src_.cfg.max_body);
    parser_->header_limit(kHeaderLimit);
    if (buffer_.size() > 0) return read_rest_of_header();  // pipelined: the next request is here already
    // Waiting for the next request gets idle_timeout; once its first bytes arrive, its header gets header_timeout.
    lowest().expires_after(src_.cfg.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kFirstRead),
                            beast::bind_front_handler(&Session::on_first_bytes, this->shared_from_this()));
  }

  void on_first_bytes(beast::error_code ec, std::size_t n) {
    if (ec) {
      // Unlisted first: a timeout (or the client leaving) racing with an eviction counts as one of them, never both.
      if (src_.limit.leave(*this) && ec == beast::error::timeout) src_.limit_metrics.idle_timeouts.inc();
      return close_now();
    }
    buffer_.commit(n);
    read_rest_of_header();
  }

  void read_rest_of_header() {
    lowest().expires_after(src_.cfg.header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, this->shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    idle_ = false;
    if (!src_.limit.busy(*this)) {  // evicted to make room for a new connection
      if (ec) return close_now();
      last_request_ = true;  // but its request had arrived: answer it, then close
    }
    if (ec) return on_read_error(ec, src_.header_timeouts);
    const auto& req = parser_->get();
    if (client_.empty()) {
      beast::error_code ep_ec;
      const auto ep = lowest().socket().remote_endpoint(ep_ec);
      client_ = ep_ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
    }
    head_ = HttpHead{req.method_string(), req.target(), req[http::field::authorization],
                     req[http::field::content_encoding], client_};
    HttpReply reply;
    route_ = w_.handler.route(head_, reply);
    const bool expects_continue = iequals(req[http::field::expect], "100-continue");
    if (route_ == HttpRoute::None) {
      // Answered from the header alone (401, 404, 405), at once: the body is never read, so a client without the
      // token cannot make saker hold one. A request with a body still to come is answered and closed.
      return respond(std::move(reply), parser_->is_done());
    }
    if (!parser_->is_done() && expects_continue) {
      continue_.emplace(http::status::continue_, req.version());
      lowest().expires_after(src_.cfg.idle_timeout);
      http::async_write(stream_, *continue_,
                        beast::bind_front_handler(&Session::on_continue, this->shared_from_this()));
      return;
    }
    read_body();
  }

  void on_continue(beast::error_code ec, std::size_t) {
    continue_.reset();
    if (ec) return close_now();
    read_body();
  }

  void read_body() {
    lowest().expires_after(src_.cfg.idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_body, this->shared_from_this()));
  }

  void on_body(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec, src_.body_timeouts);
    respond(w_.handler.serve(route_, head_, parser_->get().body()), true);
  }

  void on_read_error(beast::error_code ec, Counter& timeouts) {
    if (ec == beast::error::timeout) {
      timeouts.inc();
      return close_now();
    }
    if (ec == http::error::body_limit) {
      return respond(
          http_error_reply(413, "too_large", fmt::format("body over {} bytes (max_body)", src_.cfg.max_body)), false);
    }
    if (ec == http::error::header_limit) {
      return respond(
          http_error_reply(431, "header_too_large", fmt::format("request header over {} bytes", kHeaderLimit)), false);
    }
    if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
        ec.category() != beast::http::make_error_code(http::error::bad_method).category()) {
      return close_now();  // the peer left, timed out or broke the connection (or TLS)
    }
    respond(http_error_reply(400, "bad_request", fmt::format("malformed HTTP request: {}", ec.message())), false);
  }

  // `complete`: the whole request was read, so the connection may serve another one.
  void respond(HttpReply reply, bool complete) {
    w_.handler.count(reply.status);
    const bool keep = complete && !reply.close && !w_.stopping && !w_.retiring && !last_request_ &&
                      parser_->get().keep_alive();
    res_ = {};
    res_.version(complete && parser_->get().version() == 10 ? 10 : 11);
    res_.result(reply.status);
    res_.set(http::field::server, "saker/" SAKER_VERSION);
    res_.set(http::field::content_type, reply.content_type);
    for (const auto& [name, value] : reply.headers) res_.set(name, value);
    res_.body() = std::move(reply.body);
    res_.keep_alive(keep);
    res_.prepare_payload();
    lowest().expires_after(src_.cfg.idle_timeout);
    http::async_write(stream_, res_, beast::bind_front_handler(&Session::on_write, this->shared_from_this(), keep));
  }

  void on_write(bool keep, beast::error_code ec, std::size_t) {
    if (ec) return close_now();
    if (!keep) return finish();
    read_header();
  }

  // Closes after the last answer: TLS sends close_notify; plain TCP stops sending and drains what the client
  // still sends for a moment, so a refused upload's client reads the answer instead of a reset.
  void finish() {
    src_.limit.leave(*this);  // closing: its place is free for a new connection already
    idle_ = true;
    parser_.reset();  // nothing more is read into them: free the request, the answer and the buffer now
    res_ = {};
    buffer_.clear();
    buffer_.shrink_to_fit();
    lowest().expires_after(kCloseTimeout);
    if constexpr (kTls) {
      stream_.async_shutdown(beast::bind_front_handler(&Session::on_shutdown, this->shared_from_this()));
    } else {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      drain();
    }
  }

  void on_shutdown(beast::error_code) { close_now(); }

  void drain() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(kDrainRead),
                            beast::bind_front_handler(&Session::on_drain, this->shared_from_this()));
  }

  void on_drain(beast::error_code ec, std::size_t) {
    if (ec) return close_now();
    drain();
  }

  HttpSource::Impl& src_;
  Worker& w_;
  Stream stream_;
  beast::flat_buffer buffer_{kBufferLimit};
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  http::response<http::string_body> res_;
  HttpHead head_;
  std::string client_;  // the peer's address, for log lines
  HttpRoute route_ = HttpRoute::None;
  bool last_request_ = false;       // evicted while its request arrived: closes after answering it
  bool idle_ = true;                // between requests (or handshaking/closing): stop() may close it at once
  bool started_ = false;            // run() was called: in w_.sessions

 public:
  bool admitted = false;  // set by the accepting thread before run(): counted in `open` and the gauge
};

using PlainSession = Session<beast::tcp_stream>;
using TlsSession = Session<beast::ssl_stream<beast::tcp_stream>>;

Result<bool> tls_error(const std::string& what, const std::string& path, const beast::error_code& ec) {
  std::string why;
  if (::access(path.c_str(), R_OK) != 0) {
    why = std::strerror(errno);  // missing or unreadable: say so plainly
  } else if (ec.category() == net::error::get_ssl_category()) {
    const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    char buf[256];
    why = reason ? reason : ERR_error_string(static_cast<unsigned long>(ec.value()), buf);
  } else {
    why = ec.message();
  }
  return make_error("tls", fmt::format("http source: cannot load TLS {} {}: {}", what, path, why));
}

}  // namespace

Result<bool> HttpSource::Impl::start() {
  if (started) return make_error("state", "http source: already started");
  const std::string where = endpoint_text(cfg.host, cfg.port);

  if (cfg.tls.enabled()) {
    tls.emplace(ssl::context::tls_server);
    beast::error_code ec;
    tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                     ec);
    SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
    if (tls->use_certificate_chain_file(cfg.tls.cert, ec); ec) return tls_error("certificate", cfg.tls.cert, ec);
    if (tls->use_private_key_file(cfg.tls.key, ssl::context::pem, ec); ec) return tls_error("key", cfg.tls.key, ec);
    if (!cfg.tls.client_ca.empty()) {
      if (tls->load_verify_file(cfg.tls.client_ca, ec); ec) return tls_error("client CA", cfg.tls.client_ca, ec);
      if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(cfg.tls.client_ca.c_str())) {
        SSL_CTX_set_client_CA_list(tls->native_handle(), names);
      }
      static const unsigned char kContext[] = "saker-http";
      SSL_CTX_set_session_id_context(tls->native_handle(), kContext, sizeof kContext - 1);
      tls->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
    }
  }

  // The socket comes from the pipeline's Listeners (shared with the source this one replaces at a reload); the
  // acceptor owns a dup() of it, so closing the acceptor leaves the socket to the other holders.
  Listeners& from = listeners != nullptr ? *listeners : *(own_listeners = std::make_unique<Listeners>());
  auto got = from.acquire(cfg.host, cfg.port, holder, shared.source);
  if (!got) {
    return make_error("listen", fmt::format("http source: cannot listen on {}: {}", where, got.error().message));
  }
  auto fd = got->dup();
  if (!fd) return make_error("listen", fmt::format("http source: cannot listen on {}: {}", where, fd.error().message));
  for (int i = 0; i < cfg.threads; ++i) workers.push_back(std::make_unique<Worker>(shared));
  acceptor.emplace(workers[0]->ioc);
  beast::error_code ec;
  if (acceptor->assign(got->ipv6() ? tcp::v6() : tcp::v4(), fd.value(), ec); ec) {
    ::close(fd.value());
    acceptor.reset();
    workers.clear();
    return make_error("listen", fmt::format("http source: cannot listen on {}: {}", where, ec.message()));
  }
  port = got->port();
  lease = std::move(got).value();
  accept_retry.emplace(workers[0]->ioc);

  started = true;
  accept();
  for (std::size_t i = 0; i < workers.size(); ++i) {
    Worker& w = *workers[i];
    w.guard.emplace(net::make_work_guard(w.ioc));
    w.thread = std::thread([this, &w, i] {
      pthread_setname_np(pthread_self(), fmt::format("saker-http-{}", i).substr(0, 15).c_str());
      for (;;) {
        try {
          w.ioc.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("http source {}: io thread error: {}", shared.source, e.what());
        }
      }
    });
  }
  spdlog::info("http source {}: listening on {}{}", shared.source, endpoint_text(cfg.host, port),
               cfg.tls.enabled() ? (cfg.tls.client_ca.empty() ? " (TLS)" : " (mutual TLS)") : "");
  return true;
}

void HttpSource::Impl::accept() {
  Worker& w = *workers[next_worker];
  next_worker = (next_worker + 1) % workers.size();
  acceptor->async_accept(w.ioc,
                         [this, &w](beast::error_code ec, tcp::socket sock) { on_accept(w, ec, std::move(sock)); });
}

void HttpSource::Impl::on_accept(Worker& w, beast::error_code ec, tcp::socket sock) {
  if (ec == net::error::operation_aborted) return;
  // Retired (handed over): a connection accepted before the acceptor closed is still served, but none after.
  if (ec && !acceptor->is_open()) return;
  if (ec) {
    // Out of file descriptors and the like: wait a little rather than spin.
    spdlog::warn("http source {}: accept failed: {}", shared.source, ec.message());
    accept_retry->expires_after(std::chrono::milliseconds(100));
    accept_retry->async_wait([this](beast::error_code e) {
      if (!e && acceptor->is_open()) accept();
    });
    return;
  }
  sock.set_option(tcp::no_delay(true), ec);
  if (tls) {
    admit(w, std::make_shared<TlsSession>(*this, w, std::move(sock), *tls));
  } else {
    admit(w, std::make_shared<PlainSession>(*this, w, std::move(sock)));
  }
  if (acceptor->is_open()) accept();
}

// Admitted here, before its worker runs it: from now on it holds a place and is idle, so a burst of new connections
// finds them to evict in the order they arrived.
template <class AnySession>
void HttpSource::Impl::admit(Worker& w, std::shared_ptr<AnySession> session) {
  switch (limit.admit(*session)) {
    case ConnectionLimit::Admission::Refused:
      rejected.inc();
      return;  // never run: its last reference goes here, and closes the socket
    case ConnectionLimit::Admission::Evicted:
      // The connection idle the longest closes (on its own thread) to make room: a live client always gets in.
      limit_metrics.evicted.inc();
      break;
    case ConnectionLimit::Admission::Admitted:
      break;
  }
  session->admitted = true;
  open.fetch_add(1, std::memory_order_relaxed);
  connections_gauge.add(1);
  net::post(w.ioc, [session = std::move(session)] { session->run(); });
}

void HttpSource::Impl::stop() {
  if (!started || stopped) return;
  stopped = true;
  net::post(workers[0]->ioc, [this] {
    beast::error_code ec;
    acceptor->close(ec);
    accept_retry->cancel();
  });
  for (auto& wp : workers) {
    Worker* w = wp.get();
    net::post(w->ioc, [w] {
      w->stopping = true;
      const std::vector<SessionBase*> open(w->sessions.begin(), w->sessions.end());
      for (auto* s : open) s->on_stop(false);
      if (w->sessions.empty()) return;
      w->grace.emplace(w->ioc);
      w->grace->expires_after(kStopGrace);
      w->grace->async_wait([w](beast::error_code ec) {
        if (ec) return;
        const std::vector<SessionBase*> left(w->sessions.begin(), w->sessions.end());
        for (auto* s : left) s->on_stop(true);
      });
    });
  }
  for (auto& w : workers) w->guard.reset();
  for (auto& w : workers) {
    if (w->thread.joinable()) w->thread.join();
  }
  accept_retry.reset();
  acceptor.reset();
  lease.release();
  workers.clear();
  spdlog::info("http source {}: stopped", shared.source);
}

void HttpSource::Impl::retire() {
  if (!started || stopped) return;
  // On each io thread, waited for: once this returns, the successor gets every new connection and every answer
  // from here closes its connection (keep-alive clients reconnect, to the successor).
  std::vector<std::future<void>> done;
  for (std::size_t i = 0; i < workers.size(); ++i) {
    auto p = std::make_shared<std::promise<void>>();
    done.push_back(p->get_future());
    Worker* w = workers[i].get();
    net::post(w->ioc, [this, w, first = i == 0, p] {
      if (first) {
        beast::error_code ec;
        acceptor->close(ec);
        accept_retry->cancel();
      }
      w->retiring = true;
      p->set_value();
    });
  }
  for (auto& f : done) f.wait();
  const bool last = lease.release();
  spdlog::info("http source {}: {}; {} connection(s) finish here", shared.source,
               last ? "closed its listener" : "handed its listener over", open.load(std::memory_order_relaxed));
}

HttpSource::HttpSource(SourceContext& ctx, HttpSourceConfig config)
    : impl_(std::make_unique<Impl>(ctx, std::move(config))) {}

HttpSource::~HttpSource() { stop(); }

Result<bool> HttpSource::start() { return impl_->start(); }

void HttpSource::stop() { impl_->stop(); }

void HttpSource::retire() { impl_->retire(); }

bool HttpSource::drained() const { return impl_->open.load(std::memory_order_relaxed) == 0; }

std::uint16_t HttpSource::port() const noexcept { return impl_->port; }

std::size_t HttpSource::connections() const { return impl_->open.load(std::memory_order_relaxed); }

std::size_t HttpSource::idle_connections() const { return impl_->limit.idle(); }

}  // namespace saker
