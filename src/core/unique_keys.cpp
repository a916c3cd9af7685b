#include "core/unique_keys.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <random>

#define XXH_INLINE_ALL  // header-only: no link dependency, and the hash inlines
#include <xxhash.h>

namespace saker {

namespace {
constexpr char kEmpty[1] = {};  // where an empty key points, so that a null data pointer always means a free slot
}  // namespace

UniqueKeys::UniqueKeys() {
  std::random_device rd;
  seed_ = (std::uint64_t{rd()} << 32) ^ rd();
}

UniqueKeys::Set UniqueKeys::open(std::size_t n) {
  const std::size_t cap = std::bit_ceil(std::max<std::size_t>(n * 2, 8));  // at most half full: short probes
  const Set s{top_, cap - 1};
  top_ += cap;
  if (slots_.size() < top_) slots_.resize(top_);
  std::fill_n(slots_.begin() + static_cast<std::ptrdiff_t>(s.base), cap, Slot{});
  return s;
}

std::uint64_t UniqueKeys::hash(std::string_view key) const noexcept {
  return XXH3_64bits_withSeed(key.data(), key.size(), seed_);
}

UniqueKeys::Slot& UniqueKeys::find(const Set& s, std::string_view key, std::uint64_t h) const noexcept {
  const auto tag = static_cast<std::uint32_t>(h >> 32);
  for (std::size_t i = h & s.mask;; i = (i + 1) & s.mask) {
    Slot& slot = slots_[s.base + i];
    if (!slot.data) return slot;
    if (slot.tag == tag && slot.size == key.size() && std::memcmp(slot.data, key.data(), key.size()) == 0) {
      return slot;
    }
  }
}

bool UniqueKeys::insert(const Set& s, std::string_view key, std::uint64_t h) {
  Slot& slot = find(s, key, h);
  if (slot.data) return false;
  slot.data = key.empty() ? kEmpty : key.data();
  slot.size = key.size();
  slot.tag = static_cast<std::uint32_t>(h >> 32);
  return true;
}

bool UniqueKeys::contains(const Set& s, std::string_view key, std::uint64_t h) const {
  return find(s, key, h).data != nullptr;
}

}  // namespace saker
