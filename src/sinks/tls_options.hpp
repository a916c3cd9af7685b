#pragma once
// TLS settings shared by every network sink:
//   tls: {ca: /etc/saker/ca.pem, cert: client.pem, key: client.key, server_name: siem.example, verify: true}
#include <string>

#include "config/node.hpp"

namespace saker {

struct TlsOptions {
  bool enabled = false;
  std::string ca;           // CA bundle to verify the server (empty: the system's)
  std::string cert;         // client certificate (mTLS)
  std::string key;          // its key
  std::string server_name;  // SNI and the name checked in the server's certificate (default: the host)
  bool verify = true;       // false only for testing: no certificate or name check
};

// Reads `tls:` of a sink's config (absent: disabled). Relative files resolve against the config's folder; each
// must load with OpenSSL (PEM), and the key must match the certificate.
TlsOptions parse_tls_options(const ConfigReader& sink);

}  // namespace saker
