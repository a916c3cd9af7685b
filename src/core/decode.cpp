#include "core/decode.hpp"

#include <simdjson.h>

#include <atomic>
#include <cstring>
#include <limits>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/field_picks.hpp"
#include "core/json_text.hpp"
#include "core/json_scan.hpp"
#include "core/time.hpp"
#include "core/unique_keys.hpp"
#include "core/uuid.hpp"

namespace saker {

namespace dom = simdjson::dom;

// The field table of an alert: output_fields and unknown top-level keys, with list elements. It runs twice over
// an alert, with the same walk: at decode, without a target, it only counts fields and list elements, so an alert
// over limits.max_fields is refused then (the parser itself refuses nesting over limits.max_depth); later, with
// the alert as target (build()), it builds the table. Strings are copied into the alert's arena; when the arena
// has to grow, every view taken so far is moved to the new storage (rebase), so views never dangle.
class FieldTable {
 public:
  FieldTable(const Alert* target, const DecodeLimits& limits) : a_(target), limits_(limits) {}

  // One top-level key of the alert: output_fields (an object), one of the keys decode() extracts itself, or an
  // unknown key, which becomes a top-level field.
  Result<bool> top_level(std::string_view key, dom::element val);
  // Builds `alert`'s table (and its tags as Values) from its parsed JSON, which decode() already checked.
  static void build(const Alert& alert, dom::object root);
  // Counts one more field or element against limits.max_fields.
  Result<bool> count() {
    if (++count_ > limits_.max_fields) return too_many();
    return true;
  }

 private:
  Result<bool> add_field(std::string_view key, dom::element val, bool top_level);
  Result<bool> value_of(dom::element e, Value* out);
  std::string_view store(std::string_view s);
  void rebase(const char* old_base, const char* new_base);
  Error too_many() const {
    return make_error("too_many_fields",
                      fmt::format("alert has more than {} fields and list elements (limits.max_fields)",
                                  limits_.max_fields));
  }

