#pragma once
// The blocks of fields an enricher built, remembered by a key of its choosing, for every alert that has the same
// key (the fields of one GeoIP record, of one inventory entry, of one set of tags): found without a lock (open
// addressing over atomic slots), added under one. The blocks are interned (FieldBlock::intern), so an alert that
// borrows one (Alert::add_block) needs nothing of the cache once it is queued, and the cache may be dropped with its
// stage on a reload.
//
// At most `capacity` keys are remembered; past that, or when the process's pool of blocks is full, remember()
// returns null and the caller builds the fields per alert (and copies them: Alert::copy_block).
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/field_block.hpp"

namespace saker {

class BlockCache {
 public:
  explicit BlockCache(std::size_t capacity);

  struct Entry {
    std::uint64_t hash = 0;
    std::string key;
    const FieldBlock* block = nullptr;  // interned; null: the key has no fields to add
  };
  // The entry of `key` (whose hash is `hash`), or null.
  const Entry* find(std::uint64_t hash, std::string_view key) const noexcept;
  // Remembers `block` (which may be null: nothing to add) under `key`: the entry (another thread's, if it was
  // first), or null when the cache is full or the pool of blocks is. `block` is moved from only when remembered.
  const Entry* remember(std::uint64_t hash, std::string_view key, std::unique_ptr<const FieldBlock>& block);
  // No more keys are taken: callers need not build to try.
  bool full() const noexcept { return full_.load(std::memory_order_relaxed); }
  std::size_t size() const;

 private:
  static constexpr std::size_t kProbes = 16;
  std::size_t mask_;
  std::size_t capacity_;
  std::unique_ptr<std::atomic<const Entry*>[]> slots_;
  mutable std::mutex mu_;
  std::atomic<bool> full_{false};
  std::vector<std::unique_ptr<Entry>> entries_;  // owns what slots_ points at
};

}  // namespace saker
