#pragma once
// What saker says about itself (log lines, /healthz and /readyz bodies, /metrics label values) without the
// config's secrets. An error text can hold a URL with credentials (a proxy's), a server's echo of the
// Authorization header, or a value a `${env:…}`/`${file:…}` placeholder brought in (a token in a webhook's path).
#include <mutex>
#include <string>
#include <string_view>

#include "config/node.hpp"

namespace saker {

// The password of every URL's userinfo becomes `***` (`https://user:***@host`; a userinfo without a password,
// often a token, becomes `***` whole), and every Authorization (or Proxy-Authorization) value after its scheme
// (`Authorization: Bearer ***`), as a header line or as a JSON or form member.
std::string hide_credentials(std::string_view text);

// The values placeholders brought into the config (shown as their placeholder), then hide_credentials().
// Values shorter than 4 characters (a port digit, "info") are left alone: a message would lose too much.
class SecretRedactor {
 public:
  void add(const Redactions& redactions);  // a reloaded config's too; the old ones stay
  std::string apply(std::string_view text) const;

 private:
  mutable std::mutex mu_;
  Redactions redactions_;
};

}  // namespace saker
