#pragma once
#include "format/formatter.hpp"

namespace saker {

// `json`: the alert exactly as received (one line), plus the fields saker added (a generated uuid).
class JsonFormatter final : public Formatter {
 public:
  void format(const Alert& alert, std::string& out) const override;
};

}  // namespace saker
