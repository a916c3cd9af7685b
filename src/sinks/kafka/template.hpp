#pragma once
// `{field}` templates for Kafka topics and keys: literal text with alert fields substituted.
#include <string>
#include <string_view>
#include <vector>

#include "core/alert.hpp"
#include "core/result.hpp"

namespace saker::kafka {

class FieldTemplate {
 public:
  // "{hostname}", "falco-{priority}", "{k8s.ns.name}/{proc.name}"; "{{" and "}}" are literal braces.
  // Errors (unbalanced or empty braces) carry the 1-based column.
  static Result<FieldTemplate> parse(std::string_view text);

  // Appends the rendered text; fields the alert lacks render as "". `sanitize` replaces characters
  // outside [A-Za-z0-9._-] in substituted values with '_' (topic names).
  void render(const Alert& alert, std::string& out, bool sanitize = false) const;
  bool empty() const noexcept { return parts_.empty(); }
  bool constant() const noexcept;  // no fields: renders the same text for every alert
  const std::string& text() const noexcept { return text_; }

 private:
  struct Part {
    bool field = false;
    std::string text;  // literal text, or the field name
  };
  std::string text_;
  std::vector<Part> parts_;
};

}  // namespace saker::kafka
