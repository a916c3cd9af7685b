#pragma once
// The http source's request logic, free of any networking: routing, bearer-token checks, gzip inflation,
// NDJSON decoding and the JSON answers. The server (sources/http.cpp) feeds it parsed requests; one
// HttpHandler lives on each io thread, so its AlertIntake and scratch buffer are never shared.
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/decode.hpp"
#include "core/result.hpp"
#include "observe/metrics.hpp"
#include "observe/rate_limited_log.hpp"
#include "sources/source.hpp"

namespace saker {

// What every io thread's handler shares (read-only once the source is built).
struct HttpShared {
  std::string source;  // the source's name, a metric label
  Ingest& ingest;
  Metrics& metrics;
  DecodeLimits limits;
  std::uint64_t max_body = 1024 * 1024;
  std::uint64_t max_decompressed = 8 * 1024 * 1024;
  bool has_token = false;
  std::array<unsigned char, 32> token_digest{};  // SHA-256 of the token: compared in constant time
  std::string hostname;                          // for the /test alert
  bool reload_endpoint = false;                  // POST /-/reload
  mutable RateLimitedLog refusal_log;            // one line per refusal reason per minute

  HttpShared(std::string source_name, Ingest& in, Metrics& m)
      : source(std::move(source_name)), ingest(in), metrics(m) {}
  void set_token(std::string_view token);
};

enum class HttpRoute { None, Ingest, Test, Ping, Health, Live, Ready, Reload, Metrics };

// The parts of a request header the handler looks at (views into the server's parser).
struct HttpHead {
  std::string_view method;  // "GET", "POST", ...
  std::string_view target;  // "/", "/ping?x=1", ...
  std::string_view authorization;
  std::string_view content_encoding;
  std::string_view client;  // the peer's address, for log lines
};

struct HttpReply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;  // answer with Connection: close
};

// Inflates a gzip or zlib stream (several gzip members are concatenated) into `out`, refusing to produce
// more than `cap` bytes. Error codes: "too_large" (over the cap), "bad_encoding" (corrupt or truncated).
Result<bool> inflate_body(std::string_view in, std::uint64_t cap, std::string& out);

// A JSON error answer: {"error":"<code>","reason":"<reason>"}.
HttpReply http_error_reply(unsigned status, std::string_view code, std::string_view reason);

// The falcosidekick-style test alert that POST /test submits.
std::string http_test_alert_json(std::string_view hostname);

// At most this many refused lines are listed in a 400 answer (the rest are counted in "refused_total").
inline constexpr std::size_t kMaxListedRefusals = 100;

class HttpHandler {
 public:
  explicit HttpHandler(const HttpShared& shared);

  // Routes and authorises a request from its header alone. Returns the route to serve, or HttpRoute::None
  // with `reply` filled when the request is answered without its body (404, 405, 401).
  HttpRoute route(const HttpHead& head, HttpReply& reply) const;
  // Serves a routed request once its body has been read.
  HttpReply serve(HttpRoute route, const HttpHead& head, std::string_view body);
  // Counts an answer in saker_http_requests_total{source,code}.
  void count(unsigned status);

 private:
  HttpReply ingest(const HttpHead& head, std::string_view body);
  HttpReply submit_test();
  bool authorised(std::string_view authorization) const;

  const HttpShared& shared_;
  AlertIntake intake_;
  std::string scratch_;  // inflated bodies
  std::map<unsigned, Counter*> requests_;
};

}  // namespace saker
