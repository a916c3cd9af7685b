#include "sinks/http_client.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <zlib.h>

#include <algorithm>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/time.hpp"

namespace saker {
namespace {

constexpr std::size_t kMaxResponseBytes = 64 * 1024 * 1024;  // a bulk answer is ~200 bytes per item

const std::vector<std::string_view>& all_http_sink_keys() {
  static const std::vector<std::string_view> keys = [] {
    std::vector<std::string_view> v(kHttpClientKeys.begin(), kHttpClientKeys.end());
    v.insert(v.end(), kCommonSinkKeys.begin(), kCommonSinkKeys.end());
    return v;
  }();
  return keys;
}

CURL* handle(void* p) { return static_cast<CURL*>(p); }

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() + size * n > kMaxResponseBytes) return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  out->append(data, size * n);
  return size * n;
}

struct Slist {
  curl_slist* list = nullptr;
  ~Slist() { curl_slist_free_all(list); }
  void add(const std::string& s) { list = curl_slist_append(list, s.c_str()); }
};

// Maps libcurl's result to a stable code (a metric label) and the hint an operator needs.
std::pair<const char*, const char*> classify(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
      return {"refused", "connection refused or unreachable; is the server up and the url right?"};
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return {"resolve", "cannot resolve the host name; check the url"};
    case CURLE_OPERATION_TIMEDOUT:
      return {"timeout", "timed out; the server is slow or unreachable (see `timeout`, `connect_timeout`)"};
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
      return {"tls", "TLS handshake failed; check tls.ca, tls.cert/tls.key and tls.server_name"};
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return {"connection", "the connection was closed or reset before a complete answer"};
    case CURLE_WRITE_ERROR:
      return {"transport", "the answer was larger than 64 MiB"};
    default:
      return {"transport", "HTTP transport error"};
  }
}

// A password in a URL's userinfo (a proxy's) joins the secrets messages never show.
void add_url_password(ConfigErrors& errors, const std::string& url) {
  if (url.empty()) return;
  CURLU* u = curl_url();
  char* password = nullptr;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK && password) {
    errors.add_secret(password);
    char* decoded = nullptr;  // what it means, if it was percent-encoded
    if (curl_url_get(u, CURLUPART_PASSWORD, &decoded, CURLU_URLDECODE) == CURLUE_OK && decoded) {
      errors.add_secret(decoded);
    }
    curl_free(decoded);
  }
  curl_free(password);
  curl_url_cleanup(u);
}

}  // namespace

std::span<const std::string_view> http_sink_keys() { return all_http_sink_keys(); }

