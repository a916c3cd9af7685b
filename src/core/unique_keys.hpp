#pragma once
// UniqueKeys: the keys of the JSON objects of one alert, so that an alert naming a key twice is refused: parsers
// disagree on which of two equal keys counts (saker's router took the last, its formats the first), and an alert
// must not show one value to the router and another to the SIEM.
//
// One open-addressing table per object, on one reusable stack of slots: no allocation per key, and none per alert
// once the stack has grown. Keys are hashed with a seed drawn per instance, so crafted keys cannot all collide.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace saker {

class UniqueKeys {
 public:
  UniqueKeys();

  // One object's keys. Sets nest (an object in a value of another) and close in the reverse order.
  struct Set {
    std::size_t base = 0;
    std::size_t mask = 0;
  };
  // Opens an empty set for up to `n` keys (more is a programmer error: the table would fill).
  Set open(std::size_t n);
  // The hash insert() and contains() take: one per key, however many sets it is looked up in.
  std::uint64_t hash(std::string_view key) const noexcept;
  // Adds `key`; false when the set has it already. The key's bytes must outlive the set.
  bool insert(const Set& s, std::string_view key, std::uint64_t hash);
  bool contains(const Set& s, std::string_view key, std::uint64_t hash) const;
  // Closes `s` and every set opened after it.
  void close(const Set& s) noexcept { top_ = s.base; }
  // Closes every set (a new alert).
  void clear() noexcept { top_ = 0; }

 private:
  struct Slot {
    const char* data = nullptr;  // nullptr: empty
    std::size_t size = 0;
    std::uint32_t tag = 0;  // the hash's high half: most unequal keys differ here
  };
  // The slot of `key` in `s`: the one holding it, or the empty one where it would go.
  Slot& find(const Set& s, std::string_view key, std::uint64_t h) const noexcept;

  mutable std::vector<Slot> slots_;
  std::size_t top_ = 0;
  std::uint64_t seed_;
};

}  // namespace saker
