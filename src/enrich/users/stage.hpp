#pragma once
// `enrich: {users: ...}`: who the user of an alert is, as user.full_name, user.role, user.department and
// user.email (what the directory has; a field Falco sent is never replaced). From a file (enrich/feeds/user_table.hpp)
// matched by the alert's user.uid or user.name, or from an LDAP directory (ldap_directory.hpp) asked on the stage's
// own thread, never on the decoding thread (lookups.hpp): docs/enrich/users.md.
//
//   users: {path: users.csv, key: uid}
//   users: {ldap: {url: ldaps://dc1:636, base_dn: "ou=people,dc=example,dc=com", filter: "(uidNumber={user.uid})"}}
#include <memory>
#include <string>
#include <vector>

#include "core/stage.hpp"
#include "enrich/feeds/user_table.hpp"
#include "enrich/users/ldap_directory.hpp"
#include "enrich/users/lookups.hpp"

namespace saker {

struct UsersConfig {
  // A file
  std::string path;
  std::shared_ptr<const UserTable> table;
  enum class Key { Uid, Name } key = Key::Uid;  // the alert field matched: user.uid against `uid`, user.name against `name`
  // Or a directory
  bool ldap = false;
  LdapOptions ldap_options;
  UserLookupOptions lookup;
  // Tests: the directory to ask instead of LDAP, and no lookup thread (UsersStage::lookups()->run_queued()).
  std::function<std::unique_ptr<UserDirectory>()> directory;
  unsigned threads = 1;
};

class UsersStage final : public Stage {
 public:
  UsersStage(std::shared_ptr<const UsersConfig> config, StageContext& ctx);
  void process(Alert& alert) const override;
  UserLookups* lookups() const noexcept { return lookups_.get(); }

 private:
  void from_table(Alert& alert) const;
  void from_directory(Alert& alert) const;

  std::shared_ptr<const UsersConfig> config_;
  std::vector<UserBlock> blocks_;  // the table's entries' fields, by entry index
  std::unique_ptr<UserLookups> lookups_;
  Counter &hits_, &misses_;
  Counter *found_ = nullptr, *not_found_ = nullptr;  // the table's lookups (the directory's count their own)
};

StageBuilder parse_users_stage(const ConfigReader& r, StageFields& fields);

}  // namespace saker
