#pragma once
// FieldBlock: fields a stage adds to many alerts alike, checked, hashed and written as JSON once. The static fields
// of `enrich: fields`, the MITRE fields of one set of tags, and (next) the answer of one GeoIP address, one user or
// one asset are each the same for every alert that gets them: building them per alert (copying each name and text,
// checking its UTF-8, escaping it again in every format) costs more than the rest of the stage. Adding a block to an
// alert (Alert::add_block) checks its names against the alert's and copies a few views and the block's JSON text.
//
// A block is immutable once built and lives at a fixed address; the alert refers to its texts, so whoever owns the
// block keeps it as long as any alert that got it: a stage's blocks live as long as its StageChain, which every
// alert that borrowed from it keeps alive (StageChain::run).
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/alert.hpp"

namespace saker {

class FieldBlock {
 public:
  class Builder {
   public:
    // Adds a field; false (and nothing added) when the name is reserved, given twice or not UTF-8, or the text is
    // not UTF-8 (the rules of Alert::add_field). String, Object and Array values keep their text (Object/Array: JSON).
    bool add(std::string_view name, const Value& value);
    // Adds a list of strings (Alert::items() gives its elements); false as for add().
    bool add_list(std::string_view name, std::span<const std::string_view> items);
    bool empty() const noexcept { return entries_.empty(); }
    std::unique_ptr<const FieldBlock> build();

   private:
    struct Entry {
      std::string name;
      Value value;  // texts not yet placed
      std::string text;
      std::vector<std::string> items;
      bool list = false;
    };
    std::vector<Entry> entries_;
  };

  FieldBlock(const FieldBlock&) = delete;
  FieldBlock& operator=(const FieldBlock&) = delete;

  // The fields, in the order added; an added list's first_item indexes items().
  std::span<const Field> fields() const noexcept { return fields_; }
  std::span<const Value> items() const noexcept { return items_; }
  // UniqueKeys::hash of each field's name.
  std::span<const std::uint64_t> hashes() const noexcept { return hashes_; }
  // The fields as JSON members, comma-separated, without braces: "env":"prod","replicas":3
  std::string_view json() const noexcept { return json_; }

 private:
  FieldBlock() = default;
  std::string text_;  // every name, text and item the views point into
  std::string json_;
  std::vector<Field> fields_;
  std::vector<Value> items_;
  std::vector<std::uint64_t> hashes_;
};

}  // namespace saker
