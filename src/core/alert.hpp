#pragma once
// The Alert: one Falco alert, decoded once and shared read-only by every stage and sink.
//
// The alert keeps the bytes it arrived as (minified to one line) so the `json` format can re-emit them
// unchanged; every string it exposes is a view into storage the alert owns, so no field costs an allocation.
//
// Decoding validates the whole alert (JSON, UTF-8, limits, required keys) and extracts the top-level keys at
// once; the table of output fields is built on first use, by whichever thread asks first (fields(), find_field(),
// lookup() of a field it did not pick, items()). A route on priority that feeds the `json` format never pays for
// it, nor do templates and filters, whose field names decode picks (core/field_picks.hpp); once any table was asked
// for, decoding builds the next ones at once, on the decoding threads.
//
// Added fields: after decode and before the alert is shared (the stage chain, on the decoding thread), stages add
// fields and tags to it. They never replace or remove what Falco sent: a name the alert already has is refused.
// Added fields are seen by lookup() after Falco's, by every formatter (each places them where its target expects),
// and are persisted with the alert (persisted(): the disk buffer, dead letters) so a restart keeps them, each with
// the stage that added it (Field::stage).
#include <atomic>
#include <cstddef>
#include <iterator>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "core/json_scan.hpp"
#include "core/priority.hpp"
#include "core/stage_origin.hpp"
#include "core/unique_keys.hpp"

namespace saker {

struct Value {
  enum class Kind : std::uint8_t { Null, Bool, Int, Uint, Double, String, Array, Object };

  Kind kind = Kind::Null;
  bool boolean = false;
  bool alert_tags = false;  // Array: the alert's `tags` (kept apart from the fields' list elements)
  bool added_list = false;  // Array: an added list (its elements are the alert's added items, or at items_at)
  // Array: its elements, as a range of Alert::items().
  std::uint32_t first_item = 0;
  std::int64_t i = 0;   // Int
  std::uint64_t u = 0;  // Uint (only for values above INT64_MAX)
  double d = 0;         // Double
  // String: the unescaped text. Object: its minified JSON. Array: its minified JSON too.
  std::string_view text;
  std::uint32_t item_count = 0;
  // Array: elements that live outside the alert (a FieldBlock's list), item_count of them from here; null: see
  // first_item. (In what was padding: a Value is no larger for it.)
  const Value* items_at = nullptr;

  bool is_number() const noexcept { return kind == Kind::Int || kind == Kind::Uint || kind == Kind::Double; }
  bool is_null() const noexcept { return kind == Kind::Null; }
  // The value as a filter or template sees it: strings verbatim, numbers in decimal, true/false, "" for null.
  std::string to_text() const;
  // The value as JSON (strings quoted and escaped).
  void append_json(std::string& out) const;

  static Value string(std::string_view s) {
    Value v;
    v.kind = Kind::String;
    v.text = s;
    return v;
  }
  static Value integer(std::int64_t n) {
    Value v;
    v.kind = Kind::Int;
    v.i = n;
    return v;
  }
};

struct Field {
  std::string_view name;  // verbatim, e.g. "proc.cmdline", "k8s.ns.name", "proc.aname[2]"
  Value value;
  bool top_level = false;  // true: an unknown top-level key (flattened shape or an extension), not in output_fields
  // An added field: the stage that added it (core/stage_origin.hpp), stamped by the alert from the stage the chain
  // is running; kUnknownStage for Falco's fields and for fields added outside a chain. In the padding after
  // top_level: a Field is no larger for it.
  StageId stage = kUnknownStage;
};
namespace detail {
struct FieldWithoutStage {
  std::string_view name;
  Value value;
  bool top_level;
};
}  // namespace detail
static_assert(sizeof(Field) == sizeof(detail::FieldWithoutStage), "Field::stage must fit in Field's padding");
static_assert(sizeof(Value) == 64, "a Value is one cache line");

// The reserved top-level key of the persisted form, holding what saker added to an alert (persisted()).
inline constexpr std::string_view kPersistKey = "_saker";

class Alert;
class AddedFields;
class FieldBlock;
class FieldPicks;

// The names an added field may not take: the keys decode reads into the Alert itself, output_fields, kPersistKey.
bool is_reserved_name(std::string_view name) noexcept;

// A name a stage adds to alert after alert (a templated field's), checked, hashed and written as a JSON key once.
class AddedName {
 public:
  static std::optional<AddedName> make(std::string_view name);  // nullopt: reserved, empty or not UTF-8
  const std::string& name() const noexcept { return name_; }
  std::uint64_t hash() const noexcept { return hash_; }
  // Its slot among the names decode picks (core/field_picks.hpp) when it was registered before make(); -1 if not.
  int slot() const noexcept { return slot_; }
  std::string_view json_key() const noexcept { return json_key_; }  // "name":

