#pragma once
// FieldBlock: fields a stage adds to many alerts alike, checked, hashed and written as JSON once. The static fields
// of `enrich: fields`, the MITRE fields of one set of tags, and (next) the answer of one GeoIP address, one user or
// one asset are each the same for every alert that gets them: building them per alert (copying each name and text,
// checking its UTF-8, escaping it again in every format) costs more than the rest of the stage. Adding a block to an
// alert (Alert::add_block) checks its names against the alert's and copies a few views and the block's JSON text.
//
// A block is immutable once built and lives at a fixed address; the alert refers to its texts, so the block must outlive
// every alert that got it. A stage interns its blocks (intern()): an interned block lives as long as the process and
// is shared by every stage that interns an equal one (a reload's new chain finds its predecessor's), so an alert
// borrows from it with no reference count to take or drop, and outlives any chain. The pool is bounded
// (kInternLimit): past it a stage keeps its block and copies it into each alert (Alert::copy_block).
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

  // The block for the life of the process: an equal one interned before, or this one. Takes `block` unless the pool
  // is full (then it returns nullptr and leaves `block` to the caller). Thread-safe; meant for a stage's start and
  // its cache misses, not for every alert.
  static const FieldBlock* intern(std::unique_ptr<const FieldBlock>& block);
  static constexpr std::size_t kInternLimit = std::size_t{64} << 20;  // bytes of interned blocks
  // Bytes the block holds (its texts, fields, items and hashes), as the pool counts them.
  std::size_t bytes() const noexcept;

  FieldBlock(const FieldBlock&) = delete;
  FieldBlock& operator=(const FieldBlock&) = delete;

  // The fields, in the order added; an added list's first_item indexes items().
  std::span<const Field> fields() const noexcept { return fields_; }
  std::span<const Value> items() const noexcept { return items_; }
  // UniqueKeys::hash of each field's name.
  std::span<const std::uint64_t> hashes() const noexcept { return hashes_; }
  // Each name's slot among the names decode picks when the block was built (-1: not one of them).
  std::span<const int> slots() const noexcept { return slots_; }
  // The fields as JSON members, comma-separated, without braces: "env":"prod","replicas":3
  std::string_view json() const noexcept { return json_; }

 private:
  FieldBlock() = default;
  bool same(const FieldBlock& other) const noexcept;  // the same fields, values and kinds
  std::string text_;  // every name, text and item the views point into
  std::string json_;
  std::vector<Field> fields_;
  std::vector<Value> items_;
  std::vector<std::uint64_t> hashes_;
  std::vector<int> slots_;
};

}  // namespace saker
