#include "enrich/feeds/inventory.hpp"

#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstring>
#include <sstream>

#include <fmt/format.h>

#include "core/json_text.hpp"
#include "core/unique_keys.hpp"
#include "enrich/feeds/csv.hpp"
#include "enrich/feeds/table_file.hpp"

namespace saker {

bool glob_match(std::string_view p, std::string_view t) noexcept {
  std::size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
      ++pi, ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

namespace {

constexpr std::string_view kLabels = "k8s.pod.labels";

struct Builder {
  const Inventory::Limits& limits;
  std::string_view file;
  std::vector<Inventory::Entry> entries;
  std::vector<std::string> names;

  bool by_index = false;  // JSON: a place is an entry's index, not a line

  Error fail(std::size_t line, std::string_view what) const {
    if (!line) return make_error("bad_inventory", fmt::format("{}: {}", file, what));
    return make_error("bad_inventory", by_index ? fmt::format("{}: entry {}: {}", file, line, what)
                                                : fmt::format("{}:{}: {}", file, line, what));
  }

  // A condition on `field` (or on pod label `label`); an error message, or "" when it is good.
  std::string condition(Inventory::Entry& e, std::string field, std::string label, std::string pattern) const {
    if (field.empty()) return "a match key is empty";
    if (pattern.size() > limits.max_text) return fmt::format("the pattern of {} is over {} bytes", field, limits.max_text);
    if (!valid_utf8(pattern) || !valid_utf8(field) || !valid_utf8(label)) return "a match is not valid UTF-8";
    if (e.conditions.size() >= limits.max_conditions) {
      return fmt::format("more than {} match conditions", limits.max_conditions);
    }
    Inventory::Condition c;
    c.field = std::move(field);
    c.label = std::move(label);
    c.glob = pattern.find_first_of("*?") != std::string::npos;
    c.literal = static_cast<std::size_t>(std::count_if(pattern.begin(), pattern.end(), [](char ch) { return ch != '*' && ch != '?'; }));
    c.pattern = std::move(pattern);
    e.conditions.push_back(std::move(c));
    return {};
  }

  std::string_view keep(Inventory::Entry& e, std::string s) const {
    e.texts.push_back(std::make_unique<std::string>(std::move(s)));
    return *e.texts.back();
  }

  // An attribute `name` (without "asset.") of the entry; an error message, or "".
  std::string attribute(Inventory::Entry& e, const std::string& name, Inventory::Attribute a) {
    if (name.empty() || name.front() == '.' || name.back() == '.') return fmt::format("\"{}\" is not an attribute name", name);
    for (char c : name) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.')) {
        return fmt::format("\"{}\" is not an attribute name: use letters, digits, '_', '-' and '.'", name);
      }
    }
    if (e.attributes.size() >= limits.max_attributes) return fmt::format("more than {} attributes", limits.max_attributes);
    a.name = "asset." + name;
    for (const auto& other : e.attributes) {
      if (other.name == a.name) return fmt::format("attribute \"{}\" is given twice", name);
    }
    if (std::find(names.begin(), names.end(), a.name) == names.end()) names.push_back(a.name);
    e.attributes.push_back(std::move(a));
    return {};
  }

  // A scalar written as text: a number, a boolean or a string, as YAML's plain scalars read (`typed`), else a string.
  Value scalar(Inventory::Entry& e, const std::string& text, bool typed) const {
    if (typed) {
      if (text == "true" || text == "false") {
        Value v;
        v.kind = Value::Kind::Bool;
        v.boolean = text == "true";
        return v;
      }
      if (!text.empty() && text.size() < 19 && text.find_first_not_of("-0123456789") == std::string::npos &&
          text.find('-', 1) == std::string::npos && text != "-") {
        return Value::integer(std::stoll(text));
      }
    }
    return Value::string(keep(e, text));
  }

  std::string check_text(const std::string& s) const {
    if (s.size() > limits.max_text) return fmt::format("a value is over {} bytes", limits.max_text);
    if (!valid_utf8(s)) return "a value is not valid UTF-8";
    return {};
  }

  Result<bool> finish_entry(Inventory::Entry&& e, std::size_t line) {
    if (e.conditions.empty()) return fail(line, "an entry needs a `match` with at least one condition");
    if (entries.size() >= limits.max_entries) return fail(line, fmt::format("more than {} entries", limits.max_entries));
    e.line = line;
    entries.push_back(std::move(e));
    return true;
  }

  // --- YAML

  std::string yaml_attribute(Inventory::Entry& e, const std::string& name, const YAML::Node& v) {
    Inventory::Attribute a;
    if (v.IsScalar()) {
      if (auto why = check_text(v.Scalar()); !why.empty()) return why;
      a.value = scalar(e, v.Scalar(), v.Tag() == "?");
      return attribute(e, name, std::move(a));
    }
    if (v.IsSequence()) {
      a.list = true;
      for (const auto& item : v) {
        if (!item.IsScalar()) return fmt::format("attribute {}: a list holds strings", name);
        if (auto why = check_text(item.Scalar()); !why.empty()) return why;
        a.items.push_back(keep(e, item.Scalar()));
      }
      return attribute(e, name, std::move(a));
    }
    if (v.IsMap()) {  // nested: asset.<name>.<key>
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (auto why = yaml_attribute(e, name + "." + it->first.as<std::string>(), it->second); !why.empty()) return why;
      }
      return {};
    }
    return {};  // null: nothing to say
  }