HttpClientOptions parse_http_client_options(const ConfigReader& r, std::string_view api_key_scheme) {
  HttpClientOptions o;
  o.timeout = r.duration("timeout", o.timeout);
  o.connect_timeout = r.duration("connect_timeout", o.connect_timeout);
  if (o.timeout.count() <= 0) r.errors.add(r.node["timeout"], r.key_name("timeout"), "must be more than 0");
  if (o.connect_timeout.count() <= 0) {
    r.errors.add(r.node["connect_timeout"], r.key_name("connect_timeout"), "must be more than 0");
  }
  const std::string compression = r.string("compression", "none");
  if (compression == "gzip") {
    o.gzip = true;
  } else if (compression != "none") {
    r.errors.add(r.node["compression"], r.key_name("compression"), "must be none or gzip");
  }
  o.proxy = r.string("proxy");
  add_url_password(r.errors, o.proxy);
  o.tls = parse_tls_options(r);
  if (r.has("headers")) {
    const YAML::Node h = r.node["headers"];
    if (!h.IsMap()) r.errors.add(h, r.key_name("headers"), "must be a map of header: value");
    for (const auto& kv : h.IsMap() ? h : YAML::Node()) {
      const std::string k = kv.first.as<std::string>(""), v = kv.second.IsScalar() ? kv.second.Scalar() : "";
      const bool bad_name = k.empty() || k.find_first_of(" :\r\n\t") != std::string::npos;
      if (bad_name || !kv.second.IsScalar() || v.find_first_of("\r\n") != std::string::npos) {
        r.errors.add(kv.first, r.key_name("headers"), fmt::format("\"{}\": not a valid header name and value", k));
        continue;
      }
      o.headers.emplace_back(k, v);
    }
  }
  if (!r.has("auth")) return o;
  const YAML::Node node = r.node["auth"];
  ConfigReader a{node, r.key_name("auth"), r.errors};
  if (!node.IsMap()) {
    r.errors.add(node, a.ctx, "must be a map: {user, password}, {bearer}" + std::string(api_key_scheme.empty() ? "" : " or {api_key}"));
    return o;
  }
  if (api_key_scheme.empty()) {
    a.only({"user", "password", "bearer"});
  } else {
    a.only({"user", "password", "bearer", "api_key"});
  }
  const int kinds = (a.has("user") || a.has("password")) + a.has("bearer") + a.has("api_key");
  if (kinds != 1) {
    r.errors.add(node, a.ctx, "give exactly one of: user and password, bearer" +
                                  std::string(api_key_scheme.empty() ? "" : ", api_key"));
  } else if (a.has("bearer")) {
    const std::string token = a.string("bearer");
    r.errors.add_secret(token);
    o.authorization = "Bearer " + token;
  } else if (a.has("api_key")) {
    const std::string key = a.string("api_key");
    r.errors.add_secret(key);
    o.authorization = fmt::format("{} {}", api_key_scheme, key);
  } else {
    const std::string user = a.string("user", "", true), password = a.string("password", "", true);
    const std::string credentials = base64_encode(user + ":" + password);
    r.errors.add_secret(password);
    r.errors.add_secret(credentials);
    o.authorization = "Basic " + credentials;
  }
  return o;
}

