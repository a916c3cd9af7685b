#pragma once
// A text template over alert fields: "{rule} on {hostname} by {user.name}". `{{` and `}}` are literal braces;
// a field the alert does not have renders empty. Names are checked when the template is compiled, so a typo is a
// `saker check` error with its column. Rendering appends raw text: the target's formatter or escaper escapes it.
// Used by the `fields` stage and by the kafka sink's `topic` and `key`.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/alert.hpp"
#include "core/result.hpp"

namespace saker {

class FieldTemplate {
 public:
  // `known` says whether a name may be used (see core/field_names.hpp); errors carry the 1-based column.
  static Result<FieldTemplate> compile(std::string_view text, const std::function<bool(std::string_view)>& known);

  // How substituted values are written; literal text is always written as it is.
  enum class Values {
    Verbatim,
    NameSafe,  // bytes outside [A-Za-z0-9._-] become '_' (Kafka topic names)
  };
  void render(const Alert& alert, std::string& out, Values values = Values::Verbatim) const;
  std::string render(const Alert& alert) const {
    std::string out;
    render(alert, out);
    return out;
  }
  // The field names it refers to, in order.
  std::vector<std::string_view> fields() const;
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

}  // namespace saker