  Result<bool> yaml(std::string_view text) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& ex) {
      return fail(static_cast<std::size_t>(ex.mark.line + 1), ex.msg);
    }
    try {
      return yaml_entries(root);
    } catch (const YAML::Exception& ex) {  // a key that is a list or a map, where a name is expected
      return fail(static_cast<std::size_t>(ex.mark.line + 1), "a key must be a plain string");
    }
  }

  Result<bool> yaml_entries(YAML::Node root) {
    if (root.IsMap() && root["assets"]) root = root["assets"];
    if (root.IsNull()) return true;
    if (!root.IsSequence()) return fail(static_cast<std::size_t>(root.Mark().line + 1), "must be a list of entries, e.g. - {match: {hostname: web-1}, owner: web}");
    for (const auto& node : root) {
      const std::size_t line = static_cast<std::size_t>(node.Mark().line + 1);
      if (!node.IsMap()) return fail(line, "an entry must be a map: {match: {...}, <attribute>: <value>, ...}");
      Inventory::Entry e;
      for (auto it = node.begin(); it != node.end(); ++it) {
        const std::string key = it->first.as<std::string>();
        const YAML::Node v = it->second;  // a copy: the iterator's pair is a temporary
        if (key == "match") {
          if (!v.IsMap()) return fail(line, "match must be a map of alert field to value or glob");
          for (auto m = v.begin(); m != v.end(); ++m) {
            const std::string field = m->first.as<std::string>();
            std::string why;
            if (field == kLabels && m->second.IsMap()) {
              for (auto l = m->second.begin(); l != m->second.end() && why.empty(); ++l) {
                if (!l->second.IsScalar()) why = "a pod label's value must be a string";
                else why = condition(e, field, l->first.as<std::string>(), l->second.Scalar());
              }
            } else if (!m->second.IsScalar()) {
              why = fmt::format("the value of match.{} must be a string (a glob may use * and ?)", field);
            } else {
              why = condition(e, field, {}, m->second.Scalar());
            }
            if (!why.empty()) return fail(static_cast<std::size_t>(m->first.Mark().line + 1), why);
          }
          continue;
        }
        if (auto why = yaml_attribute(e, key, v); !why.empty()) return fail(static_cast<std::size_t>(it->first.Mark().line + 1), why);
      }
      if (auto r = finish_entry(std::move(e), line); !r) return r;
    }
    return true;
  }

  // --- JSON

  std::string json_attribute(Inventory::Entry& e, const std::string& name, simdjson::dom::element v) {
    using T = simdjson::dom::element_type;
    Inventory::Attribute a;
    switch (v.type()) {
      case T::STRING: {
        std::string s(v.get_string().value_unsafe());
        if (auto why = check_text(s); !why.empty()) return why;
        a.value = Value::string(keep(e, std::move(s)));
        break;
      }
      case T::INT64: a.value = Value::integer(v.get_int64().value_unsafe()); break;
      case T::UINT64:
        a.value.kind = Value::Kind::Uint;
        a.value.u = v.get_uint64().value_unsafe();
        break;
      case T::DOUBLE:
        a.value.kind = Value::Kind::Double;
        a.value.d = v.get_double().value_unsafe();
        break;
      case T::BOOL:
        a.value.kind = Value::Kind::Bool;
        a.value.boolean = v.get_bool().value_unsafe();
        break;
      case T::NULL_VALUE: return {};
      case T::ARRAY: {
        a.list = true;
        const simdjson::dom::array items = v.get_array().value_unsafe();
        for (auto item : items) {
          if (!item.is_string()) return fmt::format("attribute {}: a list holds strings", name);
          a.items.push_back(keep(e, std::string(item.get_string().value_unsafe())));
        }
        break;
      }
      case T::OBJECT: {
        const simdjson::dom::object members = v.get_object().value_unsafe();
        for (auto [k, sub] : members) {
          if (auto why = json_attribute(e, name + "." + std::string(k), sub); !why.empty()) return why;
        }
        return {};
      }
    }
    return attribute(e, name, std::move(a));
  }

  Result<bool> json(std::string_view text) {
    by_index = true;
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (auto err = parser.parse(text.data(), text.size()).get(root); err) {
      return fail(0, fmt::format("invalid JSON: {}", simdjson::error_message(err)));
    }
    simdjson::dom::array list;
    if (root.is_object()) {
      if (root["assets"].get(list)) return fail(0, "must be a list of entries, or {\"assets\": [...]}");
    } else if (root.get(list)) {
      return fail(0, "must be a list of entries, or {\"assets\": [...]}");
    }
    std::size_t index = 0;
    for (simdjson::dom::element node : list) {
      ++index;
      const auto at = [&](std::string_view why) { return fail(index, why); };
      simdjson::dom::object obj;
      if (node.get(obj)) return at("an entry must be an object: {\"match\": {...}, <attribute>: <value>, ...}");
      Inventory::Entry e;
      for (auto [key, v] : obj) {
        if (key == "match") {
          simdjson::dom::object m;
          if (v.get(m)) return at("match must be an object of alert field to value or glob");
          for (auto [field, pv] : m) {
            std::string why;
            simdjson::dom::object labels;
            if (field == kLabels && !pv.get(labels)) {
              for (auto [lk, lv] : labels) {
                if (!lv.is_string()) { why = "a pod label's value must be a string"; break; }
                why = condition(e, std::string(field), std::string(lk), std::string(lv.get_string().value_unsafe()));
                if (!why.empty()) break;
              }
            } else if (!pv.is_string()) {
              why = fmt::format("the value of match.{} must be a string (a glob may use * and ?)", std::string(field));
            } else {
              why = condition(e, std::string(field), {}, std::string(pv.get_string().value_unsafe()));
            }
            if (!why.empty()) return at(why);
          }
          continue;
        }
        if (auto why = json_attribute(e, std::string(key), v); !why.empty()) return at(why);
      }
      if (auto r = finish_entry(std::move(e), index); !r) return r;
    }
    return true;
  }

  // --- CSV (enrich/feeds/csv.hpp)

  Result<bool> csv(std::string_view text) {
    CsvReader reader(text, limits.max_text);
    std::vector<std::string> header, cells;
    if (!reader.next(header)) {
      return fail(reader.line(), reader.error().empty() ? "the header row is missing" : reader.error());
    }
    bool any_match = false;
    for (const auto& h : header) any_match |= h.starts_with("match.");
    if (!any_match) return fail(1, "the header names no match.<field> column, e.g. match.hostname,owner,criticality");
    while (true) {
      if (!reader.next(cells)) {
        if (!reader.error().empty()) return fail(reader.line(), reader.error());
        break;
      }
      const std::size_t first = reader.row_line();
      if (cells.size() == 1 && cells[0].empty()) continue;  // a blank line
      if (cells.size() != header.size()) {
        return fail(first, fmt::format("{} cells, the header has {}", cells.size(), header.size()));
      }
      Inventory::Entry e;
      for (std::size_t i = 0; i < cells.size(); ++i) {
        if (cells[i].empty()) continue;
        const std::string& h = header[i];
        std::string err;
        if (h.starts_with("match.")) {
          std::string field = h.substr(6);
          if (field.starts_with(std::string(kLabels) + ".")) {
            err = condition(e, std::string(kLabels), field.substr(kLabels.size() + 1), cells[i]);
          } else {
            err = condition(e, std::move(field), {}, cells[i]);
          }
        } else if (!(err = check_text(cells[i])).empty()) {
        } else {
          Inventory::Attribute a;
          a.value = Value::string(keep(e, cells[i]));
          err = attribute(e, h, std::move(a));
        }
        if (!err.empty()) return fail(first, err);
      }
      if (auto r = finish_entry(std::move(e), first); !r) return r;
    }
    return true;
  }
};

}  // namespace

