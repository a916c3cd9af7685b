#include <fmt/format.h>

#include "format/formatter.hpp"
#include "format/cef.hpp"
#include "format/ecs.hpp"
#include "format/json.hpp"
#include "format/leef.hpp"
#include "format/ocsf.hpp"

namespace saker {
namespace {

using Factory = std::shared_ptr<const Formatter> (*)();

// One line per format.
const std::pair<std::string_view, Factory> kFormats[] = {
    {"json", [] { return std::shared_ptr<const Formatter>(std::make_shared<JsonFormatter>()); }},
    {"ecs", [] { return std::shared_ptr<const Formatter>(std::make_shared<EcsFormatter>()); }},
    {"ocsf", [] { return std::shared_ptr<const Formatter>(std::make_shared<OcsfFormatter>()); }},
    {"cef", [] { return std::shared_ptr<const Formatter>(std::make_shared<CefFormatter>()); }},
    {"leef", [] { return std::shared_ptr<const Formatter>(std::make_shared<LeefFormatter>()); }},
};

}  // namespace

Result<std::shared_ptr<const Formatter>> make_formatter(std::string_view name) {
  std::string known;
  for (const auto& [n, factory] : kFormats) {
    if (n == name) return factory();
    known.append(known.empty() ? "" : ", ").append(n);
  }
  return make_error("unknown_format", fmt::format("unknown format \"{}\"; known formats: {}", name, known));
}

}  // namespace saker
