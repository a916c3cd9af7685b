#include "pipeline/pipeline.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/json_text.hpp"

namespace saker {

Pipeline::Pipeline(std::shared_ptr<const PipelineConfig> config, Metrics& metrics)
    : config_(std::move(config)),
      metrics_(metrics),
      unrouted_(metrics.counter("saker_alerts_unrouted_total", "Alerts no sink's route matched")),
      backpressure_(metrics.counter("saker_backpressure_total",
                                    "Batches refused because a matched sink's queue was full (sources retry)")) {}

Pipeline::~Pipeline() { stop(); }

Result<bool> Pipeline::start(bool with_sources) {
  for (const auto& spec : config_->sinks) {
    auto runner = std::make_unique<SinkRunner>(spec, metrics_, config_->data_dir, config_->limits);
    if (auto r = runner->start(); !r) {
      stop();
      return make_error(r.error().code, fmt::format("sink {}: {}", spec.name, r.error().message));
    }
    sinks_.push_back(std::move(runner));
  }
  if (!with_sources) return true;
  for (const auto& spec : config_->sources) {
    auto ctx = std::make_unique<SourceContext>(SourceContext{spec.name, *this, metrics_, config_->limits, config_->data_dir});
    auto source = spec.build(*ctx);
    if (auto r = source->start(); !r) {
      stop();
      return make_error(r.error().code, fmt::format("source {}: {}", spec.name, r.error().message));
    }
    spdlog::info("source {} ({}) started", spec.name, spec.type);
    sources_.push_back(std::move(source));
    source_contexts_.push_back(std::move(ctx));
  }
  return true;
}

void Pipeline::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& s : sources_) s->stop();
  // Every sink gets the same grace period, side by side.
  for (auto& s : sinks_) s->request_stop(config_->shutdown_grace);
  for (auto& s : sinks_) s->stop(config_->shutdown_grace);
  sources_.clear();
  source_contexts_.clear();
}

bool Pipeline::submit(std::vector<AlertPtr>& batch) {
  // Per-thread scratch: one list per sink, reused across calls so routing allocates nothing in steady state.
  thread_local std::vector<std::vector<AlertPtr>> routed;
  if (routed.size() < sinks_.size()) routed.resize(sinks_.size());
  std::uint64_t unrouted = 0;
  for (const auto& alert : batch) {
    bool any = false;
    for (std::size_t i = 0; i < sinks_.size(); ++i) {
      if (sinks_[i]->route().matches(*alert)) {
        routed[i].push_back(alert);
        any = true;
      }
    }
    if (!any) ++unrouted;
  }
  for (std::size_t i = 0; i < sinks_.size(); ++i) {
    if (!routed[i].empty() && sinks_[i]->full()) {
      for (auto& r : routed) r.clear();
      backpressure_.inc();
      return false;
    }
  }
  for (std::size_t i = 0; i < sinks_.size(); ++i) {
    if (!routed[i].empty() && !sinks_[i]->push(routed[i])) {
      // A buffer refused after all (disk full, or filled by another source meanwhile). Sinks before it already
      // hold their copy: the retry delivers those twice, which at-least-once allows.
      for (auto& r : routed) r.clear();
      backpressure_.inc();
      return false;
    }
  }
  if (unrouted) unrouted_.inc(unrouted);
  batch.clear();
  return true;
}

Priority Pipeline::floor() const {
  if (config_->sinks.empty()) return Priority::Debug;
  Priority low = Priority::Emergency;
  for (const auto& spec : config_->sinks) low = std::min(low, spec.route.min_priority);
  return low;
}

std::string Pipeline::health(bool& healthy) const {
  healthy = true;
  std::string sinks;
  for (const auto& s : sinks_) {
    const bool ok = s->healthy();
    healthy = healthy && ok;
    if (!sinks.empty()) sinks.push_back(',');
    append_json_string(sinks, s->name());
    fmt::format_to(std::back_inserter(sinks), ":{{\"healthy\":{},\"queued\":{}", ok, s->queued());
    if (!ok) {
      sinks.append(",\"last_error\":");
      append_json_string(sinks, s->last_error());
    }
    sinks.push_back('}');
  }
  return fmt::format("{{\"status\":\"{}\",\"sinks\":{{{}}}}}", healthy ? "ok" : "degraded", sinks);
}

bool Pipeline::sources_finished() const {
  for (const auto& s : sources_) {
    if (!s->finished()) return false;
  }
  return !sources_.empty();
}

bool Pipeline::wait_idle(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto& s : sinks_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (!s->wait_idle(std::max(left, std::chrono::milliseconds(0)))) return false;
  }
  return true;
}

}  // namespace saker
