#pragma once
// `saker dlq replay -c FILE SINK`: re-sends the alerts a sink dead-lettered, through that sink only.
#include <memory>
#include <string>

#include "pipeline/config.hpp"

namespace saker {

// Returns the exit code. The dead-letter file is moved aside first, so alerts the sink rejects again land in
// a fresh dead-letter file; the moved file is deleted once every alert in it was re-sent.
int run_dlq_replay(std::shared_ptr<const PipelineConfig> config, const std::string& sink);

}  // namespace saker
