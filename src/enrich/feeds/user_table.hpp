#pragma once
// A user directory in a file: who each user is, by uid and by login name.
//
//   CSV, a header naming the columns (any order; uid or name or both, then any of the attributes):
//     uid,name,full_name,role,department,email
//     1000,alice,Alice Liddell,SRE,Platform,alice@example.com
//   JSON, a list of objects with the same keys (uid may be a number), or {"users": [...]}:
//     [{"uid": 1000, "name": "alice", "full_name": "Alice Liddell", "role": "SRE"}]
//
// Every entry needs a uid or a name; an empty cell says nothing. A uid or a name given twice is an error naming
// both places (a CSV line, a JSON entry's index), as is an unknown column.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"

namespace saker {

// The attributes a directory may say of a user, in the order the stage adds them (user.<name>).
inline constexpr std::string_view kUserAttributes[] = {"full_name", "role", "department", "email"};
inline constexpr std::size_t kUserAttributeCount = std::size(kUserAttributes);

// What the directory says of one user: kUserAttributes' values, "" for an attribute it has none of.
struct UserRecord {
  std::string attributes[kUserAttributeCount];
  bool empty() const noexcept {
    for (const auto& a : attributes) {
      if (!a.empty()) return false;
    }
    return true;
  }
};

struct UserTableLimits {
  std::size_t max_bytes = std::size_t{256} << 20;  // the file
  std::size_t max_entries = 1'000'000;
  std::size_t max_text = 4096;  // a value
};

class UserTable {
 public:
  using Limits = UserTableLimits;
  enum class Format { Auto, Csv, Json };

  // Reads a table; an error names the file and the line (CSV) or the entry's index (JSON).
  static Result<std::shared_ptr<const UserTable>> load(const std::string& path, Format format = Format::Auto,
                                                       const Limits& limits = {});
  static Result<std::shared_ptr<const UserTable>> parse(std::string_view text, Format format, std::string_view name,
                                                        const Limits& limits = {});

  struct Entry {
    std::string uid, name;  // "" when not given
    UserRecord record;
    std::size_t line = 0;  // where it was read (CSV: its line; JSON: its index + 1)
  };
  // The entry of a uid (in decimal) or of a login name; null when there is none.
  const Entry* by_uid(std::string_view uid) const;
  const Entry* by_name(std::string_view name) const;
  const std::vector<Entry>& entries() const noexcept { return entries_; }
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  friend struct UserTableBuilder;
  std::vector<Entry> entries_;
  std::unordered_map<std::string_view, std::uint32_t> uids_, names_;  // views into entries_ (never resized after)
};

}  // namespace saker
