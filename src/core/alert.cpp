#include "core/alert.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <simdjson.h>

#include "core/field_picks.hpp"
#include "core/json_text.hpp"

namespace saker {

std::string Value::to_text() const {
  switch (kind) {
    case Kind::Null: return {};
    case Kind::Bool: return boolean ? "true" : "false";
    case Kind::Int: return std::to_string(i);
    case Kind::Uint: return std::to_string(u);
    case Kind::Double: return fmt::format("{}", d);
    case Kind::String:
    case Kind::Array:
    case Kind::Object: return std::string(text);
  }
  return {};
}

void Value::append_json(std::string& out) const {
  switch (kind) {
    case Kind::Null: out.append("null"); break;
    case Kind::Bool: out.append(boolean ? "true" : "false"); break;
    case Kind::Int: fmt::format_to(std::back_inserter(out), "{}", i); break;
    case Kind::Uint: fmt::format_to(std::back_inserter(out), "{}", u); break;
    case Kind::Double: fmt::format_to(std::back_inserter(out), "{}", d); break;
    case Kind::String: append_json_string(out, text); break;
    case Kind::Array:
    case Kind::Object: out.append(text); break;
  }
}

const std::vector<Field>& Alert::fields() const {
  if (!fields_ready_.load(std::memory_order_acquire)) std::call_once(fields_once_, [this] { build_fields(); });
  return fields_;
}

std::span<const Value> Alert::items(const Value& array) const {
  fields();  // builds tag_items_ and items_
  if (array.alert_tags) return std::span<const Value>(tag_items_).subspan(array.first_item, array.item_count);
  if (array.added_list) return std::span<const Value>(added_items_).subspan(array.first_item, array.item_count);
  return std::span<const Value>(items_).subspan(array.first_item, array.item_count);
}

const Field* Alert::find_field(std::string_view name) const {
  for (const auto& f : fields()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool Alert::lookup(std::string_view name, Value& out) const {
  if (name == "rule") {
    out = Value::string(rule);
  } else if (name == "priority") {
    out = Value::string(to_string(priority));
  } else if (name == "source") {
    out = Value::string(source);
  } else if (name == "hostname") {
    out = Value::string(hostname);
  } else if (name == "output") {
    out = Value::string(output);
  } else if (name == "uuid") {
    out = Value::string(uuid);
  } else if (name == "time") {
    out = Value::integer(time_ns);
  } else if (name == "tags") {
    out = tags_value_;
  } else {
    // Falco's fields: a picked name is answered without the table (and is absent for certain when decode did not
    // pick it), unless its value is an object or array; then, added fields.
    const int slot = picks_ ? picks_->find(name) : -1;
    const Pick* pick = slot >= 0 ? find_pick(static_cast<std::uint32_t>(slot)) : nullptr;
    if (pick && !pick->complex) {
      out = pick->value;
      return true;
    }
    if (slot < 0 || pick) {
      if (const Field* f = find_field(name)) {
        out = f->value;
        return true;
      }
    }
    const Field* f = find_added(name);
    if (!f) return false;
    out = f->value;
  }
  return true;
}

const Alert::Pick* Alert::find_pick(std::uint32_t slot) const noexcept {
  for (const Pick& p : picked_) {
    if (p.slot == slot) return &p;
  }
  return nullptr;
}

namespace {

// The names decode() reads into the Alert itself: an added field may not take them either.
bool reserved_name(std::string_view name) {
  return name == "rule" || name == "priority" || name == "source" || name == "hostname" || name == "output" ||
         name == "uuid" || name == "time" || name == "tags" || name == "output_fields" || name == kPersistKey;
}

}  // namespace

const Field* Alert::find_added(std::string_view name) const noexcept {
  for (const auto& f : added_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string_view Alert::store_added(std::string_view s) {
  if (added_size_ + s.size() > added_cap_) [[unlikely]] {
    const std::size_t cap = std::max({added_cap_ * 2, added_size_ + s.size(), std::size_t{512}});
    std::unique_ptr<char[]> bigger(new char[cap]);
    if (added_size_) std::memcpy(bigger.get(), added_arena_.get(), added_size_);
    const char* old_base = added_arena_.get();
    const char* old_end = old_base + added_size_;
    const char* new_base = bigger.get();
    auto fix = [&](std::string_view& v) {
      if (old_base && v.data() >= old_base && v.data() < old_end) {
        v = std::string_view(new_base + (v.data() - old_base), v.size());
      }
    };
    for (auto& f : added_) {
      fix(f.name);
      fix(f.value.text);
    }
    for (auto& v : added_items_) fix(v.text);
    for (auto& t : tags) fix(t);
    for (auto& v : tag_items_) fix(v.text);
    added_arena_.swap(bigger);
    added_cap_ = cap;
  }
  char* dst = added_arena_.get() + added_size_;
  if (!s.empty()) std::memcpy(dst, s.data(), s.size());
  added_size_ += s.size();
  return std::string_view(dst, s.size());
}

bool Alert::has_falco_field(std::string_view name) const {
  // The name filter says "absent" for certain; "maybe" asks the field table.
  if (!name_filter_valid_) return find_field(name) != nullptr;
  if (!FieldNameFilter::maybe(name_filter_, name)) return false;
  // A rare "maybe": look in a table built for this alert only, without making decode build every alert's.
  if (!fields_ready_.load(std::memory_order_acquire)) std::call_once(fields_once_, [this] { build_fields(false); });
  for (const auto& f : fields_) {
    if (f.name == name) return true;
  }
  return false;
}

namespace {

// Added names and texts must be valid UTF-8, like everything decode accepts: the persisted form is read back by the
// same strict parser, and every format writes them out.
bool valid_utf8(std::string_view s) {
  // ASCII, the usual case, needs no call to the validator.
  std::uint64_t high = 0;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t v;
    std::memcpy(&v, s.data() + i, 8);
    high |= v;
  }
  for (; i < s.size(); ++i) high |= static_cast<unsigned char>(s[i]);
  return !(high & 0x8080808080808080ULL) || simdjson::validate_utf8(s.data(), s.size());
}

}  // namespace

bool Alert::name_free(std::string_view name) const {
  // Not free either (counted by the stage like a taken name): a name that is not valid UTF-8.
  return !reserved_name(name) && !has_falco_field(name) && !find_added(name) && valid_utf8(name);
}

Alert::AddResult Alert::add_field(std::string_view name, const Value& value) {
  if (!name_free(name)) return AddResult::Exists;
  if ((value.kind == Value::Kind::String || value.kind == Value::Kind::Array || value.kind == Value::Kind::Object) &&
      !valid_utf8(value.text)) {
    return AddResult::Exists;
  }
  store_field(name, value);
  return AddResult::Added;
}

void Alert::store_field(std::string_view name, const Value& value) {
  if (added_.empty()) added_.reserve(8);
  // Copy before taking a view: storing the name may move the arena the value's text is in (a value copied from
  // another added field).
  const std::size_t name_at = added_size_;
  store_added(name);
  Field f;
  f.value = value;
  f.value.first_item = 0;
  f.value.item_count = 0;
  f.value.alert_tags = false;
  if (value.kind == Value::Kind::String || value.kind == Value::Kind::Array || value.kind == Value::Kind::Object) {
    const char* base = added_arena_.get();
    if (base && value.text.data() >= base && value.text.data() < base + added_cap_) {
      const std::string copy(value.text);  // a view into this arena, which store_added() can move
      f.value.text = store_added(copy);
    } else {
      f.value.text = store_added(value.text);
    }
  }
  f.name = std::string_view(added_arena_.get() + name_at, name.size());
  added_.push_back(f);
}

Alert::AddResult Alert::add_list(std::string_view name, std::span<const std::string_view> items) {
  if (!name_free(name)) return AddResult::Exists;
  if (std::any_of(items.begin(), items.end(), [](std::string_view v) { return !valid_utf8(v); })) {
    return AddResult::Exists;
  }
  // Items that are views into this alert's added arena (added tags) are copied first: storing can move it.
  const char* base = added_arena_.get();
  const bool inside = base && std::any_of(items.begin(), items.end(), [&](std::string_view v) {
    return v.data() >= base && v.data() < base + added_cap_;
  });
  if (inside) {
    const std::vector<std::string> copies(items.begin(), items.end());
    const std::vector<std::string_view> views(copies.begin(), copies.end());
    return add_list(name, views);
  }
  thread_local std::string json;
  json.clear();
  json.push_back('[');
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) json.push_back(',');
    append_json_string(json, items[i]);
  }
  json.push_back(']');
  Value v;
  v.kind = Value::Kind::Array;
  v.text = json;
  store_field(name, v);  // checked above: the name is free and the items (so their JSON) are UTF-8
  Field& f = added_.back();
  f.value.added_list = true;
  f.value.first_item = static_cast<std::uint32_t>(added_items_.size());
  f.value.item_count = static_cast<std::uint32_t>(items.size());
  if (added_items_.capacity() == 0) added_items_.reserve(std::max<std::size_t>(items.size(), 16));  // one allocation
  for (auto item : items) added_items_.push_back(Value::string(store_added(item)));
  return AddResult::Added;
}

void Alert::add_tag(std::string_view tag) {
  if (!valid_utf8(tag)) return;
  for (auto t : tags) {
    if (t == tag) return;
  }
  // A tag that is a view into the added arena is copied first: storing can move the arena.
  const char* base = added_arena_.get();
  const std::string_view stored = base && tag.data() >= base && tag.data() < base + added_cap_
                                      ? store_added(std::string(tag))
                                      : store_added(tag);
  tags.push_back(stored);
  ++added_tag_count_;
  tags_value_.item_count = static_cast<std::uint32_t>(tags.size());
  if (fields_built_) tag_items_.push_back(Value::string(stored));
}

void Alert::append_persisted(std::string& out) const {
  if (!has_additions() && !time_was_absent) {
    out.append(json_);
    return;
  }
  // json_ always ends in '}' of a non-empty object ("uuid" at least); the original length lets the reader cut the
  // envelope off exactly, whatever the alert's own strings contain.
  const std::size_t body = json_.size() - 1;
  out.append(json_, 0, body);
  fmt::format_to(std::back_inserter(out), ",\"{}\":{{\"len\":{},\"arrival_ns\":{}", kPersistKey, body, arrival_ns);
  if (!added_.empty()) {
    out.append(",\"fields\":{");
    for (std::size_t i = 0; i < added_.size(); ++i) {
      if (i) out.push_back(',');
      append_json_string(out, added_[i].name);
      out.push_back(':');
      added_[i].value.append_json(out);
    }
    out.push_back('}');
  }
  if (added_tag_count_) {
    out.append(",\"tags\":[");
    const auto extra = added_tags();
    for (std::size_t i = 0; i < extra.size(); ++i) {
      if (i) out.push_back(',');
      append_json_string(out, extra[i]);
    }
    out.push_back(']');
  }
  out.append("}}");
}

}  // namespace saker
