#pragma once
// Config `type:` -> the component's parser. Adding a source or sink is one file pair plus one line here.
#include <string>
#include <string_view>
#include <vector>

#include "core/stage.hpp"
#include "sinks/sink.hpp"
#include "sources/source.hpp"

namespace saker {

SourceParser find_source_parser(std::string_view type);  // nullptr when unknown
SinkParser find_sink_parser(std::string_view type);
std::vector<std::string> source_types();
std::vector<std::string> sink_types();
StageParser find_stage_parser(std::string_view name);  // an `enrich:` key
std::vector<std::string> stage_types();

}  // namespace saker