 private:
  std::string name_;
  std::uint64_t hash_ = 0;
  int slot_ = -1;
  std::string json_key_;
};
using AlertPtr = std::shared_ptr<const Alert>;

class Alert {
 public:
  Alert() = default;
  Alert(const Alert&) = delete;
  Alert& operator=(const Alert&) = delete;
  Alert(Alert&&) = delete;
  Alert& operator=(Alert&&) = delete;

  // A new alert. With `room`, the storage for what stages add is part of the same allocation (decode asks for it
  // when stages run): an enriched alert costs no allocation more than a plain one. `bytes`: that many bytes more in
  // the same allocation, for decode to hold the alert's JSON and strings in (tail()).
  static std::shared_ptr<Alert> make(bool room, std::size_t bytes = 0);
  // The bytes make() allocated with the alert (nullptr and 0 without).
  char* tail() noexcept { return tail_; }
  std::size_t tail_size() const noexcept { return tail_size_; }
  // An alert's tags; most alerts' fit without an allocation of their own.
  using Tags = boost::container::small_vector<std::string_view, 8>;
  // Bytes the alert holds for additions beyond what its JSON suggests (the room, or the storage made at the first
  // addition), for a queue's memory accounting.
  std::size_t additions_bytes() const noexcept { return add_ ? sizeof(Additions) : 0; }

  std::string_view rule;
  Priority priority = Priority::Debug;
  std::string_view priority_text;  // as received, e.g. "Warning" or "informational"
  std::string_view source;         // "syscall", "k8s_audit", ... ("" when absent)
  std::string_view hostname;
  std::string_view output;
  std::string_view uuid;           // received or generated
  bool uuid_generated = false;
  std::int64_t time_ns = 0;        // event time, nanoseconds since the epoch (UTC); the arrival time when absent
  std::int64_t arrival_ns = 0;     // when saker decoded it first (kept across the disk buffer and dead letters)
  bool time_was_absent = false;    // the alert had no "time": time_ns is arrival_ns
  std::string_view time_text;      // as received when it was a string; "" when it was an integer
  bool time_was_integer = false;
  bool has_output_fields = false;  // the real Falco shape (output_fields object) rather than flattened
  bool is_test = false;            // a test alert (POST /test): every sink takes it, whatever its route
  Tags tags;
  std::span<const std::string_view> tag_span() const noexcept { return {tags.data(), tags.size()}; }

  // output_fields and unknown top-level keys, in received order. Built on the first call; thread-safe.
  const std::vector<Field>& fields() const;

  // Output field or unknown top-level key by its verbatim name; nullptr when absent.
  const Field* find_field(std::string_view name) const;

  // Any name a filter or template may use: rule, priority, source, hostname, output, uuid, time (ns),
  // tags (array), and every field. Returns false when the alert has no such field.
  bool lookup(std::string_view name, Value& out) const;

  // The alert as received, minified to one line, with the generated uuid (if any) added.
  std::string_view json() const noexcept { return json_; }

  // The elements of an Array value of this alert.
  std::span<const Value> items(const Value& array) const;

