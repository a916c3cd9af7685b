#include "sources/http/handler.hpp"

#include <algorithm>
#include <cctype>
#include <climits>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "core/json_text.hpp"
#include "core/time.hpp"

namespace saker {

namespace {

std::array<unsigned char, 32> sha256(std::string_view s) {
  std::array<unsigned char, 32> d{};
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), d.data(), &len, EVP_sha256(), nullptr);
  return d;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

HttpReply method_not_allowed(std::string_view allow) {
  HttpReply r = http_error_reply(405, "method_not_allowed", fmt::format("use {} for this path", allow));
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

}  // namespace

void HttpShared::set_token(std::string_view token) {
  has_token = !token.empty();
  token_digest = sha256(token);
}

Result<bool> inflate_body(std::string_view in, std::uint64_t cap, std::string& out) {
  out.clear();
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return make_error("bad_encoding", "cannot initialise zlib");
  struct End {
    z_stream* z;
    ~End() { inflateEnd(z); }
  } end{&zs};

  unsigned char chunk[16384];
  const auto* next = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t left = in.size();
  for (;;) {
    if (zs.avail_in == 0 && left > 0) {
      const std::size_t n = std::min<std::size_t>(left, UINT_MAX);
      zs.next_in = const_cast<unsigned char*>(next);
      zs.avail_in = static_cast<uInt>(n);
      next += n;
      left -= n;
    }
    zs.next_out = chunk;
    zs.avail_out = sizeof chunk;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    const std::size_t produced = sizeof chunk - zs.avail_out;
    if (out.size() + produced > cap) {
      return make_error("too_large", fmt::format("body inflates to more than {} bytes (max_decompressed)", cap));
    }
    out.append(reinterpret_cast<const char*>(chunk), produced);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0 && left == 0) return true;
      inflateReset(&zs);  // another gzip member follows
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return make_error("bad_encoding", fmt::format("corrupt compressed body: {}", zs.msg ? zs.msg : "zlib error"));
    }
    if (zs.avail_in == 0 && left == 0 && zs.avail_out != 0) {
      return make_error("bad_encoding", "truncated compressed body");
    }
  }
}

HttpReply http_error_reply(unsigned status, std::string_view code, std::string_view reason) {
  HttpReply r;
  r.status = status;
  r.body = "{\"error\":";
  append_json_string(r.body, code);
  r.body += ",\"reason\":";
  append_json_string(r.body, reason);
  r.body += "}\n";
  return r;
}

std::string http_test_alert_json(std::string_view hostname) {
  std::string j = R"({"output":"This is a test from saker","priority":"Debug","rule":"Test rule","time":)";
  append_json_string(j, format_rfc3339_ns(now_ns()));
  j += R"(,"source":"saker","hostname":)";
  append_json_string(j, hostname);
  j += R"(,"output_fields":{"proc.name":"saker"},"tags":["test","example"]})";
  return j;
}

HttpHandler::HttpHandler(const HttpShared& shared)
    : shared_(shared), intake_(shared.source, shared.ingest, shared.metrics, shared.limits) {}

void HttpHandler::count(unsigned status) {
  auto it = requests_.find(status);
  if (it == requests_.end()) {
    Counter& c = shared_.metrics.counter("saker_http_requests_total", "HTTP requests answered, by source and status",
                                         {{"source", shared_.source}, {"code", std::to_string(status)}});
    it = requests_.emplace(status, &c).first;
  }
  it->second->inc();
}

bool HttpHandler::authorised(std::string_view authorization) const {
  if (!shared_.has_token) return true;
  authorization = trim(authorization);
  constexpr std::string_view kBearer = "bearer";
  if (authorization.size() <= kBearer.size() || !iequals(authorization.substr(0, kBearer.size()), kBearer) ||
      (authorization[kBearer.size()] != ' ' && authorization[kBearer.size()] != '\t')) {
    return false;
  }
  const auto given = sha256(trim(authorization.substr(kBearer.size())));
  return CRYPTO_memcmp(given.data(), shared_.token_digest.data(), given.size()) == 0;
}

