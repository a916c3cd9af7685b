#pragma once
#include "sinks/sink.hpp"

namespace saker {

// `stdout`: one record per line on standard output. No options besides the common ones.
SinkBuilder parse_stdout_sink(const ConfigReader& r);

}  // namespace saker
