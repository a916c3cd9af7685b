#include <fmt/format.h>

#include "format/formatter.hpp"
#include "format/json.hpp"

namespace saker {

Result<std::shared_ptr<const Formatter>> make_formatter(std::string_view name) {
  if (name == "json") return std::shared_ptr<const Formatter>(std::make_shared<JsonFormatter>());
  return make_error("unknown_format", fmt::format("unknown format \"{}\"; known formats: json", name));
}

}  // namespace saker
