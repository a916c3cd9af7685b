#include "core/alert.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <simdjson.h>

#include "core/field_block.hpp"
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
  if (array.items_at || (array.added_list && array.item_count == 0)) return std::span<const Value>(array.items_at, array.item_count);
  if (array.added_list) return std::span<const Value>(add_->items.data(), add_->items.size()).subspan(array.first_item, array.item_count);
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

std::optional<AddedName> AddedName::make(std::string_view name) {
  if (name.empty() || is_reserved_name(name) || !valid_utf8(name)) return std::nullopt;
  AddedName n;
  n.name_ = name;
  n.hash_ = UniqueKeys::hash(name);
  const FieldPicks* picks = FieldPicks::current();
  n.slot_ = picks ? picks->find(name, n.hash_) : -1;
  append_json_string(n.json_key_, name);
  n.json_key_.push_back(':');
  return n;
}

bool is_reserved_name(std::string_view name) noexcept {
  return name == "rule" || name == "priority" || name == "source" || name == "hostname" || name == "output" ||
         name == "uuid" || name == "time" || name == "tags" || name == "output_fields" || name == kPersistKey;
}

// An alert and the room for its additions, in one allocation.
// The room is destroyed only when some part of it spilled to the heap (Alert::room_spilled_): otherwise nothing in
// it owns memory, and destroying it would read five of its cache lines on the sink's thread for nothing.
struct RoomyAlert {
  Alert alert;
  alignas(Alert::Additions) unsigned char room[sizeof(Alert::Additions)];
  RoomyAlert() { alert.add_ = ::new (static_cast<void*>(room)) Alert::Additions; }  // default-initialised
  RoomyAlert(const RoomyAlert&) = delete;
  RoomyAlert& operator=(const RoomyAlert&) = delete;
  ~RoomyAlert() {
    if (alert.room_spilled_) alert.add_->~Additions();
  }
};

namespace {

// Allocates `extra` bytes more than asked, after what was asked, and says where they start: with allocate_shared,
// one allocation holds the control block, the alert and the alert's bytes. The alert is made on a decoding thread
// and freed on a sink's, so every allocation it saves is one the allocator would move between threads.
template <class T>
struct TailAllocator {
  using value_type = T;
  std::size_t extra = 0;
  char** tail = nullptr;
  TailAllocator(std::size_t e, char** t) noexcept : extra(e), tail(t) {}
  template <class U>
  TailAllocator(const TailAllocator<U>& o) noexcept : extra(o.extra), tail(o.tail) {}
  T* allocate(std::size_t n) {
    const std::size_t head = n * sizeof(T);
    char* p = static_cast<char*>(::operator new(head + extra));  // aligned for T (at most max_align_t)
    *tail = extra ? p + head : nullptr;
    return reinterpret_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(static_cast<void*>(p)); }
  template <class U>
  bool operator==(const TailAllocator<U>& o) const noexcept {
    return extra == o.extra;
  }
};

}  // namespace

std::shared_ptr<Alert> Alert::make(bool room, std::size_t bytes) {
  // _for_overwrite default-initialises: no zeroing of the alert's inline storage or of the room's.
  char* tail = nullptr;
  std::shared_ptr<Alert> a;
  if (!room) {
    static_assert(alignof(Alert) <= alignof(std::max_align_t));
    a = std::allocate_shared_for_overwrite<Alert>(TailAllocator<Alert>(bytes, &tail));
  } else {
    static_assert(alignof(RoomyAlert) <= alignof(std::max_align_t));
    auto r = std::allocate_shared_for_overwrite<RoomyAlert>(TailAllocator<RoomyAlert>(bytes, &tail));
    // Moved, not copied, into the alias: a copy would take and drop a reference, two locked instructions that wait
    // for every store to the new alert before them.
    Alert* const alert = &r->alert;
    a = std::shared_ptr<Alert>(std::move(r), alert);
  }
  a->tail_ = tail;
  a->tail_size_ = tail ? bytes : 0;
  return a;
}

Field AddedFields::run_field(const Alert::Additions& add, const Alert::Run& r, std::size_t i) noexcept {
  if (!r.block) return add.fields[r.first + i];
  Field f = r.block->fields()[r.first + i];
  f.stage = r.stage;
  return f;
}

