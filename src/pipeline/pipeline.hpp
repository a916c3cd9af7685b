#pragma once
// The stages wired together: sources -> route -> each sink's runner. Sources decode on their own threads and
// call submit(); routing happens there too, so the only shared state touched per batch is each sink's queue.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "observe/metrics.hpp"
#include "pipeline/config.hpp"
#include "pipeline/sink_runner.hpp"
#include "sources/source.hpp"

namespace saker {

class Pipeline final : public Ingest {
 public:
  Pipeline(std::shared_ptr<const PipelineConfig> config, Metrics& metrics);
  ~Pipeline() override;

  // Opens every sink, then starts every source (unless `with_sources` is false, as for replay).
  Result<bool> start(bool with_sources = true);
  // Stops the sources (no new alerts), then drains the sinks within the config's shutdown_grace.
  void stop();

  bool submit(std::vector<AlertPtr>& batch) override;
  std::string health(bool& healthy) const override;
  Priority floor() const override;

  // True once every source reports its input exhausted (stdin).
  bool sources_finished() const;
  bool wait_idle(std::chrono::milliseconds timeout);
  const std::vector<std::unique_ptr<SinkRunner>>& sinks() const noexcept { return sinks_; }
  const PipelineConfig& config() const noexcept { return *config_; }

 private:
  std::shared_ptr<const PipelineConfig> config_;
  Metrics& metrics_;
  std::vector<std::unique_ptr<SinkRunner>> sinks_;
  std::vector<std::unique_ptr<Source>> sources_;
  std::vector<std::unique_ptr<SourceContext>> source_contexts_;
  Counter& unrouted_;
  Counter& backpressure_;
  bool stopped_ = false;
};

}  // namespace saker
