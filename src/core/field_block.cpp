#include "core/field_block.hpp"

#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "core/field_picks.hpp"
#include "core/json_text.hpp"
#include "core/unique_keys.hpp"

namespace saker {

namespace {

bool has_text(const Value& v) {
  return v.kind == Value::Kind::String || v.kind == Value::Kind::Array || v.kind == Value::Kind::Object;
}

}  // namespace

bool FieldBlock::Builder::add(std::string_view name, const Value& value) {
  if (name.empty() || is_reserved_name(name) || !valid_utf8(name) || (has_text(value) && !valid_utf8(value.text))) {
    return false;
  }
  if (std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.name == name; })) return false;
  Entry& e = entries_.emplace_back();
  e.name = name;
  e.value = value;
  e.value.first_item = 0;
  e.value.item_count = 0;
  e.value.alert_tags = false;
  e.value.added_list = false;
  e.value.items_at = nullptr;
  if (has_text(value)) e.text = value.text;
  e.value.text = {};
  return true;
}

bool FieldBlock::Builder::add_list(std::string_view name, std::span<const std::string_view> items) {
  if (std::any_of(items.begin(), items.end(), [](std::string_view v) { return !valid_utf8(v); })) return false;
  Value v;
  v.kind = Value::Kind::Array;
  if (!add(name, v)) return false;
  Entry& e = entries_.back();
  e.list = true;
  e.items.assign(items.begin(), items.end());
  append_json_string_array(e.text, items);
  return true;
}

std::unique_ptr<const FieldBlock> FieldBlock::Builder::build() {
  std::unique_ptr<FieldBlock> b(new FieldBlock());
  // One text for everything, sized first so the views taken below never move.
  std::size_t size = 0;
  std::size_t n_items = 0;
  for (const Entry& e : entries_) {
    size += e.name.size() + e.text.size();
    for (const auto& i : e.items) size += i.size();
    n_items += e.items.size();
  }
  b->text_.reserve(size);
  auto place = [&](std::string_view s) {
    const std::size_t at = b->text_.size();
    b->text_.append(s);
    return at;
  };
  struct Spot {
    std::size_t name, text;
    std::vector<std::size_t> items;
  };
  std::vector<Spot> spots;
  for (const Entry& e : entries_) {
    Spot s{place(e.name), place(e.text), {}};
    for (const auto& i : e.items) s.items.push_back(place(i));
    spots.push_back(std::move(s));
  }
  const char* base = b->text_.data();
  b->items_.reserve(n_items);
  const FieldPicks* const picks = FieldPicks::current();  // the names decode picks, for each field's slot
  for (std::size_t k = 0; k < entries_.size(); ++k) {
    const Entry& e = entries_[k];
    Field f;
    f.name = std::string_view(base + spots[k].name, e.name.size());
    f.value = e.value;
    if (has_text(e.value)) f.value.text = std::string_view(base + spots[k].text, e.text.size());
    if (e.list) {
      f.value.added_list = true;
      f.value.first_item = static_cast<std::uint32_t>(b->items_.size());
      f.value.item_count = static_cast<std::uint32_t>(e.items.size());
      for (std::size_t i = 0; i < e.items.size(); ++i) {
        b->items_.push_back(Value::string(std::string_view(base + spots[k].items[i], e.items[i].size())));
      }
    }
    if (e.list) f.value.items_at = b->items_.data() + f.value.first_item;  // reserved above: items_ stays put
    b->fields_.push_back(f);
    b->hashes_.push_back(UniqueKeys::hash(f.name));
    b->slots_.push_back(picks ? picks->find(f.name, b->hashes_.back()) : -1);
    if (!b->json_.empty()) b->json_.push_back(',');
    append_json_string(b->json_, f.name);
    b->json_.push_back(':');
    f.value.append_json(b->json_);
  }
  return b;
}

std::size_t FieldBlock::bytes() const noexcept {
  return sizeof(FieldBlock) + text_.size() + json_.size() + fields_.size() * sizeof(Field) +
         items_.size() * sizeof(Value) + hashes_.size() * sizeof(std::uint64_t);
}

bool FieldBlock::same(const FieldBlock& other) const noexcept {
  // The JSON says every name and value; the kinds say how lookup() and the formats see them (a list or an array's
  // text, a string "3" or the number 3 are told apart by the JSON already, an added list and an Array are not).
  if (json_ != other.json_ || fields_.size() != other.fields_.size() || items_.size() != other.items_.size()) return false;
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    const Value& a = fields_[i].value;
    const Value& b = other.fields_[i].value;
    if (a.kind != b.kind || a.added_list != b.added_list || a.item_count != b.item_count) return false;
  }
  return true;
}

const FieldBlock* FieldBlock::intern(std::unique_ptr<const FieldBlock>& block) {
  struct Pool {
    std::mutex mu;
    std::unordered_multimap<std::string_view, std::unique_ptr<const FieldBlock>> by_json;  // keyed by the block's json_
    std::size_t bytes = 0;
  };
  static Pool* const pool = new Pool();  // never destroyed: alerts may be freed after static destructors ran
  if (!block) return nullptr;
  std::lock_guard lock(pool->mu);
  const auto [from, to] = pool->by_json.equal_range(block->json_);
  for (auto it = from; it != to; ++it) {
    if (it->second->same(*block)) {
      block.reset();
      return it->second.get();
    }
  }
  const std::size_t size = block->bytes();
  if (pool->bytes + size > kInternLimit) return nullptr;
  pool->bytes += size;
  const FieldBlock* kept = block.get();
  pool->by_json.emplace(std::string_view(kept->json_), std::move(block));
  return kept;
}

}  // namespace saker
