// The http source end to end: a real server on an ephemeral port, a fake Ingest, and small Beast clients.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <yaml-cpp/yaml.h>
#include <zlib.h>

#include "sources/http.hpp"
#include "pipeline/config.hpp"
#include "sources/http/handler.hpp"

using namespace saker;
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view kAlert1 =
    R"({"rule":"Read sensitive file","priority":"Warning","output":"one","time":"2024-05-07T18:54:19.341081180Z","output_fields":{"proc.name":"cat"}})";
constexpr std::string_view kAlert2 =
    R"({"rule":"Shell in container","priority":"Notice","output":"two","output_fields":{"proc.name":"bash"}})";
constexpr std::string_view kAlert3 = R"({"rule":"Third","priority":"Critical","output":"three"})";
constexpr std::string_view kNoRule = R"({"priority":"Warning","output":"no rule here"})";

class FakeIngest : public Ingest {
 public:
  bool submit(std::vector<AlertPtr>& batch) override {
    if (full.load()) return false;
    std::lock_guard lock(mu_);
    for (auto& a : batch) alerts_.push_back(std::move(a));
    batch.clear();
    ++batches_;
    return true;
  }
  std::string health(bool& healthy) const override {
    healthy = healthy_.load();
    return healthy ? R"({"status":"ok"})" : R"({"status":"failing","sinks":{"x":"down"}})";
  }
  std::vector<AlertPtr> alerts() const {
    std::lock_guard lock(mu_);
    return alerts_;
  }
  std::size_t count() const {
    std::lock_guard lock(mu_);
    return alerts_.size();
  }
  std::atomic<bool> full{false};
  std::atomic<bool> healthy_{true};

 private:
  mutable std::mutex mu_;
  std::vector<AlertPtr> alerts_;
  int batches_ = 0;
};

struct Server {
  Metrics metrics;
  FakeIngest ingest;
  ConfigErrors errors{"test.yaml"};
  std::unique_ptr<Source> source;
  HttpSource* http = nullptr;
  std::uint16_t port = 0;

  explicit Server(const std::string& extra_yaml = "", bool start = true) {
    const YAML::Node node = YAML::Load("{type: http, listen: '127.0.0.1:0'" + extra_yaml + "}");
    const ConfigReader r{node, "sources[0]", errors};
    SourceBuilder builder = parse_http_source(r);
    EXPECT_TRUE(errors.empty()) << errors.to_string();
    SourceContext ctx{"http", ingest, metrics, DecodeLimits{}, ""};
    source = builder(ctx);
    http = dynamic_cast<HttpSource*>(source.get());
    if (start) {
      auto st = source->start();
      EXPECT_TRUE(st) << (st ? "" : st.error().message);
      port = http->port();
      EXPECT_NE(port, 0);
    }
  }
  std::uint64_t requests(unsigned code) const {
    return metrics.counter_value("saker_http_requests_total", {{"source", "http"}, {"code", std::to_string(code)}});
  }
};

using Response = http::response<http::string_body>;
using Request = http::request<http::string_body>;

