#include "enrich/users/ldap_filter.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace saker {

std::string ldap_escape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '*': out += "\\2a"; break;
      case '(': out += "\\28"; break;
      case ')': out += "\\29"; break;
      case '\\': out += "\\5c"; break;
      case '\0': out += "\\00"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

Result<LdapFilterTemplate> LdapFilterTemplate::parse(std::string_view text) {
  LdapFilterTemplate t;
  std::string literal;
  int depth = 0;
  const auto fail = [&](std::string what) { return make_error("bad_filter", std::move(what)); };
  if (text.empty() || text.front() != '(' || text.back() != ')') {
    return fail("must be an LDAP filter in parentheses, e.g. (uidNumber={user.uid})");
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      literal.push_back('{');
      ++i;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      literal.push_back('}');
      ++i;
    } else if (c == '{') {
      const std::size_t end = text.find('}', i);
      if (end == std::string_view::npos) return fail(fmt::format("the `{{` at {} is not closed", i + 1));
      const std::string field(text.substr(i + 1, end - i - 1));
      if (field.empty() || field.find_first_of(" {()") != std::string::npos) {
        return fail(fmt::format("\"{{{}}}\" does not name an alert field, e.g. {{user.uid}}", field));
      }
      if (!literal.empty()) t.parts_.push_back({std::move(literal), -1});
      literal.clear();
      auto it = std::find(t.fields_.begin(), t.fields_.end(), field);
      if (it == t.fields_.end()) it = t.fields_.insert(t.fields_.end(), field);
      t.parts_.push_back({{}, static_cast<int>(it - t.fields_.begin())});
      i = end;
    } else if (c == '}') {
      return fail(fmt::format("a `}}` at {} closes nothing (write `}}}}` for a brace)", i + 1));
    } else {
      if (c == '(') ++depth;
      if (c == ')' && --depth < 0) return fail(fmt::format("the `)` at {} closes nothing", i + 1));
      if (depth == 0 && i + 1 < text.size()) return fail("must be one filter: wrap several in (&...) or (|...)");
      literal.push_back(c);
    }
  }
  if (depth != 0) return fail("a `(` is not closed");
  if (t.fields_.empty()) return fail("names no alert field: write one as {user.uid} or {user.name}");
  if (!literal.empty()) t.parts_.push_back({std::move(literal), -1});
  return t;
}

std::string LdapFilterTemplate::render(const std::vector<std::string>& values) const {
  std::string out;
  for (const Part& p : parts_) {
    if (p.field < 0) {
      out += p.literal;
    } else if (static_cast<std::size_t>(p.field) < values.size()) {
      out += ldap_escape(values[static_cast<std::size_t>(p.field)]);
    }
  }
  return out;
}

}  // namespace saker
