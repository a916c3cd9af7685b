#include "sinks/tls_options.hpp"

#include "config/files.hpp"

namespace saker {

TlsOptions parse_tls_options(const ConfigReader& sink) {
  TlsOptions t;
  if (!sink.has("tls")) return t;
  const YAML::Node node = sink.node["tls"];
  ConfigReader r{node, sink.key_name("tls"), sink.errors};
  if (!node.IsMap()) {
    sink.errors.add(node, r.ctx, "must be a map such as {ca: ca.pem, cert: client.pem, key: client.key}");
    return t;
  }
  r.only({"ca", "cert", "key", "server_name", "verify", "enabled"});
  t.enabled = r.boolean("enabled", true);
  t.ca = r.path("ca");
  t.cert = r.path("cert");
  t.key = r.path("key");
  t.server_name = r.string("server_name");
  t.verify = r.boolean("verify", true);
  const std::size_t before = r.errors.errors().size();
  check_tls_file(r, "ca", t.ca, TlsFile::ca_bundle);
  check_tls_file(r, "cert", t.cert, TlsFile::certificate);
  check_tls_file(r, "key", t.key, TlsFile::private_key);
  if (r.errors.errors().size() == before) check_tls_pair(r, t.cert, t.key);
  if (t.cert.empty() != t.key.empty()) r.errors.add(node, r.ctx, "`cert` and `key` go together (client certificate)");
  return t;
}

}  // namespace saker
