#pragma once
// The user directory over LDAP (libldap): one connection, opened at the first lookup, simple bind with bind_dn and
// password (anonymous without), ldaps:// or StartTLS with a CA file. A lost or refused connection is opened again
// after a backoff (250 ms doubling to 30 s); until then lookups fail at once rather than wait.
#include <array>
#include <chrono>
#include <string>
#include <vector>

#include "enrich/users/directory.hpp"
#include "enrich/users/ldap_filter.hpp"

typedef struct ldap LDAP;

namespace saker {

struct LdapOptions {
  std::string url;  // ldap://host:389, ldaps://host:636
  std::string bind_dn, password;
  std::string base_dn;
  LdapFilterTemplate filter;
  std::chrono::milliseconds timeout{2000};  // connect, bind and each search
  bool start_tls = false;
  std::string ca_file;
  // The attributes each of kUserAttributes is read from, first one the entry has wins.
  std::array<std::vector<std::string>, kUserAttributeCount> attributes;
};

// The default attributes: full_name <- displayName, cn; role <- title; department <- departmentNumber, department;
// email <- mail.
std::array<std::vector<std::string>, kUserAttributeCount> default_ldap_attributes();

class LdapDirectory final : public UserDirectory {
 public:
  explicit LdapDirectory(LdapOptions options);
  ~LdapDirectory() override;
  Status find(const std::vector<std::string>& values, UserRecord& out, std::string& error) override;

 private:
  bool connect(std::string& error);
  void disconnect();
  void failed(const std::string& why);

  LdapOptions o_;
  std::vector<std::string> wanted_;  // every attribute, once
  LDAP* ld_ = nullptr;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_{0};
  bool down_logged_ = false;
};

}  // namespace saker
