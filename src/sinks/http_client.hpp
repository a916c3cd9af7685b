#pragma once
// The HTTP client every HTTP sink shares: one libcurl easy handle per sink (used only from the sink's thread),
// so connections stay alive between batches. Gzip request bodies, timeouts, TLS (tls_options.hpp), one
// Authorization header and custom headers. An HTTP error status is a response; only transport failures
// (refused, timeout, TLS, dropped connection) are errors, each with a message that says what to check.
//
// Below the client: the bookkeeping the HTTP sinks share (what a retried batch already settled, size-bounded
// requests, halving on 413).
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/node.hpp"
#include "core/alert.hpp"
#include "core/result.hpp"
#include "observe/metrics.hpp"
#include "sinks/sink.hpp"
#include "sinks/tls_options.hpp"

namespace saker {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpClientOptions {
  std::chrono::milliseconds timeout{30000};         // a whole request, connection included
  std::chrono::milliseconds connect_timeout{5000};  // TCP + TLS handshake
  TlsOptions tls;
  std::string authorization;  // the Authorization header ("Basic …", "Bearer …", "ApiKey …"); empty: none
  HttpHeaders headers;        // sent with every request
  bool gzip = false;          // compress request bodies (Content-Encoding: gzip)
  std::string proxy;          // empty: connect directly (the *_proxy environment variables are ignored)
};

// Keys every HTTP sink accepts besides kCommonSinkKeys and its own.
inline constexpr std::array<std::string_view, 7> kHttpClientKeys = {"timeout", "connect_timeout", "tls",  "auth",
                                                                    "headers", "compression",     "proxy"};
// kHttpClientKeys followed by kCommonSinkKeys, for ConfigReader::only(…, also).
std::span<const std::string_view> http_sink_keys();

// Reads the shared keys:
//   timeout: 30s   connect_timeout: 5s   compression: none|gzip   proxy: "http://proxy:3128"
//   headers: {X-Team: soc}
//   auth: {user: u, password: p} | {bearer: TOKEN} | {api_key: KEY}   (api_key only where `api_key_scheme` is set)
//   tls: see tls_options.hpp
HttpClientOptions parse_http_client_options(const ConfigReader& r, std::string_view api_key_scheme = {});

// Checks a sink's URL (http:// or https://, a host, no credentials in it, `tls` only with https). Returns it
// without a trailing slash.
std::string check_http_url(const ConfigReader& r, const YAML::Node& at, std::string url, const TlsOptions& tls);
// `base` plus `path` unless base's path already ends with it (or `also` when given), e.g. the push endpoint.
std::string url_with_path(const std::string& base, std::string_view path, std::string_view also = {});
// Percent-encodes a query parameter value.
std::string url_encode(std::string_view s);

struct HttpResponse {
  long status = 0;
  std::string body;
};

class HttpClient {
 public:
  HttpClient(HttpClientOptions opts, std::string sink, Metrics& metrics);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // One request. Error codes: refused, resolve, timeout, tls, connection (dropped or reset), transport.
  // Counted in saker_http_requests_total{sink,status} (status: the HTTP code or the error code).
  Result<HttpResponse> send(std::string_view method, const std::string& url, std::string_view body,
                            std::string_view content_type, const HttpHeaders& extra = {});

 private:
  Counter& status_counter(const std::string& status);
  // The runner (or a sink's failover) reports the first failure at a URL; this logs each change of kind after it.
  void note_failure(const std::string& url, const std::string& kind, const std::string& message);

  HttpClientOptions opts_;
  std::string sink_;
  Metrics& metrics_;
  void* curl_ = nullptr;  // CURL*, kept for its connection cache
  std::string user_agent_;
  std::map<std::string, Counter*> counters_;
  std::map<std::string, std::string> failing_;  // URL -> kind of its last failure, until it answers 2xx
  Timing& duration_;
};

std::string gzip_compress(std::string_view data);
std::string gunzip(std::string_view data);  // for tests; empty on error
std::string base64_encode(std::string_view data);

// "HTTP 400: <the start of the body, on one line>", for logs and dead-letter reasons.
std::string http_status_summary(const HttpResponse& resp, std::size_t max_body = 512);

// Which alerts of a batch were already settled (delivered, or dead-lettered), so that when the runner hands the
// same batch again after an error only the rest is re-sent.
class BatchProgress {
 public:
  // Keeps the progress when `batch` is the batch being tracked (a retry); otherwise starts afresh.
  void begin(std::span<const AlertPtr> batch);
  std::vector<std::size_t> pending() const;
  void settle(std::size_t i) { done_[i] = true; }
  bool settled(std::size_t i) const { return done_[i]; }
  // The batch is finished: forget it.
  void clear();

 private:
  std::vector<AlertPtr> batch_;  // owning the alerts keeps a later batch from reusing their addresses
  std::vector<bool> done_;
};

// Positions [begin, end) into a list of records laid out back to back (record k: offsets[k]..offsets[k+1]).
struct Range {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t size() const noexcept { return end - begin; }
};

// Consecutive ranges of at most `max_bytes` each (a record larger than that is a range of its own; 0: no limit).
std::vector<Range> split_by_bytes(std::span<const std::size_t> offsets, std::uint64_t max_bytes);

struct RangeOutcome {
  enum Kind { done, retry, too_large } kind = done;
  Error error;                 // retry: why
  std::optional<Range> again;  // done: records of the range still to send now (e.g. after a partial rejection)
};

// Sends the ranges in order. A range answered too_large is halved and both halves are sent; a single record
// answered too_large goes to `reject_too_large`. Stops at the first retry and returns its error.
Result<bool> send_ranges(const std::vector<Range>& ranges, const std::function<RangeOutcome(Range)>& send,
                         const std::function<void(std::size_t)>& reject_too_large);

// The alerts one write() dead-letters: each goes to the sink's dead-letter file with "<prefix>: <why>" and is
// counted; log() then writes one line for the group (count and first reason) instead of one per alert.
class DeadLetterGroup {
 public:
  DeadLetterGroup(std::string prefix, Counter& counter) : prefix_(std::move(prefix)), counter_(counter) {}
  void begin() {
    count_ = 0;
    first_reason_.clear();
  }
  void add(const SinkContext& ctx, const Alert& alert, std::string_view why);
  void log(const SinkContext& ctx) const;

 private:
  std::string prefix_;
  Counter& counter_;
  std::size_t count_ = 0;
  std::string first_reason_;
};

}  // namespace saker