Field AddedFields::iterator::operator*() const noexcept { return AddedFields::run_field(*add_, add_->runs[run_], at_); }

Field AddedFields::operator[](std::size_t i) const noexcept {
  for (const Alert::Run& r : add_->runs) {
    if (i < r.count) return run_field(*add_, r, i);
    i -= r.count;
  }
  return Field();
}

const Field* Alert::find_added(std::string_view name) const noexcept {
  if (!add_) return nullptr;
  for (const Run& r : add_->runs) {
    const Field* f = r.block ? r.block->fields().data() + r.first : add_->fields.data() + r.first;
    for (std::uint32_t i = 0; i < r.count; ++i) {
      if (f[i].name == name) return &f[i];
    }
  }
  return nullptr;
}

void Alert::append_added_json(std::string& out) const {
  if (!add_) return;
  bool first = true;
  for (const Run& r : add_->runs) {
    if (!first) out.push_back(',');
    first = false;
    if (r.block) {
      out.append(r.block->json());
    } else {
      out.append(add_->json.data() + r.json_from, r.json_to - r.json_from);
    }
  }
}

Alert::Additions& Alert::additions() {
  if (!add_) {
    own_add_.reset(new Additions);  // default-initialised: make_unique would zero its inline storage first
    add_ = own_add_.get();
  }
  return *add_;
}

bool Alert::in_arena(std::string_view v) const noexcept {
  if (!add_) return false;
  const char* base = add_->text.data();
  return v.data() >= base && v.data() < base + add_->text.capacity();
}

std::string_view Alert::store_added(std::string_view s) {
  auto& text = additions().text;
  if (text.size() + s.size() > text.capacity()) [[unlikely]] {
    room_spilled_ = true;
    const char* old_base = text.data();
    const char* old_end = old_base + text.size();
    text.reserve(std::max(text.capacity() * 2, text.size() + s.size()));
    const char* new_base = text.data();
    auto fix = [&](std::string_view& v) {
      if (v.data() >= old_base && v.data() < old_end) v = std::string_view(new_base + (v.data() - old_base), v.size());
    };
    for (auto& f : add_->fields) {
      fix(f.name);
      fix(f.value.text);
    }
    for (auto& v : add_->items) fix(v.text);
    for (auto& t : tags) fix(t);
    for (auto& v : tag_items_) fix(v.text);
  }
  const std::size_t at = text.size();
  text.insert(text.end(), s.begin(), s.end());
  return std::string_view(text.data() + at, s.size());
}

void Alert::push_own(const Field& f, std::uint64_t hash, std::string_view key) {
  Additions& add = *add_;
  add.note_name(hash);
  // A run of the alert's own fields goes on while the same stage adds them one after the other.
  const bool extend = !add.runs.empty() && !add.runs.back().block && add.runs.back().json_to == add.json.size() &&
                      add.fields.back().stage == f.stage;
  thread_local std::string member;
  member.clear();
  if (extend) member.push_back(',');
  if (key.empty()) {
    append_json_string(member, f.name);
    member.push_back(':');
  } else {
    member.append(key);
  }
  f.value.append_json(member);
  const auto json_from = static_cast<std::uint32_t>(add.json.size());
  note_growth(add.json, member.size());
  note_growth(add.fields, 1);
  if (!extend) note_growth(add.runs, 1);
  add.json.insert(add.json.end(), member.data(), member.data() + member.size());  // pointers: one copy, not a loop
  add.fields.push_back(f);
  if (extend) {
    Run& r = add.runs.back();
    ++r.count;
    r.json_to = static_cast<std::uint32_t>(add.json.size());
  } else {
    add.runs.push_back(Run{nullptr, static_cast<std::uint32_t>(add.fields.size() - 1), 1, json_from,
                           static_cast<std::uint32_t>(add.json.size()), f.stage});
  }
  ++add.count;
}

bool Alert::has_falco_field(std::string_view name) const { return has_falco_field(name, UniqueKeys::hash(name)); }