  const Alert* a_;  // nullptr: count and check only
  const DecodeLimits& limits_;
  std::size_t count_ = 0;
  // Elements of arrays still being collected (nested arrays stack up): rebase() moves their views too.
  std::vector<std::vector<Value>*> pending_;
};

namespace {

// The top-level keys decode() reads into the Alert itself, a bit each (to find one sent twice); they are not fields.
// "output_fields" has a bit too, though as anything but an object it is a field.
constexpr unsigned kEnvelopeBit = 1u << 0;
constexpr unsigned kOutputFieldsBit = 1u << 1;
constexpr unsigned kRuleBit = 1u << 2;
constexpr unsigned kUuidBit = 1u << 3;
constexpr unsigned kTimeBit = 1u << 4;
constexpr unsigned kTagsBit = 1u << 5;
constexpr unsigned kOutputBit = 1u << 6;
constexpr unsigned kSourceBit = 1u << 7;
constexpr unsigned kPriorityBit = 1u << 8;
constexpr unsigned kHostnameBit = 1u << 9;

// `key` is `N` bytes long already: equal to the literal `lit` (N bytes and its terminator), compared inline.
template <std::size_t N>
bool same(std::string_view key, const char (&lit)[N + 1]) noexcept {
  return std::memcmp(key.data(), lit, N) == 0;
}

unsigned head_bit(std::string_view key) noexcept {
  switch (key.size()) {
    case 4:
      return same<4>(key, "rule") ? kRuleBit
             : same<4>(key, "uuid") ? kUuidBit
             : same<4>(key, "time") ? kTimeBit
             : same<4>(key, "tags") ? kTagsBit
                                    : 0;
    case 6:
      static_assert(kPersistKey.size() == 6);
      return same<6>(key, "output") ? kOutputBit
             : same<6>(key, "source") ? kSourceBit
             : std::memcmp(key.data(), kPersistKey.data(), 6) == 0 ? kEnvelopeBit
                                                                   : 0;
    case 8: return same<8>(key, "priority") ? kPriorityBit : same<8>(key, "hostname") ? kHostnameBit : 0;
    case 13: return same<13>(key, "output_fields") ? kOutputFieldsBit : 0;
    default: return 0;
  }
}

bool head_key(std::string_view key) { return (head_bit(key) & ~kOutputFieldsBit) != 0; }

}  // namespace

Result<bool> FieldTable::top_level(std::string_view key, dom::element val) {
  if (key == "output_fields" && val.is_object()) {
    const dom::object fields = val.get_object().value_unsafe();
    for (auto [k, v] : fields) {
      if (auto r = add_field(k, v, false); !r) return r;
    }
    return true;
  }
  if (head_key(key)) return true;
  return add_field(key, val, true);
}

Result<bool> FieldTable::add_field(std::string_view key, dom::element val, bool top_level) {
  if (auto r = count(); !r) return r;
  if (!a_) return value_of(val, nullptr);
  // Filled in place: a field being built is already where rebase() looks.
  Field& f = a_->fields_.emplace_back();
  f.name = store(key);
  f.top_level = top_level;
  return value_of(val, &f.value);
}

std::string_view FieldTable::store(std::string_view s) {
  const std::size_t at = a_->arena_size_;
  if (at + s.size() > a_->arena_cap_) [[unlikely]] {
    const std::size_t cap = std::max(a_->arena_cap_ * 2, at + s.size() + 64);
    std::unique_ptr<char[]> bigger(new char[cap]);
    if (at) std::memcpy(bigger.get(), a_->arena_.get(), at);
    const char* old_base = a_->arena_.get();
    a_->arena_.swap(bigger);
    a_->arena_cap_ = cap;
    rebase(old_base, a_->arena_.get());
  }
  char* dst = a_->arena_.get() + at;
  if (!s.empty()) std::memcpy(dst, s.data(), s.size());
  a_->arena_size_ = at + s.size();
  return std::string_view(dst, s.size());
}

void FieldTable::rebase(const char* old_base, const char* new_base) {
  const char* old_end = old_base + a_->arena_size_;
  auto fix = [&](std::string_view& v) {
    if (v.data() >= old_base && v.data() < old_end) v = std::string_view(new_base + (v.data() - old_base), v.size());
  };
  for (auto& f : a_->fields_) {
    fix(f.name);
    fix(f.value.text);
  }
  for (auto& v : a_->items_) fix(v.text);
  for (auto* elems : pending_) {
    for (auto& v : *elems) fix(v.text);
  }
}

Result<bool> FieldTable::value_of(dom::element e, Value* out) {
  using T = dom::element_type;
  if (!out) {  // counting: only lists hold more to count
    if (e.type() != T::ARRAY) return true;
    const dom::array arr = e.get_array().value_unsafe();
    for (dom::element item : arr) {
      if (auto r = count(); !r) return r;
      if (auto r = value_of(item, nullptr); !r) return r;
    }
    return true;
  }
  switch (e.type()) {
    case T::NULL_VALUE: out->kind = Value::Kind::Null; break;
    case T::BOOL:
      out->kind = Value::Kind::Bool;
      out->boolean = e.get_bool().value_unsafe();
      break;
    case T::INT64:
      out->kind = Value::Kind::Int;
      out->i = e.get_int64().value_unsafe();
      break;
    case T::UINT64:
      out->kind = Value::Kind::Uint;
      out->u = e.get_uint64().value_unsafe();
      break;
    case T::DOUBLE:
      out->kind = Value::Kind::Double;
      out->d = e.get_double().value_unsafe();
      break;
    case T::STRING:
      out->kind = Value::Kind::String;
      out->text = store(e.get_string().value_unsafe());
      break;
    case T::OBJECT: {
      out->kind = Value::Kind::Object;
      out->text = store(simdjson::minify(e));
      break;
    }
    case T::ARRAY: {
      out->kind = Value::Kind::Array;
      out->text = store(simdjson::minify(e));
      // Elements go into items_ contiguously: collect them first, since a nested array appends its own.
      const dom::array arr = e.get_array().value_unsafe();
      std::vector<Value> elems;
      elems.reserve(arr.size());  // no reallocation: an element is filled in place, where rebase() sees it
      pending_.push_back(&elems);
      for (dom::element item : arr) {
        if (auto r = count(); !r) {
          pending_.pop_back();
          return r;
        }
        if (auto r = value_of(item, &elems.emplace_back()); !r) {
          pending_.pop_back();
          return r;
        }
      }
      pending_.pop_back();
      out->first_item = static_cast<std::uint32_t>(a_->items_.size());
      out->item_count = static_cast<std::uint32_t>(elems.size());
      a_->items_.insert(a_->items_.end(), elems.begin(), elems.end());
      break;
    }
  }
  return true;
}

namespace {

// Set once any alert's field table is built on demand (a format, filter or template reads fields): from then on
// decode() builds the table at once, from the document it has parsed anyway, on the decoding thread, instead of
// leaving a second parse to whichever single sink thread asks first. A pipeline that only routes on priority and
// writes `json` never sets it.
std::atomic<bool> g_fields_wanted{false};

}  // namespace

void FieldTable::build(const Alert& a, dom::object root) {
  // decode() already validated this text and checked it against the limits, so neither can fail here.
  static const DecodeLimits unlimited{std::numeric_limits<std::size_t>::max(), std::numeric_limits<std::size_t>::max(),
                                      std::numeric_limits<std::size_t>::max()};
  a.fields_built_ = true;
  a.tag_items_.reserve(a.tags.size());
  for (auto t : a.tags) a.tag_items_.push_back(Value::string(t));
  a.arena_cap_ = a.json_.size() + 64;
  a.arena_.reset(new char[a.arena_cap_]);
  a.arena_size_ = 0;
  std::size_t expected = root.size();
  if (dom::object of; !root["output_fields"].get(of)) expected += of.size();
  a.fields_.reserve(expected);
  FieldTable table(&a, unlimited);
  for (auto [key, val] : root) {
    if (auto r = table.top_level(key, val); !r) {
      spdlog::error("cannot build the field table of alert {}: {}", a.uuid, r.error().message);
      return;
    }
  }
}

void Alert::build_fields(bool mark_wanted) const {
  if (mark_wanted) g_fields_wanted.store(true, std::memory_order_relaxed);
  if (json_.empty()) return;  // an alert made in code, not received: it has no fields
  thread_local dom::parser parser;
  dom::object root;
  if (auto err = parser.parse(json_.data(), json_.size(), true).get(root); err) {
    spdlog::error("cannot build the field table of alert {}: {}", uuid, simdjson::error_message(err));
    return;
  }
  FieldTable::build(*this, root);
}

namespace {

Error bad_type(std::string_view key, std::string_view want) {
  return make_error("bad_field_type", fmt::format("top-level \"{}\" must be {}", key, want));
}

// At most 64 bytes of `s`, cut at a character boundary, for a message.
std::string_view excerpt(std::string_view s) {
  if (s.size() <= 64) return s;
  std::size_t n = 64;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

Error duplicate_key(std::string_view key, std::string_view where) {
  return make_error("duplicate_key", fmt::format("key \"{}\" appears twice {}: send each key once (parsers differ "
                                                 "on which of two equal keys counts)",
                                                 excerpt(key), where));
}

bool nests(dom::element v) {
  const dom::element_type t = v.type();
  return t == dom::element_type::OBJECT || t == dom::element_type::ARRAY;
}

// Every object inside `v`, the value of `field`, names each of its keys once.
Result<bool> unique_nested(UniqueKeys& keys, dom::element v, std::string_view field) {
  if (v.type() == dom::element_type::ARRAY) {
    const dom::array arr = v.get_array().value_unsafe();
    for (dom::element item : arr) {
      if (!nests(item)) continue;
      if (auto r = unique_nested(keys, item, field); !r) return r;
    }
    return true;
  }
  const dom::object obj = v.get_object().value_unsafe();
  const UniqueKeys::Set set = keys.open(obj.size());
  for (auto [k, val] : obj) {
    if (keys.add(set, k) != UniqueKeys::kNew) {
      return duplicate_key(k, fmt::format("in an object inside \"{}\"", excerpt(field)));
    }
    if (!nests(val)) continue;
    if (auto r = unique_nested(keys, val, field); !r) return r;
  }
  keys.close(set);
  return true;
}

// The top-level keys as the parser holds them, before they are copied into the alert.
struct Head {
  std::string_view rule, priority, output, source, hostname, uuid, time_text;
  std::int64_t time_ns = 0;
  bool have_rule = false, have_priority = false, have_time = false, time_was_integer = false;
  bool has_output_fields = false;
  bool uuid_empty = false;  // "uuid":"" (a generated uuid replaces it)
  dom::object output_fields;
  std::vector<std::string_view> tags;
  std::vector<std::pair<std::string_view, dom::element>> unknown;  // the other top-level keys: fields (the
                                                                   // flattened shape's place for them)
  const FieldPicks* picks = nullptr;  // the names to pick, when any is registered
  std::vector<std::pair<std::uint32_t, dom::element>> picked;  // their slots and values, as found
  bool have_envelope = false;
  dom::element envelope;  // kPersistKey's value (persisted form only)
  // Member positions (0: the first top-level member), for the json format's splice points.
  int members = 0, fields_member = -1, tags_member = -1, envelope_member = -1;

  void reset() {  // keeps the lists' capacity
    std::vector<std::string_view> keep_tags = std::move(tags);
    auto keep_unknown = std::move(unknown);
    auto keep_picked = std::move(picked);
    keep_tags.clear();
    keep_unknown.clear();
    keep_picked.clear();
    *this = Head();
    tags = std::move(keep_tags);
    unknown = std::move(keep_unknown);
    picked = std::move(keep_picked);
  }
};

// The fields name each field once: the unknown top-level keys and output_fields together, so that one name cannot
// be in both (a filter would find one, a format the other).
Result<bool> unique_fields(UniqueKeys& keys, Head& h) {
  enum : unsigned { kTop, kOutputFields };
  const UniqueKeys::Set set = keys.open(h.unknown.size() + (h.has_output_fields ? h.output_fields.size() : 0));
  const auto pick = [&h](std::string_view k, std::uint64_t hash, dom::element val) {
    if (!h.picks) return;
    if (const int slot = h.picks->find(k, hash); slot >= 0) h.picked.emplace_back(static_cast<std::uint32_t>(slot), val);
  };
  for (auto [k, val] : h.unknown) {
    const std::uint64_t hash = UniqueKeys::hash(k);
    pick(k, hash, val);
    if (keys.add_hashed(set, k, hash, kTop) != UniqueKeys::kNew) return duplicate_key(k, "at the top level");
  }
  if (!h.has_output_fields) return true;
  for (auto [k, val] : h.output_fields) {
    const std::uint64_t hash = UniqueKeys::hash(k);
    pick(k, hash, val);
    const int was = keys.add_hashed(set, k, hash, kOutputFields);
    if (was == kTop) return duplicate_key(k, "as a field: in output_fields and at the top level");
    if (was != UniqueKeys::kNew) return duplicate_key(k, "in output_fields");
    if (!nests(val)) continue;
    if (auto r = unique_nested(keys, val, k); !r) return r;
  }
  keys.close(set);
  return true;
}

// Reads the top-level keys (checking their types) and, when `walk`, counts every field against the limits.
Result<bool> read_head(dom::object root, Head& h, FieldTable& table, UniqueKeys& keys, bool walk, Decoder::Mode mode) {
  keys.clear();
  unsigned seen = 0;  // the keys read into the alert, a bit each: each may appear once (the rest are fields)
  const auto twice = [&seen](unsigned bit) {
    const bool was = (seen & bit) != 0;
    seen |= bit;
    return was;
  };
  for (auto [key, val] : root) {
    if (auto r = table.count(); !r) return r;
    const int member = h.members++;
    const unsigned bit = head_bit(key);
    if (bit && twice(bit)) return duplicate_key(key, "at the top level");
    bool fields_object = false;  // output_fields as an object: its keys are checked with the fields'
    switch (bit) {
      case kEnvelopeBit:
        h.envelope_member = member;
        if (mode != Decoder::Mode::Persisted) {
          return make_error("reserved_key", fmt::format("top-level \"{}\" is reserved for saker's own use", kPersistKey));
        }
        if (!val.is_object()) return make_error("bad_envelope", fmt::format("\"{}\" must be an object", kPersistKey));
        h.envelope = val;
        h.have_envelope = true;
        continue;
      case 0: h.unknown.emplace_back(key, val); break;
      case kOutputFieldsBit:
        if (val.is_object()) {
          h.has_output_fields = true;
          h.fields_member = member;
          h.output_fields = val.get_object().value_unsafe();
          fields_object = true;
        } else {
          h.unknown.emplace_back(key, val);  // the flattened shape: a field like any other
        }
        break;
      case kRuleBit:
        if (!val.is_string()) return bad_type(key, "a string");
        h.rule = val.get_string().value_unsafe();
        h.have_rule = true;
        break;
      case kPriorityBit:
        if (!val.is_string()) return bad_type(key, "a string such as \"Warning\"");
        h.priority = val.get_string().value_unsafe();
        h.have_priority = true;
        break;
      case kOutputBit:
        if (!val.is_string()) return bad_type(key, "a string");
        h.output = val.get_string().value_unsafe();
        break;
      case kSourceBit:
        if (!val.is_string()) return bad_type(key, "a string");
        h.source = val.get_string().value_unsafe();
        break;
      case kHostnameBit:
        if (!val.is_string()) return bad_type(key, "a string");
        h.hostname = val.get_string().value_unsafe();
        break;
      case kUuidBit:
        if (!val.is_string()) return bad_type(key, "a string");
        h.uuid = val.get_string().value_unsafe();
        h.uuid_empty = h.uuid.empty();
        break;
      case kTimeBit:
        if (val.is_string()) {
          h.time_text = val.get_string().value_unsafe();
          std::string_view why;
          auto ns = parse_rfc3339_ns(h.time_text, &why);
          if (!ns) return make_error("bad_time", fmt::format("\"time\" \"{}\" {}", excerpt(h.time_text), why));
          h.time_ns = *ns;
        } else if (val.type() == dom::element_type::INT64) {  // int64 nanoseconds: the whole range, no conversion
          h.time_ns = val.get_int64().value_unsafe();
          h.time_was_integer = true;
        } else if (val.type() == dom::element_type::UINT64) {
          return make_error("bad_time", fmt::format("\"time\" {} {}", val.get_uint64().value_unsafe(), kTimeOutOfRange));
        } else if (val.type() == dom::element_type::DOUBLE) {
          return make_error("bad_time", fmt::format("\"time\" {} is not integer nanoseconds (no fraction or exponent) "
                                                    "nor an RFC 3339 string",
                                                    simdjson::minify(val)));
        } else {
          return bad_type(key, "an RFC 3339 string or integer nanoseconds");
        }
        h.have_time = true;
        break;
      case kTagsBit: {
        if (!val.is_array()) return bad_type(key, "a list of strings");
        h.tags_member = member;
        const dom::array arr = val.get_array().value_unsafe();
        for (dom::element t : arr) {
          if (auto r = table.count(); !r) return r;
          if (!t.is_string()) return bad_type(key, "a list of strings");
          h.tags.push_back(t.get_string().value_unsafe());
        }
        break;
      }
    }
    if (!fields_object && nests(val)) {
      if (auto r = unique_nested(keys, val, key); !r) return r;
    }
    if (!walk) continue;
    if (auto r = table.top_level(key, val); !r) return r;
  }
  if (!h.unknown.empty() || h.has_output_fields) {
    if (auto r = unique_fields(keys, h); !r) return r;
  }
  if (!h.have_rule) return make_error("missing_rule", "alert has no \"rule\" (a string naming the Falco rule)");
  if (!h.have_priority) {
    return make_error("missing_priority", "alert has no \"priority\" (Debug, Informational, Notice, Warning, "
                                          "Error, Critical, Alert or Emergency)");
  }
  return true;
}

// The envelope's "stages" ([["fields",2],["mitre",4]]: runs of one stage's key and how many fields in a row it
// added, in the order of "fields"; Alert::append_persisted_stages) as one id per field position. None when the
// record has none (written before stages were recorded) or it is not of that shape: the fields' stage is not known.
void read_stages(dom::element envelope, std::size_t n_fields, std::vector<StageId>& out) {
  out.clear();
  dom::array runs;
  if (envelope["stages"].get(runs)) return;
  for (dom::element run : runs) {
    dom::array pair;
    std::string_view key;
    std::uint64_t count = 0;
    if (run.get(pair) || pair.size() != 2 || pair.at(0).get(key) || pair.at(1).get(count) || count == 0 ||
        count > n_fields - std::min(n_fields, out.size())) {
      out.clear();
      return;
    }
    out.insert(out.end(), static_cast<std::size_t>(count), stage_id(key));  // a key this version lacks: not known
  }
}

}  // namespace

// Added fields and tags of the persisted form, back onto the alert, each field with the stage that added it.
void Decoder::restore_additions(Alert& a, const dom::element& envelope) {
  dom::object fields;
  if (!envelope["fields"].get(fields)) {
    thread_local std::vector<StageId> stages;
    read_stages(envelope, fields.size(), stages);
    std::size_t at = 0;
    for (auto [k, v] : fields) {
      // The alert stamps the field with stage_ as it adds it, as StageChain::run has it do for a stage.
      a.stage_ = at < stages.size() ? stages[at] : kUnknownStage;
      ++at;
      Value val;
      switch (v.type()) {
        case dom::element_type::STRING: val = Value::string(v.get_string().value_unsafe()); break;
        case dom::element_type::INT64: val = Value::integer(v.get_int64().value_unsafe()); break;
        case dom::element_type::UINT64:
          val.kind = Value::Kind::Uint;
          val.u = v.get_uint64().value_unsafe();
          break;
        case dom::element_type::DOUBLE:
          val.kind = Value::Kind::Double;
          val.d = v.get_double().value_unsafe();
          break;
        case dom::element_type::BOOL:
          val.kind = Value::Kind::Bool;
          val.boolean = v.get_bool().value_unsafe();
          break;
        case dom::element_type::NULL_VALUE: break;
        case dom::element_type::ARRAY: {
          // A list of strings comes back as a list (with its elements); any other array as JSON text.
          std::vector<std::string_view> items;
          bool strings = true;
          dom::array arr;
          if (v.get_array().get(arr)) break;
          for (dom::element item : arr) {
            if (!item.is_string()) {
              strings = false;
              break;
            }
            items.push_back(item.get_string().value_unsafe());
          }
          if (strings) {
            a.add_list(k, items);
            continue;
          }
          [[fallthrough]];
        }
        case dom::element_type::OBJECT: {
          const std::string text = simdjson::minify(v);
          val.kind = v.is_array() ? Value::Kind::Array : Value::Kind::Object;
          val.text = text;
          a.add_field(k, val);
          continue;
        }
      }
      a.add_field(k, val);
    }
    a.stage_ = kUnknownStage;
  }
  dom::array tags;
  if (!envelope["tags"].get(tags)) {
    for (dom::element t : tags) {
      if (t.is_string()) a.add_tag(t.get_string().value_unsafe());
    }
  }
}

struct Decoder::Impl {
  dom::parser parser;
  Head head;
  UniqueKeys keys;
};

Decoder::Decoder(DecodeLimits limits) : limits_(limits), impl_(std::make_unique<Impl>()) {
  // The parser refuses nesting over max_depth levels; the root object and output_fields are levels too.
  if (impl_->parser.allocate(std::min<std::size_t>(limits_.max_alert_bytes, 64 * 1024), limits_.max_depth)) {
    throw std::runtime_error("cannot allocate the JSON parser");
  }
}

Decoder::~Decoder() = default;

Result<std::shared_ptr<Alert>> Decoder::decode(std::string_view json, bool one_line) {
  return decode_as(json, one_line, Mode::Received);
}

Result<std::shared_ptr<Alert>> Decoder::decode(std::string_view json, Mode mode) { return decode_as(json, true, mode); }

Result<std::shared_ptr<Alert>> Decoder::decode_as(std::string_view json, bool one_line, Mode mode) {
  // Trim surrounding whitespace (NDJSON line ends, "\r\n").
  while (!json.empty() && (json.back() == '\n' || json.back() == '\r' || json.back() == ' ' || json.back() == '\t')) {
    json.remove_suffix(1);
  }
  while (!json.empty() && (json.front() == ' ' || json.front() == '\t' || json.front() == '\n' || json.front() == '\r')) {
    json.remove_prefix(1);
  }
  if (json.size() > limits_.max_alert_bytes) {
    return make_error("too_large", fmt::format("alert is {} bytes, over the {} byte limit (limits.max_alert_bytes)",
                                               json.size(), limits_.max_alert_bytes));
  }
  if (json.empty()) return make_error("invalid_json", "empty input: expected one JSON object");
  // Below every route's floor, by the priority read without a parse: dropped unparsed, unchecked — no route would
  // take it however the rest reads. What that read cannot settle (no priority, an unknown one, escapes in a key
  // before it, "priority" named twice) takes the full decode below, which refuses or drops it after checking it all.
  if (floor_ > Priority::Debug && mode == Mode::Received) {
    if (const auto text = first_priority(json)) {
      if (const auto p = parse_priority(*text); p && *p < floor_ && no_priority_after(json, *text)) {
        return std::shared_ptr<Alert>();
      }
    }
  }
  if (json.size() > impl_->parser.capacity()) {
    if (impl_->parser.allocate(json.size(), limits_.max_depth)) {
      return make_error("too_large", "cannot allocate parser memory for this alert");
    }
  }
  dom::element doc;
  if (auto err = impl_->parser.parse(json.data(), json.size(), true).get(doc); err) {
    switch (err) {
      case simdjson::UTF8_ERROR: return make_error("invalid_utf8", "alert is not valid UTF-8");
      case simdjson::DEPTH_ERROR:
        return make_error("too_deep", fmt::format("alert nests deeper than {} levels (limits.max_depth)",
                                                  limits_.max_depth));
      default: return make_error("invalid_json", fmt::format("invalid JSON: {}", simdjson::error_message(err)));
    }
  }
  if (!doc.is_object()) {
    return make_error("not_object", "an alert must be a JSON object, e.g. {\"rule\":...,\"priority\":...}");
  }

  Head& h = impl_->head;
  h.reset();
  FieldTable counter(nullptr, limits_);
  // Every field or list element takes at least two bytes ("1," or "":1), so a short alert cannot hold more than
  // max_fields of them and needs no counting walk.
  const bool walk = json.size() / 2 + 1 > limits_.max_fields;
  h.picks = FieldPicks::current();
  if (auto r = read_head(doc.get_object().value_unsafe(), h, counter, impl_->keys, walk, mode); !r) return r.error();
  // The persisted form: the alert as received ends where the envelope's "len" says; what follows is saker's.
  std::int64_t envelope_arrival = 0;
  if (h.have_envelope) {
    std::uint64_t len = 0;
    // saker writes the envelope last; anything after it would be cut off with it.
    if (h.envelope_member != h.members - 1 || h.envelope["len"].get(len) || len == 0 || len >= json.size() ||
        json.substr(len, kPersistKey.size() + 4) != fmt::format(",\"{}\":", kPersistKey)) {
      return make_error("bad_envelope", fmt::format("\"{}\" does not match the alert it is part of", kPersistKey));
    }
    if (h.envelope["arrival_ns"].get(envelope_arrival)) envelope_arrival = 0;
    json = json.substr(0, len);  // without the closing '}', added back below
  }
  auto p = parse_priority(h.priority);
  if (!p) {
    return make_error("unknown_priority",
                      fmt::format("unknown priority \"{}\": use Debug, Informational, Notice, Warning, Error, "
                                  "Critical, Alert or Emergency", h.priority.substr(0, 64)));
  }
  if (*p < floor_) return std::shared_ptr<Alert>();

  // Without a uuid the alert gets a deterministic one (from the texts as received).
  std::string generated;
  if (h.uuid.empty()) {
    generated = alert_uuid(h.rule, h.time_was_integer ? std::to_string(h.time_ns) : h.time_text, h.hostname, h.output);
  }
  // The top-level strings (and a generated uuid), after the JSON, in the bytes allocated with the alert.
  std::size_t head_bytes = h.rule.size() + h.priority.size() + h.output.size() + h.source.size() +
                           h.hostname.size() + h.uuid.size() + h.time_text.size() + generated.size();
  for (auto t : h.tags) head_bytes += t.size();
  for (auto& [slot, val] : h.picked) {
    if (val.is_string()) head_bytes += val.get_string().value_unsafe().size();
  }
  // Room for the JSON: as received, a closing '}' after an envelope is cut off, or a generated uuid member.
  const std::size_t json_room = json.size() + 1 + (generated.empty() ? 0 : 12 + generated.size());

  auto alert = Alert::make(stages_, json_room + head_bytes);  // stages run: room for their additions
  Alert& a = *alert;
  a.priority = *p;
  a.arrival_ns = envelope_arrival ? envelope_arrival : (clock_ ? clock_->now_ns() : now_ns());
  a.time_ns = h.have_time ? h.time_ns : a.arrival_ns;
  a.time_was_absent = !h.have_time;
  a.time_was_integer = h.time_was_integer;
  a.has_output_fields = h.has_output_fields;

  char* at = a.tail() + json_room;
  auto put = [&at](std::string_view s) {
    if (!s.empty()) std::memcpy(at, s.data(), s.size());
    std::string_view v(at, s.size());
    at += s.size();
    return v;
  };
  a.rule = put(h.rule);
  a.priority_text = put(h.priority);
  a.output = put(h.output);
  a.source = put(h.source);
  a.hostname = put(h.hostname);
  a.uuid = put(h.uuid.empty() ? std::string_view(generated) : h.uuid);
  a.uuid_generated = h.uuid.empty();
  a.time_text = put(h.time_text);
  if (!h.tags.empty()) {
    a.tags.reserve(h.tags.size());
    for (auto t : h.tags) a.tags.push_back(put(t));
  }
  // A picked name the alert lacks is absent for certain: lookup() knows that without a table.
  a.picks_ = h.picks;
  if (!h.picked.empty()) {
    a.picked_.reserve(h.picked.size());
    for (auto& [slot, val] : h.picked) {
      Alert::Pick& p = a.picked_.emplace_back();
      p.slot = slot;
      switch (val.type()) {
        case dom::element_type::STRING: p.value = Value::string(put(val.get_string().value_unsafe())); break;
        case dom::element_type::INT64: p.value = Value::integer(val.get_int64().value_unsafe()); break;
        case dom::element_type::UINT64:
          p.value.kind = Value::Kind::Uint;
          p.value.u = val.get_uint64().value_unsafe();
          break;
        case dom::element_type::DOUBLE:
          p.value.kind = Value::Kind::Double;
          p.value.d = val.get_double().value_unsafe();
          break;
        case dom::element_type::BOOL:
          p.value.kind = Value::Kind::Bool;
          p.value.boolean = val.get_bool().value_unsafe();
          break;
        case dom::element_type::NULL_VALUE: break;
        case dom::element_type::ARRAY:
        case dom::element_type::OBJECT: p.complex = true; break;  // lookup() takes these from the table
      }
    }
  }
  a.tags_value_.kind = Value::Kind::Array;
  a.tags_value_.alert_tags = true;
  a.tags_value_.item_count = static_cast<std::uint32_t>(a.tags.size());

  // The alert as received, on one line: only text with raw line breaks needs minifying.
  char* const j = a.tail();
  std::size_t n = 0;
  const auto put_json = [&](std::string_view s) {
    std::memcpy(j + n, s.data(), s.size());
    n += s.size();
  };
  bool stored = false;    // in json_store_ rather than the alert's bytes
  bool verbatim = false;  // json() starts with the text as received (a generated uuid may follow)
  if (h.uuid_empty) [[unlikely]] {
    // "uuid":"" names no alert: the generated one takes the empty one's place (a second "uuid" key would make the
    // alert's JSON name a key twice, which a reader may take either way).
    std::string& out = a.json_store_;
    out.reserve(json.size() + generated.size());
    out.push_back('{');
    const dom::object root = doc.get_object().value_unsafe();
    for (auto [key, val] : root) {
      if (key == kPersistKey) continue;  // cut off as above; restored from it below
      if (out.size() > 1) out.push_back(',');
      append_json_string(out, key);
      out.push_back(':');
      if (key == "uuid") {
        append_json_string(out, a.uuid);
      } else {
        out.append(simdjson::minify(val));
      }
    }
    out.push_back('}');
    stored = true;
  } else if (h.have_envelope) {
    put_json(json);
    put_json("}");
  } else if ((!one_line && std::memchr(json.data(), '\n', json.size())) || std::memchr(json.data(), '\r', json.size()))
      [[unlikely]] {
    std::string minified = simdjson::minify(doc);
    if (minified.size() <= json.size()) {
      put_json(minified);
    } else {  // numbers written anew can be longer than received
      a.json_store_ = std::move(minified);
      stored = true;
    }
  } else {
    put_json(json);
    verbatim = true;
  }
  if (a.uuid_generated && !h.uuid_empty) {
    const std::string_view quote = "\"uuid\":\"";
    if (stored) {
      std::string& out = a.json_store_;
      out.pop_back();  // the closing '}'
      out.append(out.size() == 1 ? quote : std::string_view(",\"uuid\":\"")).append(a.uuid).append("\"}");
    } else {
      --n;  // the closing '}'
      if (n != 1) put_json(",");
      put_json(quote);
      put_json(a.uuid);
      put_json("\"}");
    }
  }
  a.json_ = stored ? std::string_view(a.json_store_) : std::string_view(j, n);
  std::string_view out = a.json_;
  if (g_fields_wanted.load(std::memory_order_relaxed)) {
    // Not shared yet: no other thread can be building it (fields() checks fields_ready_ first).
    FieldTable::build(a, doc.get_object().value_unsafe());
    a.fields_ready_.store(true, std::memory_order_release);
  }
  if (h.have_envelope) restore_additions(a, h.envelope);
  if (stages_ || h.have_envelope) {
    // Members of json(): the envelope (the last one) is cut off, a generated uuid comes last.
    // Read from the text as received when json() starts with it: the same positions, and the parser just read
    // it (the copy's bytes may still be on their way to memory, and reading them back would wait for them).
    const std::string_view text = verbatim ? json : out;
    const int members = h.members - (h.have_envelope ? 1 : 0) + (a.uuid_generated && !h.uuid_empty && !verbatim ? 1 : 0);
    a.splice_ = scan_splice_points(text, h.fields_member < 0 ? -1 : members - 1 - h.fields_member,
                                   h.tags_member < 0 ? -1 : members - 1 - h.tags_member);
    a.splice_known_ = true;
  }
  return alert;
}

}  // namespace saker