void set_timeouts(int fd) {
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

Request make_request(http::verb verb, std::string target, std::string body = {},
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
  Request req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (auto& [k, v] : headers) req.set(k, v);
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

// A plain HTTP/1.1 client on one connection (keep-alive).
class Client {
 public:
  explicit Client(std::uint16_t port) : sock_(ioc_) {
    sock_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    set_timeouts(sock_.native_handle());
  }
  Response send(const Request& req) {
    http::write(sock_, req);
    return read();
  }
  Response read() {
    Response res;
    http::read(sock_, buf_, res);
    return res;
  }
  Response post(std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
    return send(make_request(http::verb::post, "/", std::move(body), std::move(headers)));
  }
  Response get(std::string target) { return send(make_request(http::verb::get, std::move(target))); }
  tcp::socket& socket() { return sock_; }
  // True when the server closed the connection (reads end in EOF or a reset; a TLS alert before is fine).
  bool closed_by_server() {
    char buf[4096];
    for (int i = 0; i < 16; ++i) {
      beast::error_code ec;
      sock_.read_some(net::buffer(buf), ec);
      if (ec) return ec == net::error::eof || ec == net::error::connection_reset;
    }
    return false;
  }

 private:
  net::io_context ioc_;
  tcp::socket sock_;
  beast::flat_buffer buf_;
};

std::string ndjson(std::initializer_list<std::string_view> lines) {
  std::string s;
  for (auto l : lines) s.append(l).push_back('\n');
  return s;
}

std::string gzip(std::string_view in, std::size_t repeat = 1) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out;
  unsigned char buf[65536];
  for (std::size_t i = 0; i < repeat; ++i) {
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    const int flush = i + 1 == repeat ? Z_FINISH : Z_NO_FLUSH;
    int rc;
    do {
      zs.next_out = buf;
      zs.avail_out = sizeof buf;
      rc = deflate(&zs, flush);
      out.append(reinterpret_cast<char*>(buf), sizeof buf - zs.avail_out);
    } while (zs.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
  }
  deflateEnd(&zs);
  return out;
}

bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds limit = 3000ms) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

// ---- throwaway PKI --------------------------------------------------------------------------------------

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int n = 0;
    path = std::filesystem::temp_directory_path() /
           ("saker-http-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

struct KeyCert {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  KeyCert() = default;
  KeyCert(const KeyCert&) = delete;
  KeyCert& operator=(const KeyCert&) = delete;
  ~KeyCert() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A CA when `issuer` is null, else a leaf signed by it.
void make_cert(KeyCert& out, const char* cn, const KeyCert* issuer) {
  static long serial = 1;
  out.key = EVP_EC_gen("P-256");
  ASSERT_NE(out.key, nullptr);
  out.cert = X509_new();
  X509_set_version(out.cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(out.cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(out.cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(out.cert), 24 * 3600);
  X509_set_pubkey(out.cert, out.key);
  X509_NAME* name = X509_get_subject_name(out.cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(out.cert, issuer ? X509_get_subject_name(issuer->cert) : name);
  X509* signer_cert = issuer ? issuer->cert : out.cert;
  if (issuer) {
    add_ext(out.cert, signer_cert, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(out.cert, signer_cert, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
  } else {
    add_ext(out.cert, signer_cert, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(out.cert, signer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  }
  ASSERT_GT(X509_sign(out.cert, issuer ? issuer->key : out.key, EVP_sha256()), 0);
}

void write_pem(const KeyCert& kc, const std::string& cert_path, const std::string& key_path) {
  FILE* f = std::fopen(cert_path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  PEM_write_X509(f, kc.cert);
  std::fclose(f);
  if (key_path.empty()) return;
  f = std::fopen(key_path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  PEM_write_PrivateKey(f, kc.key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
}

struct Pki {
  TempDir dir;
  KeyCert ca, server, client, other_ca, other_client;
  Pki() {
    make_cert(ca, "saker test CA", nullptr);
    make_cert(server, "127.0.0.1", &ca);
    make_cert(client, "falco", &ca);
    make_cert(other_ca, "someone else's CA", nullptr);
    make_cert(other_client, "intruder", &other_ca);
    write_pem(ca, dir.file("ca.pem"), "");
    write_pem(server, dir.file("server.pem"), dir.file("server.key"));
    write_pem(client, dir.file("client.pem"), dir.file("client.key"));
    write_pem(other_client, dir.file("other.pem"), dir.file("other.key"));
  }
  std::string tls_yaml(bool mutual) const {
    std::string s = ", tls: {cert: '" + dir.file("server.pem") + "', key: '" + dir.file("server.key") + "'";
    if (mutual) s += ", client_ca: '" + dir.file("ca.pem") + "'";
    return s + "}";
  }
};

// One request over TLS; `client_cert` "" for none, else the base name of a cert/key pair in the PKI dir.
Response tls_request(const Pki& pki, std::uint16_t port, const std::string& client_cert, const Request& req) {
  net::io_context ioc;
  ssl::context ctx(ssl::context::tls_client);
  ctx.load_verify_file(pki.dir.file("ca.pem"));
  ctx.set_verify_mode(ssl::verify_peer);
  if (!client_cert.empty()) {
    ctx.use_certificate_chain_file(pki.dir.file(client_cert + ".pem"));
    ctx.use_private_key_file(pki.dir.file(client_cert + ".key"), ssl::context::pem);
  }
  ssl::stream<tcp::socket> stream(ioc, ctx);
  stream.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  set_timeouts(stream.next_layer().native_handle());
  stream.handshake(ssl::stream_base::client);
  http::write(stream, req);
  beast::flat_buffer buf;
  Response res;
  http::read(stream, buf, res);
  beast::error_code ec;
  stream.shutdown(ec);
  return res;
}

}  // namespace

// ---- config ----------------------------------------------------------------------------------------------

TEST(HttpSourceConfig, DefaultsAndAllKeys) {
  ConfigErrors errors("test.yaml");
  const YAML::Node ok = YAML::Load(
      "{type: http, name: falco-in, listen: ':9000', max_body: 2MiB, max_decompressed: 16MiB, token: abc,"
      " threads: 4, max_connections: 10, idle_timeout: 5s, header_timeout: 2s}");
  EXPECT_TRUE(static_cast<bool>(parse_http_source(ConfigReader{ok, "sources[0]", errors})));
  EXPECT_TRUE(errors.empty()) << errors.to_string();

  const YAML::Node minimal = YAML::Load("{type: http}");
  EXPECT_TRUE(static_cast<bool>(parse_http_source(ConfigReader{minimal, "sources[0]", errors})));
  EXPECT_TRUE(errors.empty()) << errors.to_string();
}

TEST(HttpSourceConfig, ReportsEveryBadKey) {
  ConfigErrors errors("test.yaml");
  const YAML::Node bad = YAML::Load(
      "{type: http, listen: nope, max_body: lots, max_decompressed: 10, token: 'a b', threads: 0,\n"
      " max_connections: -1, idle_timeout: forever, tls: {cert: c.pem}, listne: x, header_timeout: 1ms}");
  parse_http_source(ConfigReader{bad, "sources[0]", errors});
  const std::string all = errors.to_string();
  for (const char* key : {"sources[0].listen", "sources[0].max_body", "sources[0].max_decompressed", "sources[0].token",
                          "sources[0].threads", "sources[0].max_connections", "sources[0].idle_timeout",
                          "sources[0].header_timeout", "sources[0].tls.key", "sources[0].listne"}) {
    EXPECT_NE(all.find(key), std::string::npos) << key << " missing in:\n" << all;
  }
  EXPECT_NE(all.find("did you mean \"listen\""), std::string::npos) << all;
  EXPECT_NE(all.find("test.yaml:1:"), std::string::npos) << all;  // positions are reported
}

TEST(HttpSourceConfig, TlsMustBeAMap) {
  ConfigErrors errors("test.yaml");
  const YAML::Node bad = YAML::Load("{type: http, tls: yes}");
  parse_http_source(ConfigReader{bad, "sources[0]", errors});
  EXPECT_NE(errors.to_string().find("sources[0].tls"), std::string::npos) << errors.to_string();
}

// ---- handler pieces --------------------------------------------------------------------------------------

TEST(HttpHandler, InflatesGzipAndRefusesBombsAndGarbage) {
  std::string out;
  const std::string text = ndjson({kAlert1, kAlert2});
  ASSERT_TRUE(inflate_body(gzip(text), 1 << 20, out));
  EXPECT_EQ(out, text);
  // Two gzip members back to back are one body.
  ASSERT_TRUE(inflate_body(gzip(text) + gzip(text), 1 << 20, out));
  EXPECT_EQ(out, text + text);

  const std::string zeros(1 << 20, '\0');
  const auto bomb = inflate_body(gzip(zeros, 10), 1 << 20, out);
  ASSERT_FALSE(bomb);
  EXPECT_EQ(bomb.error().code, "too_large");

  EXPECT_EQ(inflate_body("definitely not gzip", 1 << 20, out).error().code, "bad_encoding");
  const std::string g = gzip(text);
  EXPECT_EQ(inflate_body(std::string_view(g).substr(0, g.size() / 2), 1 << 20, out).error().code, "bad_encoding");
}

TEST(HttpHandler, ErrorRepliesAreEscapedJson) {
  const HttpReply r = http_error_reply(400, "bad", "a \"quoted\"\nline");
  EXPECT_EQ(r.body, "{\"error\":\"bad\",\"reason\":\"a \\\"quoted\\\"\\nline\"}\n");
}

// ---- server ----------------------------------------------------------------------------------------------

TEST(HttpSource, AcceptsOneAlert) {
  Server s;
  Client c(s.port);
  const Response res = c.post(std::string(kAlert1), {{"Content-Type", "application/json"}});
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res.body(), "{\"accepted\":1}\n");
  EXPECT_EQ(res[http::field::content_type], "application/json");
  const auto alerts = s.ingest.alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0]->rule, "Read sensitive file");
  EXPECT_EQ(alerts[0]->priority, Priority::Warning);
  EXPECT_EQ(s.requests(200), 1u);
}

TEST(HttpSource, AcceptsTheSampleAlerts) {
  // Real Falco and falcosidekick alerts, copied into the repository with their sources (SOURCES.md there).
  const std::filesystem::path dir = std::filesystem::path(SAKER_SOURCE_DIR) / "tests" / "data" / "sample_alerts";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  Server s;
  Client c(s.port);
  std::string all;
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const Response res = c.post(text);  // one alert per request, as Falco sends them
    EXPECT_EQ(res.result_int(), 200u) << entry.path().filename() << ": " << res.body();
    all += text;
    if (all.back() != '\n') all += '\n';
    ++n;
  }
  ASSERT_GT(n, 0u);
  const Response res = c.post(gzip(all), {{"Content-Encoding", "gzip"}});  // and all of them as gzipped NDJSON
  EXPECT_EQ(res.body(), "{\"accepted\":" + std::to_string(n) + "}\n");
  EXPECT_EQ(s.ingest.count(), 2 * n);
}

TEST(HttpSource, NdjsonWithABadLineAnswers400AndKeepsTheGoodOnes) {
  Server s;
  Client c(s.port);
  const Response res = c.post(std::string(kAlert1) + "\n" + std::string(kNoRule) + "\r\n\n" + std::string(kAlert3));
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_NE(res.body().find(R"("accepted":2)"), std::string::npos) << res.body();
  EXPECT_NE(res.body().find(R"({"line":2,"code":"missing_rule","reason":")"), std::string::npos) << res.body();
  ASSERT_EQ(s.ingest.count(), 2u);
  EXPECT_EQ(s.ingest.alerts()[1]->rule, "Third");
  EXPECT_EQ(s.metrics.counter_value("saker_alerts_refused_total", {{"source", "http"}, {"reason", "missing_rule"}}),
            1u);
  // Line numbers count blank lines; garbage is named too.
  const Response res2 = c.post("\n" + std::string(kAlert2) + "\nnot json at all\n");
  EXPECT_EQ(res2.result_int(), 400u);
  EXPECT_NE(res2.body().find(R"({"line":3,"code":"invalid_json")"), std::string::npos) << res2.body();
  EXPECT_EQ(s.ingest.count(), 3u);
}

TEST(HttpSource, AcceptsNdjsonAndAPrettyPrintedAlert) {
  Server s;
  Client c(s.port);
  Response res = c.post(ndjson({kAlert1, kAlert2, kAlert3}) + "\n\n");
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res.body(), "{\"accepted\":3}\n");
  res =
      c.post("{\n  \"rule\": \"Pretty\",\n  \"priority\": \"Error\",\n  \"output_fields\": {\n    \"a\": 1\n  }\n}\n");
  EXPECT_EQ(res.result_int(), 200u) << res.body();
  ASSERT_EQ(s.ingest.count(), 4u);
  EXPECT_EQ(s.ingest.alerts()[3]->rule, "Pretty");
  res = c.post("  \n\n");
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_NE(res.body().find("empty_body"), std::string::npos);
}

TEST(HttpSource, AcceptsGzipBodies) {
  Server s;
  Client c(s.port);
  const Response res = c.post(gzip(ndjson({kAlert1, kAlert2})), {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(res.result_int(), 200u) << res.body();
  EXPECT_EQ(res.body(), "{\"accepted\":2}\n");
  EXPECT_EQ(s.ingest.count(), 2u);

  const Response bad = c.post("not gzip", {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(bad.result_int(), 400u);
  EXPECT_NE(bad.body().find("bad_encoding"), std::string::npos);
  const Response br = c.post(std::string(kAlert1), {{"Content-Encoding", "br"}});
  EXPECT_EQ(br.result_int(), 415u);
  EXPECT_EQ(s.ingest.count(), 2u);
}

TEST(HttpSource, GzipBombIs413) {
  Server s(", max_decompressed: 1MiB");
  Client c(s.port);
  const std::string zeros(1 << 20, ' ');
  const std::string bomb = gzip(zeros, 4);  // 4 MiB of spaces in a few KiB
  ASSERT_LT(bomb.size(), 64u * 1024);
  const Response res = c.post(bomb, {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(res.result_int(), 413u);
  EXPECT_NE(res.body().find("max_decompressed"), std::string::npos) << res.body();
  EXPECT_EQ(s.ingest.count(), 0u);
  // The connection is still usable.
  EXPECT_EQ(c.post(std::string(kAlert1)).result_int(), 200u);
}

TEST(HttpSource, BodyOverMaxBodyIs413) {
  Server s(", max_body: 4KiB");
  {
    Client c(s.port);
    std::string big = std::string(kAlert1);
    big.insert(big.size() - 1, ",\"pad\":\"" + std::string(5000, 'x') + "\"");
    const Response res = c.post(big);
    EXPECT_EQ(res.result_int(), 413u);
    EXPECT_NE(res.body().find("max_body"), std::string::npos) << res.body();
    EXPECT_FALSE(res.keep_alive());
  }
  {
    // Chunked, so the size is only known while reading.
    Client c(s.port);
    Request req = make_request(http::verb::post, "/", std::string(6000, ' ') + std::string(kAlert1));
    req.chunked(true);
    const Response res = c.send(req);
    EXPECT_EQ(res.result_int(), 413u);
  }
  EXPECT_EQ(s.ingest.count(), 0u);
  Client c(s.port);
  EXPECT_EQ(c.post(std::string(kAlert1)).result_int(), 200u);
}

TEST(HttpSource, FullSinksAnswer503WithRetryAfter) {
  Server s;
  Client c(s.port);
  s.ingest.full = true;
  Response res = c.post(ndjson({kAlert1, kAlert2}));
  EXPECT_EQ(res.result_int(), 503u);
  EXPECT_EQ(res[http::field::retry_after], "1");
  EXPECT_NE(res.body().find("busy"), std::string::npos);
  EXPECT_EQ(s.ingest.count(), 0u);
  s.ingest.full = false;
  res = c.post(ndjson({kAlert3}));  // the discarded batch does not come back
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res.body(), "{\"accepted\":1}\n");
  ASSERT_EQ(s.ingest.count(), 1u);
  EXPECT_EQ(s.ingest.alerts()[0]->rule, "Third");
}

TEST(HttpSource, BearerTokenIsRequired) {
  Server s(", token: s3cret-token");
  const auto refused = [&](std::vector<std::pair<std::string, std::string>> headers) {
    Client c(s.port);  // a 401 to a request with a body closes the connection: its body is never read
    Response res = c.post(std::string(kAlert1), std::move(headers));
    EXPECT_FALSE(res.keep_alive());
    EXPECT_NE(std::string(res[http::field::www_authenticate]).find("Bearer"), std::string::npos);
    EXPECT_TRUE(c.closed_by_server());
    return res.result_int();
  };
  EXPECT_EQ(refused({}), 401u);
  EXPECT_EQ(refused({{"Authorization", "Bearer wrong"}}), 401u);
  EXPECT_EQ(refused({{"Authorization", "Basic czNjcmV0LXRva2Vu"}}), 401u);
  EXPECT_EQ(s.ingest.count(), 0u);
  Client c(s.port);
  Response res = c.post(std::string(kAlert1), {{"Authorization", "Bearer s3cret-token"}});
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(s.ingest.count(), 1u);
  res = c.get("/metrics");  // no body: the connection stays open
  EXPECT_EQ(res.result_int(), 401u);
  EXPECT_TRUE(res.keep_alive());
  EXPECT_EQ(c.get("/ping").result_int(), 200u);  // liveness stays open
  EXPECT_EQ(c.get("/healthz").result_int(), 200u);
  EXPECT_EQ(s.requests(401), 4u);
}

TEST(HttpSource, PingHealthzMetricsAndTest) {
  Server s;
  Client c(s.port);
  Response res = c.get("/ping");
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res.body(), "pong\n");

  res = c.get("/healthz");
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res.body(), R"({"status":"ok"})");
  s.ingest.healthy_ = false;
  res = c.get("/healthz");  // falcosidekick's contract: 200 while saker runs; the failing sink is in the body
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_NE(res.body().find("failing"), std::string::npos);
  res = c.get("/livez");
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res.body(), "{\"status\":\"alive\"}\n");
  res = c.get("/readyz");
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(c.send(make_request(http::verb::post, "/-/reload")).result_int(), 404u);  // not enabled

  res = c.send(make_request(http::verb::post, "/test"));
  EXPECT_EQ(res.result_int(), 200u) << res.body();
  const auto alerts = s.ingest.alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0]->rule, "Test rule");
  EXPECT_EQ(alerts[0]->priority, Priority::Debug);
  EXPECT_EQ(alerts[0]->output, "This is a test from saker");
  EXPECT_EQ(alerts[0]->source, "saker");
  EXPECT_FALSE(alerts[0]->hostname.empty());
  EXPECT_FALSE(alerts[0]->time_text.empty());
  ASSERT_NE(alerts[0]->find_field("proc.name"), nullptr);
  EXPECT_EQ(alerts[0]->find_field("proc.name")->value.text, "saker");
  EXPECT_TRUE(alerts[0]->is_test);  // every sink takes it, whatever its route
  ASSERT_NE(alerts[0]->find_added("saker.test"), nullptr);

  res = c.get("/metrics");
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(res.body().find(R"(saker_http_requests_total{source="http",code="200"} )"), std::string::npos)
      << res.body();
  EXPECT_NE(res.body().find(R"(saker_http_requests_total{source="http",code="404"} 1)"), std::string::npos);
  EXPECT_NE(res.body().find(R"(saker_http_connections{source="http"} 1)"), std::string::npos);
}

TEST(HttpSource, UnknownPathIs404AndWrongMethodIs405) {
  Server s;
  Client c(s.port);
  Response res = c.get("/nope");
  EXPECT_EQ(res.result_int(), 404u);
  EXPECT_NE(res.body().find("not_found"), std::string::npos);
  res = c.get("/");
  EXPECT_EQ(res.result_int(), 405u);
  EXPECT_EQ(res[http::field::allow], "POST");
  res = c.send(make_request(http::verb::delete_, "/ping"));
  EXPECT_EQ(res.result_int(), 405u);
  EXPECT_EQ(res[http::field::allow], "GET");
  EXPECT_EQ(c.post(std::string(kAlert2)).result_int(), 200u);
  EXPECT_EQ(s.ingest.count(), 1u);
  // A POST with a body to an unknown path: answered from the header, the body is never read, the connection closes.
  res = c.send(make_request(http::verb::post, "/elsewhere", std::string(kAlert1)));
  EXPECT_EQ(res.result_int(), 404u);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(c.closed_by_server());
  Client c2(s.port);
  // With Expect: 100-continue the body is never asked for: the answer closes the connection.
  res = c2.send(make_request(http::verb::put, "/", std::string(kAlert1), {{"Expect", "100-continue"}}));
  EXPECT_EQ(res.result_int(), 405u);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_EQ(s.ingest.count(), 1u);
}

TEST(HttpSource, KeepAliveServesManyRequestsOnOneConnection) {
  Server s;
  Client c(s.port);
  for (int i = 0; i < 20; ++i) {
    const Response res = i % 3 == 2 ? c.post(std::string(kNoRule)) : c.post(std::string(kAlert2));
    EXPECT_EQ(res.result_int(), i % 3 == 2 ? 400u : 200u);
    EXPECT_TRUE(res.keep_alive());
  }
  EXPECT_EQ(c.get("/ping").body(), "pong\n");
  EXPECT_EQ(s.ingest.count(), 14u);

  // Pipelined: two requests written before reading either answer.
  std::string two;
  for (auto alert : {kAlert1, kAlert3}) {
    two += "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(alert.size()) + "\r\n\r\n";
    two += alert;
  }
  net::write(c.socket(), net::buffer(two));
  EXPECT_EQ(c.read().result_int(), 200u);
  EXPECT_EQ(c.read().result_int(), 200u);
  EXPECT_EQ(s.ingest.count(), 16u);
}

TEST(HttpSource, ManyConcurrentConnections) {
  Server s(", threads: 3");
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      Client c(s.port);
      for (int i = 0; i < 25; ++i) ok += c.post(ndjson({kAlert1, kAlert2})).result_int() == 200;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 200);
  EXPECT_EQ(s.ingest.count(), 400u);
}

TEST(HttpSource, AnswersExpect100Continue) {
  Server s;
  Client c(s.port);
  const std::string body = ndjson({kAlert1});
  const std::string head =
      "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n";
  net::write(c.socket(), net::buffer(head));
  std::string got;
  char buf[256];
  while (got.find("\r\n\r\n") == std::string::npos) {
    const std::size_t n = c.socket().read_some(net::buffer(buf));  // a timeout here throws
    got.append(buf, n);
  }
  EXPECT_EQ(got, "HTTP/1.1 100 Continue\r\n\r\n");
  net::write(c.socket(), net::buffer(body));
  EXPECT_EQ(c.read().result_int(), 200u);
  EXPECT_EQ(s.ingest.count(), 1u);
}

TEST(HttpSource, MalformedRequestsDoNotHurtTheServer) {
  Server s;
  {
    Client c(s.port);
    net::write(c.socket(), net::buffer(std::string("GARBAGE\x01 / HTTP/9\r\n\r\n")));
    const Response res = c.read();
    EXPECT_EQ(res.result_int(), 400u);
    EXPECT_FALSE(res.keep_alive());
  }
  {
    Client c(s.port);  // header too large
    net::write(c.socket(), net::buffer("GET /ping HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n"));
    EXPECT_EQ(c.read().result_int(), 431u);
  }
  {
    Client c(s.port);  // leaves in the middle of a body
    net::write(c.socket(), net::buffer(std::string("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"ru")));
  }
  {
    Client c(s.port);  // binary noise
    std::string noise(4096, '\0');
    for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<char>(i * 7919 % 251);
    beast::error_code ec;
    net::write(c.socket(), net::buffer(noise), ec);
  }
  Client c(s.port);
  EXPECT_EQ(c.post(std::string(kAlert1)).result_int(), 200u);
  EXPECT_EQ(s.ingest.count(), 1u);
}

TEST(HttpSource, IdleConnectionsTimeOut) {
  Server s(", idle_timeout: 200ms");
  Client c(s.port);
  EXPECT_EQ(c.get("/ping").result_int(), 200u);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  Client never_sent(s.port);  // a connection that never sends a request times out too
  EXPECT_TRUE(never_sent.closed_by_server());
  EXPECT_TRUE(eventually([&] {
    return s.metrics.counter_value("saker_source_idle_timeouts_total", {{"source", "http"}}) == 2;
  }));
}

TEST(HttpSource, AHeaderThatNeverEndsTimesOut) {
  // Slowloris: a request's header, trickled and never finished, gets header_timeout from its first byte.
  Server s(", idle_timeout: 60s, header_timeout: 300ms");
  Client c(s.port);
  net::write(c.socket(), net::buffer(std::string("POST / HTTP/1.1\r\nHost: x\r\n")));
  const auto t0 = std::chrono::steady_clock::now();
  bool closed = false;
  for (int i = 0; i < 200 && !closed; ++i) {  // a header line every 20 ms: only the timeout ends it
    beast::error_code ec;
    net::write(c.socket(), net::buffer(fmt::format("X-Slow-{}: y\r\n", i)), ec);
    std::this_thread::sleep_for(20ms);
    closed = ec || s.metrics.counter_value("saker_http_request_timeouts_total",
                                           {{"source", "http"}, {"phase", "header"}}) == 1;
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_TRUE(eventually([&] {
    return s.metrics.counter_value("saker_http_request_timeouts_total", {{"source", "http"}, {"phase", "header"}}) == 1;
  }));
}

TEST(HttpSource, ABodyThatStopsComingTimesOut) {
  Server s(", idle_timeout: 300ms");
  Client c(s.port);
  net::write(c.socket(), net::buffer(std::string("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"ru")));
  EXPECT_TRUE(c.closed_by_server());
  // Beast closes the socket when the timer fires, a moment before the handler counts it.
  EXPECT_TRUE(eventually([&] {
    return s.metrics.counter_value("saker_http_request_timeouts_total", {{"source", "http"}, {"phase", "body"}}) == 1;
  }));
  EXPECT_EQ(s.ingest.count(), 0u);
}

TEST(HttpSource, UnauthorisedUploadIsAnswered401BeforeItsBody) {
  Server s(", token: s3cret-token, max_body: 4MiB");
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 20; ++i) {
    auto c = std::make_unique<Client>(s.port);
    // A header announcing 4 MiB and the first KiB of the body: the answer must not wait for the rest.
    net::write(c->socket(),
               net::buffer("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4000000\r\n\r\n" + std::string(1024, ' ')));
    clients.push_back(std::move(c));
  }
  for (auto& c : clients) {
    const Response res = c->read();  // the client's 10 s read timeout would throw if saker waited for the body
    EXPECT_EQ(res.result_int(), 401u);
    EXPECT_FALSE(res.keep_alive());
    EXPECT_TRUE(c->closed_by_server());
  }
  EXPECT_EQ(s.requests(401), 20u);
  EXPECT_EQ(s.ingest.count(), 0u);
  // With the token, the same upload is read.
  Client ok(s.port);
  EXPECT_EQ(ok.post(std::string(kAlert1), {{"Authorization", "Bearer s3cret-token"}}).result_int(), 200u);
}

TEST(HttpSource, ANewClientTakesThePlaceOfTheConnectionIdleLongest) {
  Server s(", max_connections: 3, threads: 2");
  auto oldest = std::make_unique<Client>(s.port);
  EXPECT_EQ(oldest->get("/ping").result_int(), 200u);
  ASSERT_TRUE(eventually([&] { return s.http->idle_connections() == 1; }));
  Client idle(s.port);  // connected, never sent anything
  ASSERT_TRUE(eventually([&] { return s.http->idle_connections() == 2; }));
  Client busy(s.port);  // in the middle of a body: never evicted
  ASSERT_TRUE(eventually([&] { return s.http->idle_connections() == 3; }));
  net::write(busy.socket(), net::buffer(std::string("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ") +
                                        std::to_string(kAlert1.size()) + "\r\n\r\n{"));
  ASSERT_TRUE(eventually([&] { return s.http->idle_connections() == 2; }));

  Client fresh(s.port);
  EXPECT_EQ(fresh.get("/healthz").result_int(), 200u);
  EXPECT_TRUE(oldest->closed_by_server());
  EXPECT_EQ(s.metrics.counter_value("saker_source_connections_evicted_total", {{"source", "http"}}), 1u);
  Client another(s.port);
  EXPECT_EQ(another.post(std::string(kAlert2)).result_int(), 200u);
  EXPECT_TRUE(idle.closed_by_server());
  net::write(busy.socket(), net::buffer(kAlert1.substr(1)));
  EXPECT_EQ(busy.read().result_int(), 200u);
  EXPECT_EQ(s.ingest.count(), 2u);
  EXPECT_EQ(s.metrics.counter_value("saker_source_connections_evicted_total", {{"source", "http"}}), 2u);
  EXPECT_EQ(s.metrics.counter_value("saker_http_connections_rejected_total", {{"source", "http"}}), 0u);
}

TEST(HttpSource, ManyClientsComingAndGoingAtTheLimitAllGetIn) {
  // Each client closes its connection after one request while 4 idle ones hold every slot: evictions and closes
  // race on both threads, and every request must still be answered at once.
  Server s(", max_connections: 4, threads: 2");
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(std::make_unique<Client>(s.port));
  ASSERT_TRUE(eventually([&] { return s.http->idle_connections() == 4; }));
  for (int i = 0; i < 100; ++i) {
    Client c(s.port);
    ASSERT_EQ(c.get(i % 2 ? "/healthz" : "/metrics").result_int(), 200u) << i;
  }
  EXPECT_GE(s.metrics.counter_value("saker_source_connections_evicted_total", {{"source", "http"}}), 1u);
  EXPECT_EQ(s.metrics.counter_value("saker_http_connections_rejected_total", {{"source", "http"}}), 0u);
}

TEST(HttpSource, MaxConnectionsClosesExtraOnesWhenNoneIsIdle) {
  Server s(", max_connections: 1");
  auto first = std::make_unique<Client>(s.port);
  EXPECT_EQ(first->get("/ping").result_int(), 200u);
  ASSERT_TRUE(eventually([&] { return s.http->idle_connections() == 1; }));
  // The first connection is busy (a body is on its way): the second one finds no room.
  net::write(first->socket(), net::buffer(std::string("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")));
  ASSERT_TRUE(eventually([&] { return s.http->idle_connections() == 0; }));
  Client second(s.port);
  EXPECT_TRUE(second.closed_by_server());
  EXPECT_TRUE(eventually([&] {
    return s.metrics.counter_value("saker_http_connections_rejected_total", {{"source", "http"}}) == 1;
  }));
  first.reset();
  EXPECT_TRUE(eventually([&] {
    try {
      Client again(s.port);
      return again.get("/ping").result_int() == 200;
    } catch (const std::exception&) {
      return false;
    }
  }));
}

TEST(HttpSource, StartReportsAPortInUse) {
  Server a;
  Metrics metrics;
  FakeIngest ingest;
  SourceContext ctx{"http2", ingest, metrics, DecodeLimits{}, ""};
  HttpSourceConfig cfg;
  cfg.port = a.port;
  HttpSource second(ctx, cfg);
  auto st = second.start();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message,
            "http source: cannot listen on 127.0.0.1:" + std::to_string(a.port) + ": Address already in use");
  second.stop();  // harmless

  cfg.host = "no-such-host.invalid";
  HttpSource third(ctx, cfg);
  auto st3 = third.start();
  ASSERT_FALSE(st3);
  EXPECT_NE(st3.error().message.find("cannot resolve"), std::string::npos) << st3.error().message;
}

TEST(HttpSource, StopClosesIdleConnectionsAndFinishesInFlightOnes) {
  Server s;
  Client idle(s.port);
  EXPECT_EQ(idle.get("/ping").result_int(), 200u);

  // A request whose body is half sent when stop() begins.
  Client busy(s.port);
  const std::string body = ndjson({kAlert1, kAlert2});
  const std::string head = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  net::write(busy.socket(), net::buffer(head + body.substr(0, 10)));
  std::this_thread::sleep_for(100ms);  // the server has the header

  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    s.source->stop();
    stopped = true;
  });
  EXPECT_TRUE(idle.closed_by_server());
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(stopped.load());
  net::write(busy.socket(), net::buffer(body.substr(10)));
  const Response res = busy.read();
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_FALSE(res.keep_alive());
  busy.socket().close();
  stopper.join();
  EXPECT_EQ(s.ingest.count(), 2u);

  // Nothing listens any more.
  net::io_context ioc;
  tcp::socket sock(ioc);
  beast::error_code ec;
  sock.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), s.port), ec);
  EXPECT_TRUE(ec);
  s.source->stop();  // twice is fine
}

TEST(HttpSource, StopReturnsPromptlyWithOpenConnections) {
  Server s(", threads: 4");
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 16; ++i) {
    clients.push_back(std::make_unique<Client>(s.port));
    EXPECT_EQ(clients.back()->get("/ping").result_int(), 200u);
  }
  for (int i = 0; i < 4; ++i) clients.push_back(std::make_unique<Client>(s.port));  // never sent anything
  const auto t0 = std::chrono::steady_clock::now();
  s.source->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  for (auto& c : clients) EXPECT_TRUE(c->closed_by_server());
}

// ---- TLS -------------------------------------------------------------------------------------------------

TEST(HttpSourceTls, ServesHttps) {
  Pki pki;
  Server s(pki.tls_yaml(false));
  const Response res = tls_request(pki, s.port, "", make_request(http::verb::post, "/", std::string(kAlert1)));
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(s.ingest.count(), 1u);
  // Plain HTTP to a TLS port gets nowhere.
  Client plain(s.port);
  beast::error_code ec;
  http::write(plain.socket(), make_request(http::verb::get, "/ping"), ec);
  EXPECT_TRUE(plain.closed_by_server());
}

TEST(HttpSourceTls, ClientCertificateRequiredWithClientCa) {
  Pki pki;
  Server s(pki.tls_yaml(true));
  const Request req = make_request(http::verb::post, "/", std::string(kAlert1));
  EXPECT_THROW(tls_request(pki, s.port, "", req), std::exception);
  EXPECT_THROW(tls_request(pki, s.port, "other", req), std::exception);  // signed by another CA
  EXPECT_EQ(s.ingest.count(), 0u);
  EXPECT_TRUE(eventually([&] {
    return s.metrics.counter_value("saker_http_tls_handshake_failures_total", {{"source", "http"}}) >= 2;
  }));
  const Response res = tls_request(pki, s.port, "client", req);
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(s.ingest.count(), 1u);
}

TEST(HttpSourceTls, BadCertificateFilesAreConfigErrorsAndFailAtStart) {
  Pki pki;
  // `saker check` reports them from the config; a source built anyway still refuses to start.
  const auto start_with = [](const std::string& cert, const std::string& key, std::string& config_errors) {
    ConfigErrors errors("test.yaml");
    const YAML::Node node = YAML::Load("{type: http, listen: '127.0.0.1:0', tls: {cert: '" + cert + "', key: '" + key + "'}}");
    SourceBuilder builder = parse_http_source(ConfigReader{node, "sources[0]", errors});
    config_errors = errors.to_string();
    Metrics metrics;
    FakeIngest ingest;
    SourceContext ctx{"http", ingest, metrics, DecodeLimits{}, ""};
    return builder(ctx)->start();
  };
  std::string errors;
  auto st = start_with(pki.dir.file("missing.pem"), pki.dir.file("server.key"), errors);
  EXPECT_NE(errors.find("sources[0].tls.cert: cannot read " + pki.dir.file("missing.pem")), std::string::npos) << errors;
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("cannot load TLS certificate"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("missing.pem: No such file or directory"), std::string::npos) << st.error().message;

  // A key that does not match the certificate.
  auto st2 = start_with(pki.dir.file("server.pem"), pki.dir.file("client.key"), errors);
  EXPECT_NE(errors.find("sources[0].tls.key: the key " + pki.dir.file("client.key") + " does not belong to the certificate"),
            std::string::npos)
      << errors;
  ASSERT_FALSE(st2);
  EXPECT_NE(st2.error().message.find("cannot load TLS key"), std::string::npos) << st2.error().message;
  EXPECT_EQ(st2.error().message.find("asio.ssl error"), std::string::npos) << st2.error().message;
}

TEST(HttpSourceTls, ACertificateRenewedAtTheSamePathChangesTheSourcesConfigText) {
  Pki pki;
  // What a reload compares: the same YAML, but the files behind it renewed, must read as a changed source.
  const auto text = [&] {
    ConfigErrors errors("test.yaml");
    auto cfg = parse_config("sources:\n  - {type: http, listen: '127.0.0.1:0'" + pki.tls_yaml(false) +
                                "}\nsinks:\n  - {type: stdout}\n",
                            errors);
    EXPECT_NE(cfg, nullptr) << errors.to_string();
    return cfg ? cfg->sources.at(0).text : std::string();
  };
  const std::string before = text();
  EXPECT_EQ(text(), before);  // nothing changed: the source is kept
  EXPECT_NE(before.find("server.pem"), std::string::npos) << before;

  KeyCert renewed;
  make_cert(renewed, "127.0.0.1", &pki.ca);
  write_pem(renewed, pki.dir.file("server.pem"), pki.dir.file("server.key"));
  const std::string after = text();
  EXPECT_NE(after, before);
  EXPECT_EQ(text(), after);
}