std::string check_http_url(const ConfigReader& r, const YAML::Node& at, std::string url, const TlsOptions& tls) {
  if (url.empty()) return url;  // already reported as required
  const std::string key = r.key_name("url");
  CURLU* u = curl_url();
  const CURLUcode rc = curl_url_set(u, CURLUPART_URL, url.c_str(), 0);
  char* scheme = nullptr;
  char* user = nullptr;
  if (rc != CURLUE_OK) {
    r.errors.add(at, key, fmt::format("\"{}\" is not a URL such as https://siem.example:9200", url));
  } else {
    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    curl_url_get(u, CURLUPART_USER, &user, 0);
    const std::string s = scheme ? scheme : "";
    if (s != "http" && s != "https") {
      r.errors.add(at, key, fmt::format("\"{}\": the scheme must be http or https", url));
    } else if (user) {
      r.errors.add(at, key, "must not contain credentials; use `auth`");
    } else if (s == "http" && tls.enabled) {
      r.errors.add(at, key, "`tls` is set but the url is http://; use https://");
    }
  }
  curl_free(scheme);
  curl_free(user);
  curl_url_cleanup(u);
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string url_with_path(const std::string& base, std::string_view path, std::string_view also) {
  const std::string_view b(base);
  if (b.ends_with(path) || (!also.empty() && b.ends_with(also))) return base;
  return base + std::string(path);
}

std::string url_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

HttpClient::HttpClient(HttpClientOptions opts, std::string sink, Metrics& metrics)
    : opts_(std::move(opts)),
      sink_(std::move(sink)),
      metrics_(metrics),
      user_agent_(fmt::format("saker/{}", SAKER_VERSION)),
      duration_(metrics.timing("saker_http_request_duration_seconds", "Time spent in HTTP requests, by sink",
                               {{"sink", sink_}})) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
  CURL* c = handle(curl_);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // timeouts must not use SIGALRM in a threaded daemon
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(opts_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opts_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_PROXY, opts_.proxy.c_str());  // "" disables the environment's proxies
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // accept and decode any compression libcurl knows
  curl_easy_setopt(c, CURLOPT_USERAGENT, user_agent_.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(c, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (!opts_.tls.ca.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, opts_.tls.ca.c_str());
  if (!opts_.tls.cert.empty()) curl_easy_setopt(c, CURLOPT_SSLCERT, opts_.tls.cert.c_str());
  if (!opts_.tls.key.empty()) curl_easy_setopt(c, CURLOPT_SSLKEY, opts_.tls.key.c_str());
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, opts_.tls.verify ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, opts_.tls.verify ? 2L : 0L);
}

HttpClient::~HttpClient() { curl_easy_cleanup(handle(curl_)); }

Counter& HttpClient::status_counter(const std::string& status) {
  auto it = counters_.find(status);
  if (it != counters_.end()) return *it->second;
  Counter& c = metrics_.counter("saker_http_requests_total", "HTTP requests of the HTTP sinks, by answer or transport error",
                                {{"sink", sink_}, {"status", status}});
  counters_.emplace(status, &c);
  return c;
}

void HttpClient::note_failure(const std::string& url, const std::string& kind, const std::string& message) {
  auto [it, fresh] = failing_.try_emplace(url, kind);
  if (!fresh && it->second != kind) spdlog::warn("sink {}: now failing with: {}", sink_, message);
  it->second = kind;
}

Result<HttpResponse> HttpClient::send(std::string_view method, const std::string& url, std::string_view body,
                                      std::string_view content_type, const HttpHeaders& extra) {
  CURL* c = handle(curl_);
  std::string target = url;
  Slist connect_to;
  // tls.server_name: connect to the URL's host but present (SNI) and verify the configured name.
  if (!opts_.tls.server_name.empty()) {
    CURLU* u = curl_url();
    char *host = nullptr, *port = nullptr;
    if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
      connect_to.add(fmt::format("{}:{}:{}:{}", opts_.tls.server_name, port, host, port));
      curl_url_set(u, CURLUPART_HOST, opts_.tls.server_name.c_str(), 0);
      char* rewritten = nullptr;
      if (curl_url_get(u, CURLUPART_URL, &rewritten, 0) == CURLUE_OK) target = rewritten;
      curl_free(rewritten);
    }
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
  }
  std::string compressed;
  if (opts_.gzip && !body.empty()) {
    compressed = gzip_compress(body);
    body = compressed;
  }
  Slist headers;
  headers.add("Expect:");  // no 100-continue round trip before large bodies
  if (!content_type.empty()) headers.add(fmt::format("Content-Type: {}", content_type));
  if (!compressed.empty()) headers.add("Content-Encoding: gzip");
  if (!opts_.authorization.empty()) headers.add("Authorization: " + opts_.authorization);
  for (const auto& [k, v] : opts_.headers) headers.add(k + ": " + v);
  for (const auto& [k, v] : extra) headers.add(k + ": " + v);

  HttpResponse resp;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, target.c_str());
  curl_easy_setopt(c, CURLOPT_CONNECT_TO, connect_to.list);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.list);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp.body);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  if (method == "GET" && body.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, nullptr);
  } else {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    const std::string m(method);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method == "POST" ? nullptr : m.c_str());
  }
  const std::int64_t start = now_ns();
  const CURLcode rc = curl_easy_perform(c);
  duration_.observe_ns(static_cast<std::uint64_t>(std::max<std::int64_t>(0, now_ns() - start)));
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(c, CURLOPT_CONNECT_TO, nullptr);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, nullptr);
  if (rc != CURLE_OK) {
    const auto [code, hint] = classify(rc);
    status_counter(code).inc();
    // With a proxy, "refused" or "cannot resolve" may be about the proxy: say which one was used.
    const std::string via = opts_.proxy.empty() ? "" : " via proxy " + opts_.proxy;
    std::string message =
        fmt::format("{} {}{}: {} ({})", method, url, via, hint, errbuf[0] ? errbuf : curl_easy_strerror(rc));
    note_failure(url, code, message);
    return make_error(code, std::move(message));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
  const std::string status = std::to_string(resp.status);
  status_counter(status).inc();
  if (resp.status >= 200 && resp.status < 300) {
    failing_.erase(url);
  } else {
    note_failure(url, status, fmt::format("{} {}: {}", method, url, http_status_summary(resp, 200)));
  }
  return resp;
}