  // --- Added fields (stages, before the alert is shared) ---
  // Every field added (add_field, add_list, add_block, copy_block) records the stage that added it (Field::stage):
  // the stage StageChain::run set on the alert before calling it. Stages cannot set it themselves.
  enum class AddResult : std::uint8_t { Added, Exists };
  // Adds a field with a copy of its name and text (String, Object and Array values keep their JSON text; an added
  // Array has no items()). Exists: Falco's alert or an earlier stage has that name; nothing changes.
  AddResult add_field(std::string_view name, const Value& value);
  // The same for a name checked once (AddedName): only the alert's names and the value are checked.
  // `utf8_known`: the caller knows the text is valid UTF-8 (a template rendered from valid UTF-8 alone).
  AddResult add_field(const AddedName& name, const Value& value, bool utf8_known = false);
  // Adds a list of strings (items() gives its elements, filters' `in`/`intersects`/`contains` see them).
  AddResult add_list(std::string_view name, std::span<const std::string_view> items);
  // Adds every field of a block whose name the alert does not have yet (core/field_block.hpp); returns how many it
  // skipped. The alert's views point into the block, which must outlive the alert: an interned block
  // (FieldBlock::intern) lives as long as the process.
  std::size_t add_block(const FieldBlock& block);
  // The same, copying the block's fields into the alert: for a block that may not outlive it.
  std::size_t copy_block(const FieldBlock& block);
  // Appends a tag to `tags` (lookup, filters and formats see it); a tag the alert already has is not repeated.
  void add_tag(std::string_view tag);
  // Fields added by stages, in the order added: a range of Field values (AddedFields). The fields of a block the
  // alert borrowed (add_block) are the block's own, with the stage that added the block.
  AddedFields added() const noexcept;
  // Tags added by stages (also at the end of `tags`).
  std::span<const std::string_view> added_tags() const noexcept {
    return std::span<const std::string_view>(tags.data(), tags.size()).subspan(tags.size() - added_tag_count_);
  }
  bool has_fields_added() const noexcept { return add_ && add_->count > 0; }
  bool has_additions() const noexcept { return has_fields_added() || added_tag_count_ > 0; }
  // Appends the added fields as JSON members, comma-separated, without braces ("env":"prod","n":3): written as each
  // field (or block) was added, so formats and the persisted form copy it instead of escaping every field again.
  void append_added_json(std::string& out) const;
  std::string added_json() const {
    std::string out;
    append_added_json(out);
    return out;
  }
  // Where added members go in json() (the closing brackets of output_fields and tags), when decode found them.
  const SplicePoints* splice_points() const noexcept { return splice_known_ ? &splice_ : nullptr; }
  const Field* find_added(std::string_view name) const noexcept;
  // Whether Falco's alert has this field (output_fields or an unknown top-level key).
  bool has_falco_field(std::string_view name) const;
  bool has_falco_field(std::string_view name, std::uint64_t hash) const;  // hash: UniqueKeys::hash(name)
  // The same for a name whose pick slot is known (AddedName::slot(), FieldBlock::slots(); -1: not known): one look
  // at what decode picked when the alert's picks have that slot.
  bool has_falco_field(std::string_view name, std::uint64_t hash, int slot) const;

  // The form saker persists (disk buffer, dead letters) and reads back with Decoder::Mode::Persisted: json()
  // with one more top-level key, kPersistKey, holding the added fields and tags and the arrival time. Without
  // additions and with a time of its own it is json() itself.
  void append_persisted(std::string& out) const;
  std::string persisted() const {
    std::string out;
    append_persisted(out);
    return out;
  }

 private:
  friend class FieldTable;
  friend class Decoder;
  friend class StageChain;  // sets stage_ around each stage it runs
  // Parses json_ again and has FieldTable build the table. `mark_wanted`: from then on decode builds every alert's
  // table at once (a consumer reads fields); false for a one-off look (has_falco_field() of a name not picked).
  void build_fields(bool mark_wanted = true) const;

  // The alert as received (json()) and, after it, the unescaped top-level strings (rule, output, ...) and the
  // generated uuid, which the views above point into: in the bytes allocated with the alert (make(), tail_), so that
  // a decoded alert is one allocation. json_store_ holds the JSON in the rare case it does not fit there.
  std::string_view json_;
  std::string json_store_;
  char* tail_ = nullptr;
  std::size_t tail_size_ = 0;
  Value tags_value_;  // `tags` as an Array value over tag_items_

  // Built once, on demand (build_fields): the field table, list elements, and the unescaped strings they view;
  // the arena is grown only by FieldTable, which moves the views along.
  mutable std::once_flag fields_once_;
  std::atomic<bool> fields_ready_{false};  // decode built the table before sharing the alert: no once needed
  mutable std::vector<Field> fields_;
  mutable std::vector<Value> tag_items_;  // `tags` as Values, for items(tags_value_)
  mutable std::vector<Value> items_;
  mutable std::unique_ptr<char[]> arena_;
  mutable std::size_t arena_size_ = 0;
  mutable std::size_t arena_cap_ = 0;

