#pragma once
// The LDAP search filter of the users stage: a template whose `{field}` parts are the alert's values, each
// escaped as RFC 4515 says (`*` `(` `)` `\` and NUL as \2a \28 \29 \5c \00), so a value is always one assertion
// value: a user name `*)(uid=*` matches nobody rather than everybody.
//
//   (uidNumber={user.uid})   (&(objectClass=person)(sAMAccountName={user.name}))
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace saker {

// `value` escaped as an RFC 4515 assertion value.
std::string ldap_escape(std::string_view value);

class LdapFilterTemplate {
 public:
  // Checks the template: balanced parentheses around the whole, `{field}` parts with a field name, `{{` and `}}`
  // for literal braces.
  static Result<LdapFilterTemplate> parse(std::string_view text);
  // The alert fields the template reads, in order of first use.
  const std::vector<std::string>& fields() const noexcept { return fields_; }
  // The filter with `values[i]` (escaped) for fields()[i].
  std::string render(const std::vector<std::string>& values) const;

 private:
  struct Part {
    std::string literal;
    int field = -1;  // an index into fields_; -1: the literal
  };
  std::vector<Part> parts_;
  std::vector<std::string> fields_;
};

}  // namespace saker
