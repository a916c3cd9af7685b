#pragma once
// FieldPicks: the field names that consumers look up by name (templates, filters, later Sigma rules), registered as
// they are compiled. Decode picks those fields' values out of each alert during the walk over its keys it makes
// anyway (to refuse a key sent twice), so lookup() of such a name is one hash probe and no field table is built for
// it. Formats that write every field still use the table (Alert::fields()).
//
// The set only grows (a reload adds names, never removes them) and every version is kept for the life of the
// process, so an alert can point at the version it was decoded with: a name registered later is simply not in it,
// and lookup() falls back to the table. The set holds at most kMaxNames names, so a process that reloads configs
// naming ever new fields keeps a bounded registry (the versions cost at most kMaxNames^2/2 names): a name past the
// cap is looked up in the table, as any name not registered is.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace saker {

class FieldPicks {
 public:
  // Registers `name` (thread-safe; a name registered already costs a lookup). The top-level names decode reads into
  // the alert itself (rule, priority, ...) are not fields and are ignored.
  static void want(std::string_view name);
  static constexpr std::size_t kMaxNames = 256;
  // The latest version; nullptr until a name is registered.
  static const FieldPicks* current() noexcept;

  // The slot of `name` (0 .. size()-1), or -1. `hash` is UniqueKeys::hash(name).
  // Inline: decode asks for every field name of every alert, and nearly every answer is -1 at the first probe.
  int find(std::string_view name, std::uint64_t hash) const noexcept {
    if (!(bits_ >> (hash >> 58) & 1)) return -1;  // most names: no registered name has their bit
    const std::size_t mask = table_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& s = table_[i];
      if (s.index < 0) return -1;
      if (s.hash == hash && names_[static_cast<std::size_t>(s.index)] == name) return s.index;
    }
  }
  int find(std::string_view name) const noexcept;
  std::size_t size() const noexcept { return names_.size(); }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    int index = -1;  // -1: empty
  };
  void index();

  std::vector<std::string> names_;
  std::vector<Slot> table_;  // open addressing, a power of two, at most half full
  std::uint64_t bits_ = 0;   // a bit per registered name, from its hash's top six bits (the table uses the low ones)
};

}  // namespace saker
