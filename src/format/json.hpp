#pragma once
#include "format/formatter.hpp"

namespace saker {

// `json`: the alert exactly as received (one line), plus what saker added: a generated uuid, and the fields and
// tags stages added — fields inside `output_fields` under their flat names (top level for the flattened shape),
// tags at the end of `tags`.
class JsonFormatter final : public Formatter {
 public:
  void format(const Alert& alert, std::string& out) const override;
};

}  // namespace saker
