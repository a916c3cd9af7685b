#pragma once
// An asset inventory: entries that say which alerts they are about (`match`: alert fields and the values or glob
// patterns they must have) and what to say about them (every other attribute, added as asset.<attribute>).
//
//   - {match: {hostname: "payments-db-*", k8s.ns.name: payments}, owner: payments-team, criticality: high}
//   - {match: {container.image.repository: "docker.io/library/nginx"}, owner: web}
//   - {match: {k8s.pod.labels: {app: payments, tier: "db*"}}, pci: true}
//
// Read from YAML, JSON (the same list, or {"assets": [...]}) or CSV (a header row; columns named match.<field>
// are the conditions, the others the attributes). The most specific entry that matches wins (Inventory::match).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/alert.hpp"
#include "core/result.hpp"

namespace saker {

// `*` (any run, also empty) and `?` (one byte) match; every other byte matches itself.
bool glob_match(std::string_view pattern, std::string_view text) noexcept;

// What an inventory may hold (a bigger file is refused, not read in part).
struct InventoryLimits {
  std::size_t max_bytes = std::size_t{256} << 20;  // the file
  std::size_t max_entries = 1'000'000;
  std::size_t max_conditions = 16;  // per entry
  std::size_t max_attributes = 64;  // per entry
  std::size_t max_text = 4096;      // a value or pattern
};

class Inventory {
 public:
  using Limits = InventoryLimits;
  enum class Format { Auto, Yaml, Json, Csv };

  // Reads an inventory; an error names the file and the line (YAML, CSV) or the entry's index (JSON).
  static Result<std::shared_ptr<const Inventory>> load(const std::string& path, Format format = Format::Auto,
                                                       const Limits& limits = {});
  static Result<std::shared_ptr<const Inventory>> parse(std::string_view text, Format format, std::string_view name,
                                                        const Limits& limits = {});

  struct Condition {
    std::string field;    // an alert field; "k8s.pod.labels" with `label` set: one pod label
    std::string label;    // the label's key, for k8s.pod.labels conditions
    std::string pattern;  // the value, or a glob (`*`, `?`)
    bool glob = false;
    std::size_t literal = 0;  // bytes of the pattern that are not wildcards
  };
  struct Attribute {
    std::string name;  // "asset.owner"
    Value value;       // texts point into the entry's `texts`
    std::vector<std::string_view> items;  // a list of strings
    bool list = false;
  };
  struct Entry {
    std::vector<Condition> conditions;
    std::vector<Attribute> attributes;
    std::vector<std::unique_ptr<std::string>> texts;  // owned texts, stable addresses
    std::size_t line = 0;                             // where it was read (1-based; JSON: its index + 1)
  };

  // The most specific entry whose every condition holds for the alert, or null. Most specific: more conditions,
  // then more of them exact (not globs), then more literal bytes in the patterns, then the earlier entry.
  const Entry* match(const Alert& alert) const;
  // Its index (for callers that remember what an entry gave).
  std::size_t index_of(const Entry* e) const noexcept { return static_cast<std::size_t>(e - entries_.data()); }
  std::size_t size() const noexcept { return entries_.size(); }
  const std::vector<Entry>& entries() const noexcept { return entries_; }
  // Every attribute name entries have, in first-seen order (the names the stage adds).
  const std::vector<std::string>& attribute_names() const noexcept { return names_; }
  // The fields the conditions read: the alert values an answer depends on.
  const std::vector<std::string>& condition_fields() const noexcept { return condition_fields_; }

 private:
  bool holds(const Entry& e, const Alert& alert) const;
  void index();
  std::vector<Entry> entries_;
  std::vector<std::string> names_;
  std::vector<std::string> condition_fields_;
  // Entries with an exact condition, by the field of their first exact one and its value; the rest are tried for
  // every alert.
  struct Key {
    std::string field, value;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  std::unordered_map<Key, std::vector<std::uint32_t>, KeyHash> exact_;
  std::vector<std::string> exact_fields_;  // the fields exact_ is keyed by
  std::vector<std::uint32_t> scan_;        // entries without an exact condition
};

}  // namespace saker