std::size_t Inventory::KeyHash::operator()(const Key& k) const noexcept {
  return static_cast<std::size_t>(UniqueKeys::hash(k.field) * 31 ^ UniqueKeys::hash(k.value));
}

Result<std::shared_ptr<const Inventory>> Inventory::load(const std::string& path, Format format, const Limits& limits) {
  auto read = read_table_file(path, limits.max_bytes);
  if (!read) return read.error();
  const std::string& text = read.value();
  if (format == Format::Auto) {
    format = path.ends_with(".json") ? Format::Json : path.ends_with(".csv") ? Format::Csv : Format::Yaml;
  }
  return parse(text, format, path, limits);
}

Result<std::shared_ptr<const Inventory>> Inventory::parse(std::string_view text, Format format, std::string_view name,
                                                           const Limits& limits) {
  if (text.size() > limits.max_bytes) return make_error("bad_inventory", fmt::format("{} is over {} bytes", name, limits.max_bytes));
  Builder b{limits, name, {}, {}};
  Result<bool> r = true;
  switch (format) {
    case Format::Json: r = b.json(text); break;
    case Format::Csv: r = b.csv(text); break;
    case Format::Yaml:
    case Format::Auto: r = b.yaml(text); break;
  }
  if (!r) return r.error();
  auto inv = std::shared_ptr<Inventory>(new Inventory());
  inv->entries_ = std::move(b.entries);
  inv->names_ = std::move(b.names);
  inv->index();
  return std::shared_ptr<const Inventory>(std::move(inv));
}

