// Config of the `http` source (kept apart from the Beast server so `saker check` code stays light).
#include <fmt/format.h>

#include "config/files.hpp"
#include "sources/http.hpp"

namespace saker {

namespace {

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kGiB = 1024 * 1024 * 1024;

std::uint64_t size_in_range(const ConfigReader& r, const char* key, std::uint64_t def, std::uint64_t min,
                            std::uint64_t max, const char* range) {
  const std::uint64_t n = r.size(key, def);
  if (n < min || n > max) {
    r.errors.add(r.node[key], r.key_name(key), fmt::format("must be between {}, got {} bytes", range, n));
    return def;
  }
  return n;
}

}  // namespace

SourceBuilder parse_http_source(const ConfigReader& r) {
  r.only({"listen", "max_body", "max_decompressed", "token", "tls", "threads", "max_connections", "idle_timeout",
          "header_timeout", "reload_endpoint"},
         kCommonSourceKeys);
  HttpSourceConfig cfg;
  cfg.reload_endpoint = r.boolean("reload_endpoint", false);

  if (r.has("listen")) {
    const std::string listen = r.string("listen", "127.0.0.1:2801");
    if (auto hp = parse_host_port(listen)) {
      cfg.host = hp->host;
      cfg.port = hp->port;
    } else {
      r.errors.add(r.node["listen"], r.key_name("listen"),
                   fmt::format("must be host:port such as 127.0.0.1:2801, [::1]:2801 or :2801 (all interfaces), "
                               "got \"{}\"",
                               listen));
    }
  }

  cfg.max_body = size_in_range(r, "max_body", cfg.max_body, kKiB, kGiB, "1KiB and 1GiB");
  cfg.max_decompressed = size_in_range(r, "max_decompressed", cfg.max_decompressed, kKiB, 4 * kGiB, "1KiB and 4GiB");

  if (r.has("token")) {
    cfg.token = r.string("token");
    r.errors.add_secret(cfg.token);
    bool bad = cfg.token.empty();
    for (const char c : cfg.token) bad |= static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
    if (bad) {
      r.errors.add(r.node["token"], r.key_name("token"),
                   "must be a non-empty string without spaces or control characters");
      cfg.token.clear();
    }
  }

  if (r.has("tls")) {
    const YAML::Node tls_node = r.node["tls"];
    if (!tls_node.IsMap()) {
      r.errors.add(tls_node, r.key_name("tls"), "must be a map: {cert: <file>, key: <file>, client_ca: <file>}");
    } else {
      const ConfigReader t{tls_node, r.key_name("tls"), r.errors};
      t.only({"cert", "key", "client_ca"});
      cfg.tls.cert = t.path("cert", {}, true);
      cfg.tls.key = t.path("key", {}, true);
      cfg.tls.client_ca = t.path("client_ca");
      const std::size_t before = t.errors.errors().size();
      check_tls_file(t, "cert", cfg.tls.cert, TlsFile::certificate);
      check_tls_file(t, "key", cfg.tls.key, TlsFile::private_key);
      check_tls_file(t, "client_ca", cfg.tls.client_ca, TlsFile::ca_bundle);
      if (t.errors.errors().size() == before) check_tls_pair(t, cfg.tls.cert, cfg.tls.key);
      if (cfg.tls.cert.empty() || cfg.tls.key.empty()) cfg.tls = {};
    }
  }

  cfg.threads = static_cast<int>(r.integer("threads", cfg.threads, 1, 64));
  cfg.max_connections = static_cast<int>(r.integer("max_connections", cfg.max_connections, 1, 1'000'000));

  for (auto [key, value] :
       {std::pair{"idle_timeout", &cfg.idle_timeout}, std::pair{"header_timeout", &cfg.header_timeout}}) {
    const auto d = r.duration(key, *value);
    if (d < std::chrono::milliseconds(10) || d > std::chrono::hours(24)) {
      r.errors.add(r.node[key], r.key_name(key), "must be between 10ms and 24h");
    } else {
      *value = d;
    }
  }

  return [cfg](SourceContext& ctx) -> std::unique_ptr<Source> { return std::make_unique<HttpSource>(ctx, cfg); };
}

}  // namespace saker
