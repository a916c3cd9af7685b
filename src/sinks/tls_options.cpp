#include "sinks/tls_options.hpp"

#include <unistd.h>

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
  t.ca = r.string("ca");
  t.cert = r.string("cert");
  t.key = r.string("key");
  t.server_name = r.string("server_name");
  t.verify = r.boolean("verify", true);
  for (const char* k : {"ca", "cert", "key"}) {
    const std::string path = r.string(k);
    if (!path.empty() && ::access(path.c_str(), R_OK) != 0) r.errors.add(node[k], r.key_name(k), "cannot read " + path);
  }
  if (t.cert.empty() != t.key.empty()) r.errors.add(node, r.ctx, "`cert` and `key` go together (client certificate)");
  return t;
}

}  // namespace saker
