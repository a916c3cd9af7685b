#include "core/template.hpp"

#include <fmt/format.h>

#include "core/field_picks.hpp"
#include "core/time.hpp"

namespace saker {

Result<FieldTemplate> FieldTemplate::compile(std::string_view text,
                                             const std::function<bool(std::string_view)>& known) {
  FieldTemplate t;
  t.text_ = std::string(text);
  std::string literal;
  auto error = [](std::size_t at, std::string message) {
    Error e = make_error("bad_template", std::move(message));
    e.column = at + 1;
    return e;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        literal.push_back('}');
        ++i;
        continue;
      }
      return error(i, "unmatched '}': write }} for a literal brace");
    }
    if (c != '{') {
      literal.push_back(c);
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      literal.push_back('{');
      ++i;
      continue;
    }
    const auto close = text.find_first_of("{}", i + 1);
    if (close == std::string_view::npos || text[close] != '}') {
      return error(i, "unclosed '{': a field is written {field.name}, a literal brace {{");
    }
    std::string_view name = text.substr(i + 1, close - i - 1);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name.empty()) return error(i, "empty field name in {}");
    if (!known(name)) {
      return error(i + 1, fmt::format("unknown field \"{}\": use an alert key (rule, priority, hostname, ...), a Falco "
                                      "field (proc.cmdline, k8s.ns.name, ...) or a field an earlier stage adds",
                                      name));
    }
    if (!literal.empty()) t.parts_.push_back({false, std::move(literal)});
    literal.clear();
    t.parts_.push_back({true, std::string(name)});
    i = close;
  }
  if (!literal.empty()) t.parts_.push_back({false, std::move(literal)});
  for (const auto& p : t.parts_) {
    if (p.field) FieldPicks::want(p.text);  // decode picks its value: rendering needs no field table
  }
  return t;
}

namespace {

void append_value(const Alert& alert, std::string_view name, std::string& out) {
  if (name == "time") {  // as text, as Falco writes it
    out.append(format_rfc3339_ns(alert.time_ns));
    return;
  }
  if (name == "tags") {
    for (std::size_t i = 0; i < alert.tags.size(); ++i) out.append(i ? "," : "").append(alert.tags[i]);
    return;
  }
  Value v;
  if (!alert.lookup(name, v)) return;
  if (v.kind == Value::Kind::String || v.kind == Value::Kind::Array || v.kind == Value::Kind::Object) {
    out.append(v.text);
  } else {
    out.append(v.to_text());
  }
}

bool name_safe(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

}  // namespace

void FieldTemplate::render(const Alert& alert, std::string& out, Values values) const {
  for (const auto& p : parts_) {
    if (!p.field) {
      out.append(p.text);
      continue;
    }
    const std::size_t at = out.size();
    append_value(alert, p.text, out);
    if (values != Values::NameSafe) continue;
    for (std::size_t i = at; i < out.size(); ++i) {
      if (!name_safe(out[i])) out[i] = '_';
    }
  }
}

bool FieldTemplate::constant() const noexcept {
  for (const auto& p : parts_) {
    if (p.field) return false;
  }
  return true;
}

std::vector<std::string_view> FieldTemplate::fields() const {
  std::vector<std::string_view> out;
  for (const auto& p : parts_) {
    if (p.field) out.emplace_back(p.text);
  }
  return out;
}

}  // namespace saker
