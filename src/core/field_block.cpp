#include "core/field_block.hpp"

#include <algorithm>

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
    b->fields_.push_back(f);
    b->hashes_.push_back(UniqueKeys::hash(f.name));
    if (!b->json_.empty()) b->json_.push_back(',');
    append_json_string(b->json_, f.name);
    b->json_.push_back(':');
    f.value.append_json(b->json_);
  }
  return b;
}

}  // namespace saker
