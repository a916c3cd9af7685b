#pragma once
// The stages wired together: sources -> decode -> stages -> router -> each consumer's queue.
//
// Sources decode on their own threads, run the stage chain there (the alert is still theirs alone) and call
// submit(), which hands the batch to the current Router. The router and the stage chain are immutable snapshots,
// replaced whole by reload(): a source's next batch uses the new ones, and nothing running is stopped unless its
// own config changed.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "observe/metrics.hpp"
#include "observe/redact.hpp"
#include "pipeline/config.hpp"
#include "pipeline/sink_runner.hpp"
#include "route/router.hpp"
#include "sources/listeners.hpp"
#include "sources/source.hpp"

namespace saker {

class Pipeline final : public Ingest {
 public:
  // `redactor` keeps the config's secrets out of health() and readiness() (sink names, last errors); without one,
  // hide_credentials() still applies.
  Pipeline(std::shared_ptr<const PipelineConfig> config, Metrics& metrics,
           std::shared_ptr<const SecretRedactor> redactor = nullptr);
  ~Pipeline() override;

  // Opens every sink, builds the stages, then starts every source (unless `with_sources` is false, as for replay).
  Result<bool> start(bool with_sources = true);
  // Stops the sources (no new alerts), then drains the sinks within the config's shutdown_grace.
  void stop();

  // Moves to `next`, component by component: what did not change keeps running untouched; a changed tcp or http
  // source starts beside the old one on the same listening socket and the old one retires (a listener whose
  // address is unchanged is never closed); a changed sink's runner hands its queue to the new one; a removed sink
  // drains within shutdown_grace (a disk buffer keeps the rest); new stages replace the old at the next batch.
  // Errors starting new parts are returned after everything that could move did; a source whose new config cannot
  // start goes on with its old one.
  Result<bool> reload(std::shared_ptr<const PipelineConfig> next);

  bool submit(std::vector<AlertPtr>& batch) override;
  std::string health(bool& healthy) const override;
  std::string readiness(bool& ready) const override;
  bool request_reload() override;
  // What POST /-/reload does (main: raise SIGHUP, so a reload always takes the same path).
  void on_reload_request(std::function<void()> f) { on_reload_request_ = std::move(f); }
  Priority floor() const override;
  std::shared_ptr<const StageChain> stages() const override { return stages_.load(); }
  const Clock* clock() const override { return clock_; }
  // Replay drives arrival stamps from event time; must be set before start().
  void set_clock(const Clock* clock) noexcept { clock_ = clock; }

  // True once every source reports its input exhausted (stdin).
  bool sources_finished() const;
  bool wait_idle(std::chrono::milliseconds timeout);
  const PipelineConfig& config() const noexcept { return *config_; }

 private:
  struct RunningSource {
    SourceSpec spec;
    std::unique_ptr<SourceContext> ctx;  // its address names the source as a holder in listeners_
    std::unique_ptr<Source> source;
    bool stopped = false;  // stopped at a reload before its successor started (it cannot hand over)
  };
  // A replaced source finishing its connections after the handover, on a thread of its own.
  struct RetiringSource {
    std::unique_ptr<RunningSource> rs;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  Result<std::shared_ptr<const StageChain>> build_stages(const PipelineConfig& cfg);
  Result<std::unique_ptr<SinkRunner>> open_sink(const SinkSpec& spec, const PipelineConfig& cfg);
  Result<std::unique_ptr<RunningSource>> start_source(const SourceSpec& spec, const PipelineConfig& cfg);
  // The sources part of reload(): kept, replaced (handed over, or stopped then started), added, removed. Returns
  // how many were kept untouched.
  std::size_t reload_sources(const PipelineConfig& next, std::vector<std::string>& problems);
  // Retires `rs` (it stops accepting now) and stops it once its connections are done, or after `grace`.
  void retire_source(std::unique_ptr<RunningSource> rs, std::chrono::milliseconds grace);
  // Joins the retired sources that are done; with `now`, first tells the rest to stop at once.
  void reap_retired(bool now);
  // A router over `runners` with their specs' routes; `hold` stands in for the named sinks being handed over.
  std::shared_ptr<const Router> make_router(const std::vector<SinkRunner*>& runners,
                                            const std::map<std::string, Consumer*>& hold) const;
  // Swaps the router and waits until no submit() still uses the old one.
  void publish_router(std::shared_ptr<const Router> next);

  std::shared_ptr<const PipelineConfig> config_;
  Metrics& metrics_;
  std::shared_ptr<const SecretRedactor> redactor_;
  const Clock* clock_ = nullptr;
  std::mutex reload_mu_;  // one reload at a time
  mutable std::mutex sinks_mu_;  // sinks_ as health() reads it while a reload replaces entries
  std::vector<std::unique_ptr<SinkRunner>> sinks_;
  Listeners listeners_;  // before the sources: outlives every lease
  std::vector<std::unique_ptr<RunningSource>> sources_;
  std::vector<std::unique_ptr<RetiringSource>> retiring_;
  std::mutex retire_mu_;
  std::condition_variable retire_cv_;
  bool retire_now_ = false;  // stop(): retiring sources stop without waiting for their connections
  std::atomic<std::shared_ptr<const Router>> router_;
  std::atomic<std::shared_ptr<const StageChain>> stages_;
  std::atomic<int> submitting_{0};
  bool stopped_ = false;
  std::atomic<bool> started_{false};
  std::function<void()> on_reload_request_;
};

}  // namespace saker
