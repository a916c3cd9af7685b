#include "core/priority.hpp"

#include <array>

namespace saker {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char c = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];  // ASCII only, no locale
    if (c != b[i]) return false;
  }
  return true;
}

struct Name {
  std::string_view lower;
  Priority priority;
};

constexpr std::array<Name, 14> kNames{{
    {"debug", Priority::Debug},
    {"informational", Priority::Informational},
    {"info", Priority::Informational},
    {"notice", Priority::Notice},
    {"warning", Priority::Warning},
    {"warn", Priority::Warning},
    {"error", Priority::Error},
    {"err", Priority::Error},
    {"critical", Priority::Critical},
    {"crit", Priority::Critical},
    {"alert", Priority::Alert},
    {"emergency", Priority::Emergency},
    {"emerg", Priority::Emergency},
    {"informative", Priority::Informational},
}};

}  // namespace

std::optional<Priority> parse_priority(std::string_view name) noexcept {
  for (const auto& n : kNames) {
    if (iequals(name, n.lower)) return n.priority;
  }
  return std::nullopt;
}

std::string_view to_string(Priority p) noexcept {
  switch (p) {
    case Priority::Debug: return "Debug";
    case Priority::Informational: return "Informational";
    case Priority::Notice: return "Notice";
    case Priority::Warning: return "Warning";
    case Priority::Error: return "Error";
    case Priority::Critical: return "Critical";
    case Priority::Alert: return "Alert";
    case Priority::Emergency: return "Emergency";
  }
  return "Unknown";
}

}  // namespace saker