HttpRoute HttpHandler::route(const HttpHead& head, HttpReply& reply) const {
  std::string_view path = head.target;
  if (const auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  const bool get = head.method == "GET";
  const bool post = head.method == "POST";

  const auto wrong_method = [&reply](std::string_view allow) {
    reply = method_not_allowed(allow);
    return HttpRoute::None;
  };
  HttpRoute route = HttpRoute::None;
  bool needs_token = true;
  if (path == "/") {
    if (!post) return wrong_method("POST");
    route = HttpRoute::Ingest;
  } else if (path == "/test") {
    if (!post) return wrong_method("POST");
    route = HttpRoute::Test;
  } else if (path == "/ping") {
    if (!get) return wrong_method("GET");
    route = HttpRoute::Ping;
    needs_token = false;
  } else if (path == "/healthz") {
    if (!get) return wrong_method("GET");
    route = HttpRoute::Health;
    needs_token = false;
  } else if (path == "/livez") {
    if (!get) return wrong_method("GET");
    route = HttpRoute::Live;
    needs_token = false;
  } else if (path == "/readyz") {
    if (!get) return wrong_method("GET");
    route = HttpRoute::Ready;
    needs_token = false;
  } else if (path == "/-/reload" && shared_.reload_endpoint) {
    if (!post) return wrong_method("POST");
    route = HttpRoute::Reload;
  } else if (path == "/metrics") {
    if (!get) return wrong_method("GET");
    route = HttpRoute::Metrics;
  } else {
    reply = http_error_reply(404, "not_found", "unknown path: POST alerts to /");
    return HttpRoute::None;
  }
  if (needs_token && !authorised(head.authorization)) {
    reply = http_error_reply(401, "unauthorized", "missing or wrong bearer token (Authorization: Bearer <token>)");
    reply.headers.emplace_back("WWW-Authenticate", head.authorization.empty()
                                                       ? R"(Bearer realm="saker")"
                                                       : R"(Bearer realm="saker", error="invalid_token")");
    return HttpRoute::None;
  }
  return route;
}

HttpReply HttpHandler::serve(HttpRoute route, const HttpHead& head, std::string_view body) {
  switch (route) {
    case HttpRoute::Ingest:
      return ingest(head, body);
    case HttpRoute::Test:
      return submit_test();
    case HttpRoute::Ping: {
      HttpReply r;
      r.content_type = "text/plain; charset=utf-8";
      r.body = "pong\n";
      return r;
    }
    case HttpRoute::Health: {
      // falcosidekick's contract: {"status":"ok"} while saker runs; the sinks' state rides along.
      bool healthy = true;
      HttpReply r;
      r.body = shared_.ingest.health(healthy);
      return r;
    }
    case HttpRoute::Live: {
      HttpReply r;
      r.body = "{\"status\":\"alive\"}\n";
      return r;
    }
    case HttpRoute::Ready: {
      bool ready = true;
      HttpReply r;
      r.body = shared_.ingest.readiness(ready);
      r.status = ready ? 200 : 503;
      return r;
    }
    case HttpRoute::Reload: {
      HttpReply r;
      if (!shared_.ingest.request_reload()) {
        return http_error_reply(503, "reload_unavailable", "this process cannot reload (it runs no config file)");
      }
      r.status = 202;
      r.body = "{\"reload\":\"requested\"}\n";
      return r;
    }
    case HttpRoute::Metrics: {
      HttpReply r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = shared_.metrics.render();
      return r;
    }
    case HttpRoute::None:
      break;
  }
  return http_error_reply(404, "not_found", "unknown path: POST alerts to /");
}

HttpReply HttpHandler::submit_test() {
  auto r = intake_.add_test(http_test_alert_json(shared_.hostname));
  if (!r) {
    intake_.discard();
    return http_error_reply(500, r.error().code, r.error().message);
  }
  if (!intake_.flush()) {
    intake_.discard();
    HttpReply busy = http_error_reply(503, "busy", "sinks are full; retry later");
    busy.headers.emplace_back("Retry-After", "1");
    return busy;
  }
  HttpReply ok;
  ok.body = "{\"accepted\":1}\n";
  return ok;
}

HttpReply HttpHandler::ingest(const HttpHead& head, std::string_view body) {
  const std::string_view enc = trim(head.content_encoding);
  std::string_view text = body;
  if (iequals(enc, "gzip") || iequals(enc, "x-gzip") || iequals(enc, "deflate")) {
    auto r = inflate_body(body, shared_.max_decompressed, scratch_);
    if (!r) {
      scratch_.clear();
      if (scratch_.capacity() > 1024 * 1024) std::string().swap(scratch_);
      return http_error_reply(r.error().code == "too_large" ? 413 : 400, r.error().code, r.error().message);
    }
    text = scratch_;
  } else if (!enc.empty() && !iequals(enc, "identity")) {
    return http_error_reply(
        415, "unsupported_encoding",
        fmt::format("Content-Encoding \"{}\" is not supported: use gzip or none", enc.substr(0, 64)));
  }

  struct Refusal {
    std::size_t line;
    Error error;
  };
  std::vector<Refusal> refused;
  std::size_t refused_total = 0;
  std::size_t accepted = 0;
  std::size_t alerts = 0;
  const auto take = [&](std::size_t line, std::string_view json) {
    ++alerts;
    auto r = intake_.add(json);
    if (r) {
      ++accepted;
      return;
    }
    ++refused_total;
    std::uint64_t held = 0;
    if (shared_.refusal_log.should_log(r.error().code, held)) {
      spdlog::warn("http source {}: refused an alert from {}: {}: {}{}", shared_.source,
                   head.client.empty() ? "?" : head.client, r.error().code, r.error().message,
                   held ? fmt::format(" ({} more refused for this reason since the last such line)", held) : "");
    }
    if (refused.size() < kMaxListedRefusals) refused.push_back({line, r.error()});
  };

  // One alert, NDJSON, or one pretty-printed alert (its first line is just "{").
  std::size_t pos = 0;
  std::size_t line = 0;
  bool first = true;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    const std::string_view raw = text.substr(pos, end - pos);
    ++line;
    pos = end + 1;
    const std::string_view t = trim(raw);
    if (t.empty()) continue;
    if (first && t == "{") {
      take(line, text.substr(raw.data() - text.data()));
      break;
    }
    first = false;
    take(line, t);
  }

  if (scratch_.capacity() > 1024 * 1024) std::string().swap(scratch_);  // keep idle threads small
  if (alerts == 0) return http_error_reply(400, "empty_body", "no alert in the body: send one JSON alert or NDJSON");

  if (!intake_.flush()) {
    intake_.discard();
    HttpReply busy = http_error_reply(503, "busy", "sinks are full; retry later");
    busy.headers.emplace_back("Retry-After", "1");
    return busy;
  }
  HttpReply r;
  r.body = fmt::format("{{\"accepted\":{}", accepted);
  if (!refused.empty()) {
    r.status = 400;
    r.body += ",\"refused\":[";
    for (std::size_t i = 0; i < refused.size(); ++i) {
      if (i) r.body += ',';
      r.body += fmt::format("{{\"line\":{},\"code\":", refused[i].line);
      append_json_string(r.body, refused[i].error.code);
      r.body += ",\"reason\":";
      append_json_string(r.body, refused[i].error.message);
      r.body += '}';
    }
    r.body += ']';
    if (refused_total > refused.size()) r.body += fmt::format(",\"refused_total\":{}", refused_total);
  }
  r.body += "}\n";
  return r;
}

}  // namespace saker