bool Alert::has_falco_field(std::string_view name, std::uint64_t hash) const {
  // A name decode picks (every name a configured stage adds is one: pipeline/config.cpp) is Falco's exactly when
  // decode picked it.
  if (picks_) {
    if (const int slot = picks_->find(name, hash); slot >= 0) return find_pick(static_cast<std::uint32_t>(slot)) != nullptr;
  }
  // Another name: look in a table built for this alert only, without making decode build every alert's.
  if (!fields_ready_.load(std::memory_order_acquire)) std::call_once(fields_once_, [this] { build_fields(false); });
  for (const auto& f : fields_) {
    if (f.name == name) return true;
  }
  return false;
}

bool Alert::has_falco_field(std::string_view name, std::uint64_t hash, int slot) const {
  // Slots only grow: an alert whose picks have the slot had that name picked, if Falco sent it.
  if (slot >= 0 && picks_ && static_cast<std::size_t>(slot) < picks_->size()) {
    return find_pick(static_cast<std::uint32_t>(slot)) != nullptr;
  }
  return has_falco_field(name, hash);
}

bool Alert::name_free(std::string_view name, std::uint64_t hash) const {
  // Not free either (counted by the stage like a taken name): a name that is not valid UTF-8.
  return !is_reserved_name(name) && !has_falco_field(name, hash) && !added_has(name, hash) && valid_utf8(name);
}

Alert::AddResult Alert::add_field(std::string_view name, const Value& value) {
  const std::uint64_t hash = UniqueKeys::hash(name);
  if (!name_free(name, hash)) return AddResult::Exists;
  if ((value.kind == Value::Kind::String || value.kind == Value::Kind::Array || value.kind == Value::Kind::Object) &&
      !valid_utf8(value.text)) {
    return AddResult::Exists;
  }
  store_field(name, hash, value);
  return AddResult::Added;
}

Alert::AddResult Alert::add_field(const AddedName& name, const Value& value, bool utf8_known) {
  if (has_falco_field(name.name(), name.hash(), name.slot()) || added_has(name.name(), name.hash())) return AddResult::Exists;
  if (!utf8_known && (value.kind == Value::Kind::String || value.kind == Value::Kind::Array || value.kind == Value::Kind::Object) &&
      !valid_utf8(value.text)) {
    return AddResult::Exists;
  }
  store_field(name.name(), name.hash(), value, name.json_key());
  return AddResult::Added;
}

void Alert::store_field(std::string_view name, std::uint64_t hash, const Value& value, std::string_view key) {
  // Copies first when the name or text is a view into this alert's arena (a value copied from another added field):
  // storing may move the arena.
  if (in_arena(name) || in_arena(value.text)) {
    const std::string n(name), t(value.text);
    Value v = value;
    v.text = t;
    store_field(n, hash, v, key);
    return;
  }
  Field f;
  const std::size_t name_at = additions().text.size();
  store_added(name);
  f.value = value;
  f.value.first_item = 0;
  f.value.item_count = 0;
  f.value.alert_tags = false;
  f.value.added_list = false;  // add_list() makes it a list after storing it
  f.value.items_at = nullptr;
  if (value.kind == Value::Kind::String || value.kind == Value::Kind::Array || value.kind == Value::Kind::Object) {
    f.value.text = store_added(value.text);
  }
  f.name = std::string_view(add_->text.data() + name_at, name.size());  // after storing the text, which may move it
  f.stage = stage_;
  push_own(f, hash, key);
}

std::size_t Alert::copy_block(const FieldBlock& block) {
  std::size_t skipped = 0;
  thread_local std::vector<std::string_view> items;
  for (const Field& f : block.fields()) {
    AddResult r;
    if (f.value.added_list) {
      items.clear();
      for (const Value& v : block.items().subspan(f.value.first_item, f.value.item_count)) items.push_back(v.text);
      r = add_list(f.name, items);
    } else {
      r = add_field(f.name, f.value);
    }
    if (r != AddResult::Added) ++skipped;
  }
  return skipped;
}

