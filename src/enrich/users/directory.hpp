#pragma once
// Where the users stage asks who a user is when no file holds the answer: an LDAP server (LdapDirectory), or a fake
// one in tests. Called only on the stage's lookup thread (UserLookups), never on a decoding thread: it may block.
#include <string>
#include <vector>

#include "enrich/feeds/user_table.hpp"

namespace saker {

class UserDirectory {
 public:
  virtual ~UserDirectory() = default;
  enum class Status { Found, NotFound, Error };
  // The user whose alert values (one per field of the search filter) are `values`. Error: the directory could
  // not answer (down, timed out, refused the bind); `error` says why, without the credentials.
  virtual Status find(const std::vector<std::string>& values, UserRecord& out, std::string& error) = 0;
};

}  // namespace saker