std::string gzip_compress(std::string_view data) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);  // the bound guarantees one call finishes
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string gunzip(std::string_view data) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return {};
  std::string out;
  char buf[16384];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  }
  inflateEnd(&zs);
  return rc == Z_STREAM_END ? out : std::string();
}

std::string base64_encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string http_status_summary(const HttpResponse& resp, std::size_t max_body) {
  std::string body = resp.body.substr(0, max_body);
  std::replace_if(body.begin(), body.end(), [](char ch) { return ch == '\n' || ch == '\r'; }, ' ');
  while (!body.empty() && body.back() == ' ') body.pop_back();
  if (resp.body.size() > max_body) body += "…";
  return body.empty() ? fmt::format("HTTP {}", resp.status) : fmt::format("HTTP {}: {}", resp.status, body);
}

void BatchProgress::begin(std::span<const AlertPtr> batch) {
  const bool same = batch.size() == batch_.size() &&
                    std::equal(batch.begin(), batch.end(), batch_.begin(),
                               [](const AlertPtr& a, const AlertPtr& b) { return a.get() == b.get(); });
  if (same) return;
  batch_.assign(batch.begin(), batch.end());
  done_.assign(batch.size(), false);
}

std::vector<std::size_t> BatchProgress::pending() const {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < done_.size(); ++i) {
    if (!done_[i]) out.push_back(i);
  }
  return out;
}

void BatchProgress::clear() {
  batch_.clear();
  done_.clear();
}

std::vector<Range> split_by_bytes(std::span<const std::size_t> offsets, std::uint64_t max_bytes) {
  std::vector<Range> out;
  if (offsets.size() < 2) return out;
  const std::size_t n = offsets.size() - 1;
  std::size_t begin = 0;
  for (std::size_t k = 1; k < n; ++k) {
    if (max_bytes > 0 && offsets[k + 1] - offsets[begin] > max_bytes) {
      out.push_back({begin, k});
      begin = k;
    }
  }
  out.push_back({begin, n});
  return out;
}

Result<bool> send_ranges(const std::vector<Range>& ranges, const std::function<RangeOutcome(Range)>& send,
                         const std::function<void(std::size_t)>& reject_too_large) {
  std::deque<Range> work(ranges.begin(), ranges.end());
  while (!work.empty()) {
    const Range r = work.front();
    work.pop_front();
    if (r.size() == 0) continue;
    RangeOutcome out = send(r);
    switch (out.kind) {
      case RangeOutcome::retry:
        return out.error;
      case RangeOutcome::too_large:
        if (r.size() == 1) {
          reject_too_large(r.begin);
        } else {
          const std::size_t mid = r.begin + r.size() / 2;
          work.push_front({mid, r.end});
          work.push_front({r.begin, mid});
        }
        break;
      case RangeOutcome::done:
        if (out.again) work.push_front(*out.again);
        break;
    }
  }
  return true;
}

void DeadLetterGroup::add(const SinkContext& ctx, const Alert& alert, std::string_view why) {
  const std::string reason = prefix_ + ": " + std::string(why);
  ctx.dead_letters.add(alert, reason);
  counter_.inc();
  if (count_++ == 0) first_reason_ = reason;
}

void DeadLetterGroup::log(const SinkContext& ctx) const {
  if (count_ == 0) return;
  spdlog::warn("sink {}: {} alert(s) rejected for good, kept in {}: {}", ctx.name, count_, ctx.dead_letters.path(),
               first_reason_);
}

}  // namespace saker
