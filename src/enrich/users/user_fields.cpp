#include "enrich/users/user_fields.hpp"

#include <array>

namespace saker {

const std::string& user_field_name(std::size_t attribute) {
  static const auto names = [] {
    std::array<std::string, kUserAttributeCount> n;
    for (std::size_t i = 0; i < kUserAttributeCount; ++i) n[i] = "user." + std::string(kUserAttributes[i]);
    return n;
  }();
  return names[attribute];
}

std::unique_ptr<const FieldBlock> user_block(const UserRecord& r) {
  FieldBlock::Builder b;
  for (std::size_t i = 0; i < kUserAttributeCount; ++i) {
    if (!r.attributes[i].empty()) b.add(user_field_name(i), Value::string(r.attributes[i]));
  }
  return b.empty() ? nullptr : b.build();
}

bool UserBlock::add_to(Alert& a) const {
  const FieldBlock* b = get();
  if (!b) return false;
  const std::size_t skipped = interned ? a.add_block(*b) : a.copy_block(*b);
  return skipped < b->fields().size();
}

UserBlock UserBlock::of(const UserRecord& r) {
  UserBlock out;
  std::unique_ptr<const FieldBlock> b = user_block(r);
  if (!b) return out;
  out.interned = FieldBlock::intern(b);
  if (!out.interned) out.own = std::move(b);
  return out;
}

}  // namespace saker