void Inventory::index() {
  for (std::uint32_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    const Condition* key = nullptr;
    for (const Condition& c : e.conditions) {
      if (std::find(condition_fields_.begin(), condition_fields_.end(), c.field) == condition_fields_.end()) {
        condition_fields_.push_back(c.field);
      }
      if (!key && !c.glob && c.label.empty()) key = &c;
    }
    if (!key) {
      scan_.push_back(i);
      continue;
    }
    if (std::find(exact_fields_.begin(), exact_fields_.end(), key->field) == exact_fields_.end()) {
      exact_fields_.push_back(key->field);
    }
    exact_[Key{key->field, key->pattern}].push_back(i);
  }
}

namespace {

// The alert's value of `field` as text (a string as it is, anything else as a filter sees it).
bool text_of(const Alert& a, std::string_view field, std::string& scratch, std::string_view& out) {
  Value v;
  if (!a.lookup(field, v) || v.is_null()) return false;
  if (v.kind == Value::Kind::String) {
    out = v.text;
  } else {
    scratch = v.to_text();
    out = scratch;
  }
  return true;
}

// Pod label `key` of the alert: k8s.pod.label[key], or the "key:value" element of Falco's k8s.pod.labels list.
bool label_of(const Alert& a, const std::string& key, std::string& scratch, std::string_view& out) {
  if (text_of(a, "k8s.pod.label[" + key + "]", scratch, out)) return true;
  Value v;
  if (!a.lookup(kLabels, v)) return false;
  if (v.kind == Value::Kind::Array) {
    for (const Value& item : a.items(v)) {
      if (item.kind == Value::Kind::String && item.text.size() > key.size() && item.text[key.size()] == ':' &&
          item.text.starts_with(key)) {
        out = item.text.substr(key.size() + 1);
        return true;
      }
    }
  }
  return false;
}

}  // namespace

bool Inventory::holds(const Entry& e, const Alert& alert) const {
  thread_local std::string scratch;
  for (const Condition& c : e.conditions) {
    std::string_view value;
    const bool has = c.label.empty() ? text_of(alert, c.field, scratch, value) : label_of(alert, c.label, scratch, value);
    if (!has) return false;
    if (c.glob ? !glob_match(c.pattern, value) : value != c.pattern) return false;
  }
  return true;
}

const Inventory::Entry* Inventory::match(const Alert& alert) const {
  const Entry* best = nullptr;
  std::size_t best_exact = 0, best_literal = 0;
  const auto consider = [&](std::uint32_t i) {
    const Entry& e = entries_[i];
    if (best && e.conditions.size() < best->conditions.size()) return;
    if (!holds(e, alert)) return;
    std::size_t exact = 0, literal = 0;
    for (const Condition& c : e.conditions) exact += c.glob ? 0 : 1, literal += c.literal;
    const bool better = !best || e.conditions.size() > best->conditions.size() ||
                        (e.conditions.size() == best->conditions.size() &&
                         (exact > best_exact || (exact == best_exact && (literal > best_literal ||
                                                                         (literal == best_literal && &e < best)))));
    if (better) best = &e, best_exact = exact, best_literal = literal;
  };
  thread_local std::string scratch;
  thread_local Key probe;
  for (const std::string& f : exact_fields_) {
    std::string_view value;
    if (!text_of(alert, f, scratch, value)) continue;
    probe.field = f;
    probe.value.assign(value);
    if (auto it = exact_.find(probe); it != exact_.end()) {
      for (std::uint32_t i : it->second) consider(i);
    }
  }
  for (std::uint32_t i : scan_) consider(i);
  return best;
}

}  // namespace saker
