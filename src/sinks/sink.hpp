#pragma once
// A sink delivers batches of alerts to one destination. It runs on its own thread (the pipeline's SinkRunner
// calls it), so it never needs to lock and a slow sink never blocks another.
#include <array>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "config/node.hpp"
#include "core/alert.hpp"
#include "core/result.hpp"
#include "format/formatter.hpp"
#include "observe/metrics.hpp"
#include "sinks/dead_letter.hpp"

namespace saker {

struct SinkContext {
  std::string name;
  Metrics& metrics;
  std::string data_dir;
  std::shared_ptr<const Formatter> formatter;
  DeadLetterFile& dead_letters;  // for alerts the destination rejects for good (with the reason)
};

class Sink {
 public:
  virtual ~Sink() = default;
  // Opens connections/files; an error here is reported at start-up.
  virtual Result<bool> open() { return true; }
  // Delivers the batch in order. On an error the runner waits (exponential backoff with jitter) and calls write()
  // again with exactly the same batch, until it succeeds or shutdown gives up; a sink may remember which alerts
  // of the batch were already delivered and skip them. Alerts rejected for good go to ctx.dead_letters and
  // count as done. Called only from the sink's own thread.
  virtual Result<bool> write(std::span<const AlertPtr> batch) = 0;
  // Makes what was written durable/visible (file: fflush). Called when the queue runs empty and at shutdown.
  virtual void flush() {}
};

using SinkBuilder = std::function<std::unique_ptr<Sink>(SinkContext&)>;
using SinkParser = SinkBuilder (*)(const ConfigReader&);

// Keys every sink accepts besides its own (read by the pipeline config).
inline constexpr std::array<std::string_view, 10> kCommonSinkKeys = {
    "type", "name", "format", "format_options", "min_priority", "filter", "buffer", "batch_size", "batch_wait",
    "retry"};

}  // namespace saker
