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

namespace {
std::uint64_t draw_seed() {
  std::random_device rd;
  return (std::uint64_t{rd()} << 32) ^ rd();
}
const std::uint64_t g_seed = draw_seed();
}  // namespace

std::uint64_t UniqueKeys::hash(std::string_view key) noexcept { return XXH3_64bits_withSeed(key.data(), key.size(), g_seed); }

UniqueKeys::Set UniqueKeys::open(std::size_t n) {
  const std::size_t cap = std::bit_ceil(std::max<std::size_t>(n * 2, 8));  // at most half full: short probes
  const Set s{top_, cap - 1};
  top_ += cap;
  if (slots_.size() < top_) slots_.resize(top_);
  std::memset(static_cast<void*>(slots_.data() + s.base), 0, cap * sizeof(Slot));
  return s;
}

int UniqueKeys::add_hashed(const Set& s, std::string_view key, std::uint64_t h, unsigned origin) {
  const auto tag = static_cast<std::uint32_t>(h >> 32) & ~1u;
  const auto size = static_cast<std::uint32_t>(key.size());
  for (std::size_t i = h & s.mask;; i = (i + 1) & s.mask) {
    Slot& slot = slots_[s.base + i];
    if (!slot.data) {
      slot.data = key.empty() ? kEmpty : key.data();
      slot.size = size;
      slot.tag = tag | (origin & 1u);
      return kNew;
    }
    if ((slot.tag & ~1u) == tag && slot.size == size && std::memcmp(slot.data, key.data(), key.size()) == 0) {
      return static_cast<int>(slot.tag & 1u);
    }
  }
}

}  // namespace saker
