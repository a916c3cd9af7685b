#include "core/decode.hpp"

#include <simdjson.h>

#include <cstring>

#include <fmt/format.h>

#include "core/time.hpp"
#include "core/uuid.hpp"

namespace saker {

// Builds one Alert from a parsed document. Strings are copied into the alert's arena; when the arena has to
// grow, every view taken so far is moved to the new storage (rebase), so views never dangle.
class AlertBuilder {
 public:
  AlertBuilder(Alert& alert, const DecodeLimits& limits) : a_(alert), limits_(limits) {}

  Result<bool> build(simdjson::dom::object root);

 private:
  std::string_view store(std::string_view s);
  void rebase(const char* old_base, const char* new_base);
  Result<bool> value_of(simdjson::dom::element e, Value& out, std::size_t depth);
  Result<bool> add_fields(simdjson::dom::object obj, bool top_level);
  Error too_many() const {
    return make_error("too_many_fields",
                      fmt::format("alert has more than {} fields and list elements (limits.max_fields)",
                                  limits_.max_fields));
  }

  Alert& a_;
  const DecodeLimits& limits_;
  std::size_t count_ = 0;
  // Elements of arrays still being collected (nested arrays stack up): rebase() moves their views too.
  std::vector<std::vector<Value>*> pending_;
};

std::string_view AlertBuilder::store(std::string_view s) {
  const std::size_t at = a_.arena_size_;
  if (at + s.size() > a_.arena_cap_) [[unlikely]] {
    const std::size_t cap = std::max(a_.arena_cap_ * 2, at + s.size() + 64);
    std::unique_ptr<char[]> bigger(new char[cap]);
    if (at) std::memcpy(bigger.get(), a_.arena_.get(), at);
    const char* old_base = a_.arena_.get();
    a_.arena_.swap(bigger);
    a_.arena_cap_ = cap;
    rebase(old_base, a_.arena_.get());
  }
  char* dst = a_.arena_.get() + at;
  if (!s.empty()) std::memcpy(dst, s.data(), s.size());
  a_.arena_size_ = at + s.size();
  return std::string_view(dst, s.size());
}

void AlertBuilder::rebase(const char* old_base, const char* new_base) {
  const char* old_end = old_base + a_.arena_size_;
  auto fix = [&](std::string_view& v) {
    if (v.data() >= old_base && v.data() < old_end) v = std::string_view(new_base + (v.data() - old_base), v.size());
  };
  for (auto* v : {&a_.rule, &a_.priority_text, &a_.source, &a_.hostname, &a_.output, &a_.uuid, &a_.time_text}) fix(*v);
  for (auto& t : a_.tags) fix(t);
  for (auto& f : a_.fields) {
    fix(f.name);
    fix(f.value.text);
  }
  for (auto& v : a_.items_) fix(v.text);
  for (auto* elems : pending_) {
    for (auto& v : *elems) fix(v.text);
  }
}

Result<bool> AlertBuilder::value_of(simdjson::dom::element e, Value& out, std::size_t depth) {
  using T = simdjson::dom::element_type;
  switch (e.type()) {
    case T::NULL_VALUE: out.kind = Value::Kind::Null; break;
    case T::BOOL:
      out.kind = Value::Kind::Bool;
      out.boolean = e.get_bool().value_unsafe();
      break;
    case T::INT64:
      out.kind = Value::Kind::Int;
      out.i = e.get_int64().value_unsafe();
      break;
    case T::UINT64:
      out.kind = Value::Kind::Uint;
      out.u = e.get_uint64().value_unsafe();
      break;
    case T::DOUBLE:
      out.kind = Value::Kind::Double;
      out.d = e.get_double().value_unsafe();
      break;
    case T::STRING:
      out.kind = Value::Kind::String;
      out.text = store(e.get_string().value_unsafe());
      break;
    case T::OBJECT: {
      out.kind = Value::Kind::Object;
      out.text = store(simdjson::minify(e));
      break;
    }
    case T::ARRAY: {
      if (depth >= limits_.max_depth) {
        return make_error("too_deep", fmt::format("alert nests deeper than {} levels (limits.max_depth)",
                                                  limits_.max_depth));
      }
      out.kind = Value::Kind::Array;
      out.text = store(simdjson::minify(e));
      // Elements go into items_ contiguously: collect them first, since a nested array appends its own.
      const simdjson::dom::array arr = e.get_array().value_unsafe();
      std::vector<Value> elems;
      elems.reserve(arr.size());  // no reallocation: an element is filled in place, where rebase() sees it
      pending_.push_back(&elems);
      for (simdjson::dom::element item : arr) {
        if (++count_ > limits_.max_fields) {
          pending_.pop_back();
          return too_many();
        }
        if (auto r = value_of(item, elems.emplace_back(), depth + 1); !r) {
          pending_.pop_back();
          return r;
        }
      }
      pending_.pop_back();
      out.first_item = static_cast<std::uint32_t>(a_.items_.size());
      out.item_count = static_cast<std::uint32_t>(elems.size());
      a_.items_.insert(a_.items_.end(), elems.begin(), elems.end());
      break;
    }
  }
  return true;
}

Result<bool> AlertBuilder::add_fields(simdjson::dom::object obj, bool top_level) {
  for (auto [key, val] : obj) {
    if (++count_ > limits_.max_fields) return too_many();
    // Filled in place: a field being built is already where rebase() looks.
    Field& f = a_.fields.emplace_back();
    f.name = store(key);
    f.top_level = top_level;
    if (auto r = value_of(val, f.value, 2); !r) return r;
  }
  return true;
}

namespace {

Error bad_type(std::string_view key, std::string_view want) {
  return make_error("bad_field_type", fmt::format("top-level \"{}\" must be {}", key, want));
}

}  // namespace

Result<bool> AlertBuilder::build(simdjson::dom::object root) {
  bool have_rule = false, have_priority = false, have_time = false;
  std::string_view priority_raw;
  std::size_t expected_fields = root.size();
  if (simdjson::dom::object of; !root["output_fields"].get(of)) expected_fields += of.size();
  a_.fields.reserve(expected_fields);
  for (auto [key, val] : root) {
    if (++count_ > limits_.max_fields) return too_many();
    if (key == "output_fields" && val.is_object()) {
      a_.has_output_fields = true;
      if (auto r = add_fields(val.get_object().value_unsafe(), false); !r) return r;
    } else if (key == "rule") {
      if (!val.is_string()) return bad_type(key, "a string");
      a_.rule = store(val.get_string().value_unsafe());
      have_rule = true;
    } else if (key == "priority") {
      if (!val.is_string()) return bad_type(key, "a string such as \"Warning\"");
      priority_raw = val.get_string().value_unsafe();
      a_.priority_text = store(priority_raw);
      have_priority = true;
    } else if (key == "output") {
      if (!val.is_string()) return bad_type(key, "a string");
      a_.output = store(val.get_string().value_unsafe());
    } else if (key == "source") {
      if (!val.is_string()) return bad_type(key, "a string");
      a_.source = store(val.get_string().value_unsafe());
    } else if (key == "hostname") {
      if (!val.is_string()) return bad_type(key, "a string");
      a_.hostname = store(val.get_string().value_unsafe());
    } else if (key == "uuid") {
      if (!val.is_string()) return bad_type(key, "a string");
      a_.uuid = store(val.get_string().value_unsafe());
    } else if (key == "time") {
      if (val.is_string()) {
        a_.time_text = store(val.get_string().value_unsafe());
        auto ns = parse_rfc3339_ns(a_.time_text);
        if (!ns) {
          return make_error("bad_time", fmt::format("\"time\" is not RFC 3339 (e.g. 2024-05-07T18:54:19.341081180Z): "
                                                    "\"{}\"", a_.time_text.substr(0, 64)));
        }
        a_.time_ns = *ns;
      } else if (val.is_int64()) {
        a_.time_ns = val.get_int64().value_unsafe();
        a_.time_was_integer = true;
      } else {
        return bad_type(key, "an RFC 3339 string or integer nanoseconds");
      }
      have_time = true;
    } else if (key == "tags") {
      if (!val.is_array()) return bad_type(key, "a list of strings");
      const simdjson::dom::array arr = val.get_array().value_unsafe();
      a_.tags.reserve(arr.size());
      for (simdjson::dom::element t : arr) {
        if (++count_ > limits_.max_fields) return too_many();
        if (!t.is_string()) return bad_type(key, "a list of strings");
        a_.tags.push_back(store(t.get_string().value_unsafe()));
      }
    } else {
      if (++count_ > limits_.max_fields) return too_many();
      Field& f = a_.fields.emplace_back();
      f.name = store(key);
      f.top_level = true;
      if (auto r = value_of(val, f.value, 1); !r) return r;
    }
  }
  if (!have_rule) return make_error("missing_rule", "alert has no \"rule\" (a string naming the Falco rule)");
  if (!have_priority) {
    return make_error("missing_priority", "alert has no \"priority\" (Debug, Informational, Notice, Warning, "
                                          "Error, Critical, Alert or Emergency)");
  }
  auto p = parse_priority(priority_raw);
  if (!p) {
    return make_error("unknown_priority",
                      fmt::format("unknown priority \"{}\": use Debug, Informational, Notice, Warning, Error, "
                                  "Critical, Alert or Emergency", priority_raw.substr(0, 64)));
  }
  a_.priority = *p;
  if (!have_time) a_.time_ns = now_ns();

  // tags as an Array value (items_ after every field's elements).
  Value tv;
  tv.kind = Value::Kind::Array;
  tv.first_item = static_cast<std::uint32_t>(a_.items_.size());
  tv.item_count = static_cast<std::uint32_t>(a_.tags.size());
  a_.items_.reserve(a_.items_.size() + a_.tags.size());
  for (auto t : a_.tags) a_.items_.push_back(Value::string(t));
  a_.tags_value_ = tv;
  return true;
}

struct Decoder::Impl {
  simdjson::dom::parser parser;
  std::string minified;
};

Decoder::Decoder(DecodeLimits limits) : limits_(limits), impl_(std::make_unique<Impl>()) {
  // max_depth + 2: the root object and output_fields are levels too.
  if (impl_->parser.allocate(std::min<std::size_t>(limits_.max_alert_bytes, 64 * 1024), limits_.max_depth + 2)) {
    throw std::runtime_error("cannot allocate the JSON parser");
  }
}

Decoder::~Decoder() = default;

Result<AlertPtr> Decoder::decode(std::string_view json) {
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
  if (json.size() > impl_->parser.capacity()) {
    if (impl_->parser.allocate(json.size(), limits_.max_depth + 2)) {
      return make_error("too_large", "cannot allocate parser memory for this alert");
    }
  }
  simdjson::dom::element doc;
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

  auto alert = std::make_shared<Alert>();
  alert->arena_cap_ = json.size() + 64;
  alert->arena_.reset(new char[alert->arena_cap_]);
  AlertBuilder builder(*alert, limits_);
  if (auto r = builder.build(doc.get_object().value_unsafe()); !r) return r.error();

  // The alert as received, on one line: only text with raw line breaks needs minifying.
  std::string& out = alert->json_;
  if (std::memchr(json.data(), '\n', json.size()) || std::memchr(json.data(), '\r', json.size())) [[unlikely]] {
    out = simdjson::minify(doc);
  } else {
    out.reserve(json.size() + (alert->uuid.empty() ? 50 : 1));
    out.assign(json);
  }
  if (alert->uuid.empty()) {
    const std::string time_repr = alert->time_was_integer ? std::to_string(alert->time_ns) : std::string();
    alert->generated_uuid_ = alert_uuid(alert->rule, alert->time_was_integer ? time_repr : alert->time_text,
                                        alert->hostname, alert->output);
    alert->uuid = alert->generated_uuid_;
    alert->uuid_generated = true;
    out.pop_back();  // the closing '}'
    out.append(out.size() == 1 ? "\"uuid\":\"" : ",\"uuid\":\"").append(alert->generated_uuid_).append("\"}");
  }
  return AlertPtr(std::move(alert));
}

}  // namespace saker