  // Added fields and tags, in the room made with the alert or one allocation made at the first addition. What was
  // added is a list of runs, in order: a borrowed block (add_block: its fields are not copied, only named) or fields
  // the alert holds itself (add_field, add_list, copy_block: `fields`, their texts in the arena `text`, their
  // elements in `items`, their JSON members in `json`). Views into the arena are moved along when it grows.
  struct Run {
    const FieldBlock* block = nullptr;  // null: `count` of the alert's own fields from `first`
    std::uint32_t first = 0, count = 0;
    std::uint32_t json_from = 0, json_to = 0;  // own fields: their members in `json`
    StageId stage = kUnknownStage;             // a block: the stage that added it (own fields carry their own)
  };
  struct Additions {
    boost::container::small_vector<Run, 4> runs;
    boost::container::small_vector<Field, 2> fields;  // the alert's own
    boost::container::small_vector<Value, 4> items;   // elements of its own lists
    boost::container::small_vector<char, 128> text;
    boost::container::small_vector<char, 192> json;
    std::uint32_t count = 0;  // fields added, in all runs
    // Two bits per added name (of 256, from its hash): most names that are not among them are told so without a
    // comparison, also when an alert carries a few dozen added fields.
    std::uint64_t names[4] = {0, 0, 0, 0};
    void note_name(std::uint64_t h) noexcept {
      names[(h >> 6) & 3] |= std::uint64_t{1} << (h & 63);
      names[(h >> 14) & 3] |= std::uint64_t{1} << ((h >> 8) & 63);
    }
    bool may_have(std::uint64_t h) const noexcept {
      return (names[(h >> 6) & 3] >> (h & 63) & 1) && (names[(h >> 14) & 3] >> ((h >> 8) & 63) & 1);
    }
  };
  friend class AddedFields;
  void push_own(const Field& f, std::uint64_t hash, std::string_view key);  // an own field (texts stored), its JSON, its run
  Additions& additions();
  bool in_arena(std::string_view v) const noexcept;
  std::string_view store_added(std::string_view s);
  bool name_free(std::string_view name, std::uint64_t hash) const;  // no field has it, not reserved, UTF-8
  // add_field() after its checks; `hash`: UniqueKeys::hash(name)
  void store_field(std::string_view name, std::uint64_t hash, const Value& value, std::string_view key = {});
  // Whether an earlier addition has the name: most names are told apart by a bit of their hash (Additions::names).
  bool added_has(std::string_view name, std::uint64_t hash) const noexcept {
    return add_ && add_->may_have(hash) && find_added(name);
  }
  void append_persisted_stages(std::string& out) const;  // the envelope's "stages" (append_persisted)
  // The fields decode picked out for lookup() (core/field_picks.hpp): the version of the names it used, and the
  // values of those the alert has. A value that is an object or array is not picked (lookup() uses the table).
  struct Pick {
    std::uint32_t slot = 0;
    bool complex = false;
    Value value;
  };
  const FieldPicks* picks_ = nullptr;
  boost::container::small_vector<Pick, 4> picked_;
  const Pick* find_pick(std::uint32_t slot) const noexcept;
  // Where the json format inserts added members into json_, found at decode when stages run (json_scan.hpp).
  SplicePoints splice_;
  bool splice_known_ = false;
  Additions* add_ = nullptr;  // the room (make()), own_add_, or none yet
  bool room_spilled_ = false;  // some part of the additions grew past its inline storage (the room is destroyed)
  template <class V>
  void note_growth(const V& v, std::size_t more) noexcept {
    if (v.size() + more > v.capacity()) room_spilled_ = true;
  }
  std::unique_ptr<Additions> own_add_;
  friend struct RoomyAlert;
  std::size_t added_tag_count_ = 0;
  // The stage the chain is running (StageChain::run), stamped on every field added meanwhile; in_chain_: a chain
  // is running on this alert (a stage that runs a chain of its own does not change the stamp).
  StageId stage_ = kUnknownStage;
  bool in_chain_ = false;
  mutable bool fields_built_ = false;  // set by FieldTable::build: tag_items_ exists and add_tag keeps it current
};

// The fields an alert's stages added, in order (Alert::added()): each a Field value, a borrowed block's with the
// stage that added the block. A forward range; size() and operator[] walk the runs (an alert has a few).
class AddedFields {
 public:
  class iterator {
   public:
    using iterator_concept = std::forward_iterator_tag;
    using iterator_category = std::input_iterator_tag;  // its reference is a value
    using value_type = Field;
    using difference_type = std::ptrdiff_t;
    using reference = Field;
    iterator() = default;
    Field operator*() const noexcept;
    iterator& operator++() noexcept {
      if (++at_ >= add_->runs[run_].count) at_ = 0, ++run_;
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator was = *this;
      ++*this;
      return was;
    }
    bool operator==(const iterator& o) const noexcept { return run_ == o.run_ && at_ == o.at_; }

   private:
    friend class AddedFields;
    iterator(const Alert::Additions* add, std::size_t run) noexcept : add_(add), run_(run) {}
    const Alert::Additions* add_ = nullptr;
    std::size_t run_ = 0;
    std::uint32_t at_ = 0;
  };

  explicit AddedFields(const Alert::Additions* add) noexcept : add_(add) {}
  iterator begin() const noexcept { return iterator(add_, 0); }
  iterator end() const noexcept { return iterator(add_, add_ ? add_->runs.size() : 0); }
  std::size_t size() const noexcept { return add_ ? add_->count : 0; }
  bool empty() const noexcept { return size() == 0; }
  Field operator[](std::size_t i) const noexcept;

 private:
  // The i-th field of a run: one of the alert's own, or the block's with the stage that added the block.
  static Field run_field(const Alert::Additions& add, const Alert::Run& r, std::size_t i) noexcept;
  const Alert::Additions* add_;
};

inline AddedFields Alert::added() const noexcept { return AddedFields(add_); }


}  // namespace saker
