#pragma once
// `saker replay`: recorded alerts (NDJSON files) through the configured sinks, then a summary.
#include <memory>
#include <string>
#include <vector>

#include "pipeline/config.hpp"

namespace saker {

// Returns the process exit code: 0 when every file was read (refused lines are reported, not fatal).
int run_replay(std::shared_ptr<const PipelineConfig> config, const std::vector<std::string>& files, bool progress);

}  // namespace saker
