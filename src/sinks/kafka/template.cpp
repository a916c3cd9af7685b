#include "sinks/kafka/template.hpp"

#include <fmt/format.h>

namespace saker::kafka {

Result<FieldTemplate> FieldTemplate::parse(std::string_view text) {
  FieldTemplate t;
  t.text_ = std::string(text);
  std::string literal;
  auto flush_literal = [&] {
    if (!literal.empty()) t.parts_.push_back(Part{false, std::move(literal)});
    literal.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      literal += c;
      ++i;
    } else if (c == '{') {
      const std::size_t end = text.find_first_of("{}", i + 1);
      if (end == std::string_view::npos || text[end] != '}') {
        Error e = make_error("bad_template", fmt::format("unclosed '{{' in \"{}\" (write {{{{ for a literal brace)", text));
        e.column = i + 1;
        return e;
      }
      if (end == i + 1) {
        Error e = make_error("bad_template", fmt::format("empty field name \"{{}}\" in \"{}\"", text));
        e.column = i + 1;
        return e;
      }
      flush_literal();
      t.parts_.push_back(Part{true, std::string(text.substr(i + 1, end - i - 1))});
      i = end;
    } else if (c == '}') {
      Error e = make_error("bad_template", fmt::format("unmatched '}}' in \"{}\" (write }}}} for a literal brace)", text));
      e.column = i + 1;
      return e;
    } else {
      literal += c;
    }
  }
  flush_literal();
  return t;
}

bool FieldTemplate::constant() const noexcept {
  for (const auto& p : parts_) {
    if (p.field) return false;
  }
  return true;
}

void FieldTemplate::render(const Alert& alert, std::string& out, bool sanitize) const {
  for (const auto& p : parts_) {
    if (!p.field) {
      out += p.text;
      continue;
    }
    Value v;
    if (!alert.lookup(p.text, v) || v.is_null()) continue;
    const std::size_t at = out.size();
    if (v.kind == Value::Kind::String) {
      out += v.text;
    } else {
      out += v.to_text();
    }
    if (!sanitize) continue;
    for (std::size_t i = at; i < out.size(); ++i) {
      const char c = out[i];
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '_' || c == '-';
      if (!ok) out[i] = '_';
    }
  }
}

}  // namespace saker::kafka
