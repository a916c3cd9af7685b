#include "pipeline/registry.hpp"

#include <array>
#include <utility>

#include "sinks/file.hpp"
#include "sinks/stdout.hpp"

namespace saker {
namespace {

constexpr std::array<std::pair<std::string_view, SourceParser>, 0> kSources{{
}};

constexpr std::array<std::pair<std::string_view, SinkParser>, 2> kSinks{{
    {"stdout", &parse_stdout_sink},
    {"file", &parse_file_sink},
}};

template <typename Table>
auto find(const Table& table, std::string_view type) -> typename Table::value_type::second_type {
  for (const auto& [name, parser] : table) {
    if (name == type) return parser;
  }
  return nullptr;
}

template <typename Table>
std::vector<std::string> names(const Table& table) {
  std::vector<std::string> out;
  for (const auto& entry : table) out.emplace_back(entry.first);
  return out;
}

}  // namespace

SourceParser find_source_parser(std::string_view type) { return find(kSources, type); }
SinkParser find_sink_parser(std::string_view type) { return find(kSinks, type); }
std::vector<std::string> source_types() { return names(kSources); }
std::vector<std::string> sink_types() { return names(kSinks); }

}  // namespace saker
