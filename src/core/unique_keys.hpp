#pragma once
// UniqueKeys: the keys of the JSON objects of one alert, so that an alert naming a key twice is refused: parsers
// disagree on which of two equal keys counts (saker's router took the last, its formats the first), and an alert
// must not show one value to the router and another to the SIEM.
//
// One open-addressing table per object, on one reusable stack of slots: no allocation per key, and none per alert
// once the stack has grown. Keys are hashed with a seed drawn per process, so crafted keys cannot all collide.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace saker {

class UniqueKeys {
 public:
  // One object's keys. Sets nest (an object in a value of another) and close in the reverse order.
  struct Set {
    std::size_t base = 0;
    std::size_t mask = 0;
  };
  // Opens an empty set for up to `n` keys (more is a programmer error: the table would fill).
  Set open(std::size_t n);
  // Adds `key`, remembering where it was met (`origin`, 0 or 1: e.g. the top level or output_fields). Returns
  // kNew, or the origin of the equal key the set has already. The key's bytes must outlive the set.
  static constexpr int kNew = -1;
  int add(const Set& s, std::string_view key, unsigned origin = 0) { return add_hashed(s, key, hash(key), origin); }
  // The same with hash(key) computed already (decode hashes each field name once, for this and the picks).
  int add_hashed(const Set& s, std::string_view key, std::uint64_t hash, unsigned origin = 0);
  // The hash of a key, seeded once per process so that crafted keys cannot all collide.
  static std::uint64_t hash(std::string_view key) noexcept;
  // Closes `s` and every set opened after it.
  void close(const Set& s) noexcept { top_ = s.base; }
  // Closes every set (a new alert).
  void clear() noexcept { top_ = 0; }

 private:
  struct Slot {
    const char* data = nullptr;  // nullptr: empty
    std::uint32_t size = 0;      // keys are shorter than a JSON document, which simdjson keeps under 4GiB
    std::uint32_t tag = 0;       // the hash's high half but its lowest bit, which holds the origin
  };

  std::vector<Slot> slots_;
  std::size_t top_ = 0;
};

}  // namespace saker
