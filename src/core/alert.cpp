#include "core/alert.hpp"

#include <fmt/format.h>

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
  std::call_once(fields_once_, [this] { build_fields(); });
  return fields_;
}

std::span<const Value> Alert::items(const Value& array) const {
  fields();  // builds tag_items_ and items_
  if (array.alert_tags) return std::span<const Value>(tag_items_).subspan(array.first_item, array.item_count);
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
  } else if (const Field* f = find_field(name)) {
    out = f->value;
  } else {
    return false;
  }
  return true;
}

}  // namespace saker
