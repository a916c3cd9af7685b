#pragma once
// The fields the users stage adds: user.full_name, user.role, user.department, user.email.
#include <memory>
#include <string>

#include "core/field_block.hpp"
#include "enrich/feeds/user_table.hpp"

namespace saker {

// user.<attribute> for each of kUserAttributes.
const std::string& user_field_name(std::size_t attribute);

// A record's non-empty attributes as a block; null when it has none.
std::unique_ptr<const FieldBlock> user_block(const UserRecord& r);

// A block as the stage keeps it: interned when the pool had room (alerts borrow it), else its own (alerts copy it).
struct UserBlock {
  const FieldBlock* interned = nullptr;
  std::shared_ptr<const FieldBlock> own;
  const FieldBlock* get() const noexcept { return interned ? interned : own.get(); }
  // Adds the block's fields the alert lacks; true when it added any.
  bool add_to(Alert& a) const;
  static UserBlock of(const UserRecord& r);
};

}  // namespace saker
