#pragma once
// A formatter renders one alert as one record for a sink's wire (JSON, ECS, CEF, ...).
#include <memory>
#include <string>
#include <string_view>

#include "core/alert.hpp"
#include "core/result.hpp"

namespace saker {

class Formatter {
 public:
  virtual ~Formatter() = default;
  // Appends one record to `out`, without framing (no trailing newline): the transport frames it.
  virtual void format(const Alert& alert, std::string& out) const = 0;
};

// By config name: "json". Unknown names are an error listing the known ones.
Result<std::shared_ptr<const Formatter>> make_formatter(std::string_view name);

}  // namespace saker
