#include "enrich/block_cache.hpp"

#include <bit>

namespace saker {

BlockCache::BlockCache(std::size_t capacity)
    : mask_(std::bit_ceil(capacity < 8 ? std::size_t{16} : 2 * capacity) - 1),
      capacity_(capacity),
      slots_(new std::atomic<const Entry*>[mask_ + 1]) {
  for (std::size_t i = 0; i <= mask_; ++i) slots_[i].store(nullptr, std::memory_order_relaxed);
}

const BlockCache::Entry* BlockCache::find(std::uint64_t hash, std::string_view key) const noexcept {
  for (std::size_t i = 0; i < kProbes; ++i) {
    const Entry* e = slots_[(hash + i) & mask_].load(std::memory_order_acquire);
    if (!e) return nullptr;
    if (e->hash == hash && e->key == key) return e;
  }
  return nullptr;
}

const BlockCache::Entry* BlockCache::remember(std::uint64_t hash, std::string_view key,
                                              std::unique_ptr<const FieldBlock>& block) {
  std::lock_guard lock(mu_);
  if (const Entry* e = find(hash, key)) return e;  // another thread was first
  if (entries_.size() >= capacity_) {
    full_.store(true, std::memory_order_relaxed);
    return nullptr;
  }
  for (std::size_t i = 0; i < kProbes; ++i) {
    auto& slot = slots_[(hash + i) & mask_];
    if (slot.load(std::memory_order_relaxed)) continue;
    const FieldBlock* interned = nullptr;
    if (block && !(interned = FieldBlock::intern(block))) {
      full_.store(true, std::memory_order_relaxed);  // the process's pool of blocks is full
      return nullptr;
    }
    auto e = std::make_unique<Entry>();
    e->hash = hash;
    e->key.assign(key);
    e->block = interned;
    slot.store(e.get(), std::memory_order_release);
    entries_.push_back(std::move(e));
    return entries_.back().get();
  }
  return nullptr;  // its probe run is taken: this key is built per alert
}

std::size_t BlockCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace saker
