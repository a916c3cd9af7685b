#include "enrich/users/ldap_directory.hpp"

#include <ldap.h>

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace saker {

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{250}, kMaxBackoff{30'000};

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>(ms.count() % 1000 * 1000);
  return tv;
}

// The errors that say the connection is gone (or never was): it is opened again after the backoff.
bool connection_lost(int rc) {
  return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT || rc == LDAP_UNAVAILABLE ||
         rc == LDAP_BUSY || rc == LDAP_LOCAL_ERROR;
}

}  // namespace

std::array<std::vector<std::string>, kUserAttributeCount> default_ldap_attributes() {
  return {{{"displayName", "cn"}, {"title"}, {"departmentNumber", "department"}, {"mail"}}};
}

LdapDirectory::LdapDirectory(LdapOptions options) : o_(std::move(options)) {
  for (const auto& list : o_.attributes) {
    for (const std::string& a : list) {
      if (std::find(wanted_.begin(), wanted_.end(), a) == wanted_.end()) wanted_.push_back(a);
    }
  }
}

LdapDirectory::~LdapDirectory() { disconnect(); }

void LdapDirectory::disconnect() {
  if (ld_) ldap_unbind_ext_s(ld_, nullptr, nullptr);
  ld_ = nullptr;
}

void LdapDirectory::failed(const std::string& why) {
  disconnect();
  backoff_ = backoff_.count() ? std::min(backoff_ * 2, kMaxBackoff) : kFirstBackoff;
  next_attempt_ = std::chrono::steady_clock::now() + backoff_;
  if (!down_logged_) spdlog::warn("users: LDAP directory {} unavailable: {}; retrying with backoff", o_.url, why);
  down_logged_ = true;
}

bool LdapDirectory::connect(std::string& error) {
  if (ld_) return true;
  if (std::chrono::steady_clock::now() < next_attempt_) {
    error = fmt::format("LDAP directory {} unavailable (retrying in {} ms)", o_.url, backoff_.count());
    return false;
  }
  LDAP* ld = nullptr;
  int rc = ldap_initialize(&ld, o_.url.c_str());
  if (rc != LDAP_SUCCESS || !ld) {
    error = fmt::format("{}: {}", o_.url, ldap_err2string(rc));
    failed(error);
    return false;
  }
  ld_ = ld;
  const int version = LDAP_VERSION3;
  ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
  ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
  const timeval tv = to_timeval(o_.timeout);
  ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
  ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
  if (!o_.ca_file.empty() || o_.start_tls || o_.url.starts_with("ldaps://")) {
    const int demand = LDAP_OPT_X_TLS_DEMAND;
    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
    if (!o_.ca_file.empty()) ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, o_.ca_file.c_str());
    const int server = 0;
    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &server);
  }
  if (o_.start_tls) {
    rc = ldap_start_tls_s(ld, nullptr, nullptr);
    if (rc != LDAP_SUCCESS) {
      error = fmt::format("StartTLS with {} failed: {}", o_.url, ldap_err2string(rc));
      failed(error);
      return false;
    }
  }
  berval cred{};
  cred.bv_val = const_cast<char*>(o_.password.c_str());
  cred.bv_len = o_.password.size();
  rc = ldap_sasl_bind_s(ld, o_.bind_dn.empty() ? nullptr : o_.bind_dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr,
                        nullptr, nullptr);
  if (rc != LDAP_SUCCESS) {
    error = o_.bind_dn.empty() ? fmt::format("anonymous bind to {} failed: {}", o_.url, ldap_err2string(rc))
                               : fmt::format("bind to {} as {} failed: {}", o_.url, o_.bind_dn, ldap_err2string(rc));
    failed(error);
    return false;
  }
  if (down_logged_) spdlog::info("users: LDAP directory {} is back", o_.url);
  down_logged_ = false;
  backoff_ = std::chrono::milliseconds(0);
  return true;
}

UserDirectory::Status LdapDirectory::find(const std::vector<std::string>& values, UserRecord& out, std::string& error) {
  if (!connect(error)) return Status::Error;
  const std::string filter = o_.filter.render(values);
  std::vector<char*> attrs;
  for (std::string& a : wanted_) attrs.push_back(a.data());
  attrs.push_back(nullptr);
  timeval tv = to_timeval(o_.timeout);
  LDAPMessage* res = nullptr;
  const int rc = ldap_search_ext_s(ld_, o_.base_dn.c_str(), LDAP_SCOPE_SUBTREE, filter.c_str(), attrs.data(), 0,
                                   nullptr, nullptr, &tv, 1, &res);
  struct Free {
    LDAPMessage* m;
    ~Free() {
      if (m) ldap_msgfree(m);
    }
  } guard{res};
  if (rc == LDAP_NO_SUCH_OBJECT) return Status::NotFound;
  if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
    error = fmt::format("search of {} failed: {}", o_.base_dn, ldap_err2string(rc));
    if (connection_lost(rc)) failed(error);
    return Status::Error;
  }
  LDAPMessage* entry = res ? ldap_first_entry(ld_, res) : nullptr;
  if (!entry) return Status::NotFound;
  for (std::size_t i = 0; i < kUserAttributeCount; ++i) {
    for (const std::string& a : o_.attributes[i]) {
      berval** vals = ldap_get_values_len(ld_, entry, a.c_str());
      if (!vals) continue;
      if (vals[0] && vals[0]->bv_len) out.attributes[i].assign(vals[0]->bv_val, vals[0]->bv_len);
      ldap_value_free_len(vals);
      if (!out.attributes[i].empty()) break;
    }
  }
  return Status::Found;
}

}  // namespace saker