std::size_t Alert::add_block(const FieldBlock& block) {
  const auto fields = block.fields();
  const auto hashes = block.hashes();
  const auto slots = block.slots();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (has_falco_field(fields[i].name, hashes[i], slots[i]) || added_has(fields[i].name, hashes[i])) [[unlikely]] {
      return copy_block(block);  // some name is taken: add the others, as copies
    }
  }
  if (fields.empty()) return 0;
  Additions& add = additions();
  // Whoever built the block: the stage that adds it is the one running.
  note_growth(add.runs, 1);
  add.runs.push_back(Run{&block, 0, static_cast<std::uint32_t>(fields.size()), 0, 0, stage_});
  for (const std::uint64_t h : hashes) add.note_name(h);
  add.count += static_cast<std::uint32_t>(fields.size());
  return 0;
}

Alert::AddResult Alert::add_list(std::string_view name, std::span<const std::string_view> items) {
  const std::uint64_t hash = UniqueKeys::hash(name);
  if (!name_free(name, hash)) return AddResult::Exists;
  if (std::any_of(items.begin(), items.end(), [](std::string_view v) { return !valid_utf8(v); })) {
    return AddResult::Exists;
  }
  // Items that are views into this alert's arena (added tags) are copied first: storing can move it.
  if (std::any_of(items.begin(), items.end(), [&](std::string_view v) { return in_arena(v); })) {
    const std::vector<std::string> copies(items.begin(), items.end());
    const std::vector<std::string_view> views(copies.begin(), copies.end());
    return add_list(name, views);
  }
  thread_local std::string json;
  json.clear();
  append_json_string_array(json, items);
  Value v;
  v.kind = Value::Kind::Array;
  v.text = json;
  store_field(name, hash, v);  // checked above: the name is free and the items (so their JSON) are UTF-8
  Additions& add = *add_;
  Field& f = add.fields.back();  // an own field: the last run's last
  f.value.added_list = true;
  f.value.first_item = static_cast<std::uint32_t>(add.items.size());
  f.value.item_count = static_cast<std::uint32_t>(items.size());
  for (auto item : items) {
    const std::string_view stored = store_added(item);  // may move the arena, and the views of items before
    note_growth(add.items, 1);
    add.items.push_back(Value::string(stored));
  }
  return AddResult::Added;
}

void Alert::add_tag(std::string_view tag) {
  if (!valid_utf8(tag)) return;
  for (auto t : tags) {
    if (t == tag) return;
  }
  // A tag that is a view into the arena is copied first: storing can move the arena.
  const std::string_view stored = in_arena(tag) ? store_added(std::string(tag)) : store_added(tag);
  tags.push_back(stored);
  ++added_tag_count_;
  tags_value_.item_count = static_cast<std::uint32_t>(tags.size());
  if (fields_built_) tag_items_.push_back(Value::string(stored));
}

// "stages":[["fields",2],["mitre",4]]: the stage of each added field, in the order of "fields", as runs of one
// stage's key and how many fields in a row it added ("" for fields whose stage is not known). Left out when no
// field's stage is known: such an alert persists as before stages were recorded.
void Alert::append_persisted_stages(std::string& out) const {
  thread_local std::vector<StageId> stages;
  stages.clear();
  for (const Field& f : added()) stages.push_back(f.stage);
  if (std::all_of(stages.begin(), stages.end(), [](StageId s) { return s == kUnknownStage; })) return;
  out.append(",\"stages\":[");
  for (std::size_t i = 0; i < stages.size();) {
    std::size_t n = 1;
    while (i + n < stages.size() && stages[i + n] == stages[i]) ++n;
    if (i) out.push_back(',');
    out.append("[\"");
    out.append(stage_origin(stages[i]).key);  // plain text (stage_origin.hpp checks it)
    fmt::format_to(std::back_inserter(out), "\",{}]", n);
    i += n;
  }
  out.push_back(']');
}

void Alert::append_persisted(std::string& out) const {
  if (!has_additions() && !time_was_absent) {
    out.append(json_);
    return;
  }
  // json_ always ends in '}' of a non-empty object ("uuid" at least); the original length lets the reader cut the
  // envelope off exactly, whatever the alert's own strings contain.
  const std::size_t body = json_.size() - 1;
  out.append(json_.substr(0, body));
  fmt::format_to(std::back_inserter(out), ",\"{}\":{{\"len\":{},\"arrival_ns\":{}", kPersistKey, body, arrival_ns);
  if (has_fields_added()) {
    out.append(",\"fields\":{");
    append_added_json(out);
    out.push_back('}');
    append_persisted_stages(out);
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
