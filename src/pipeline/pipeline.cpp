#include "pipeline/pipeline.hpp"

#include <set>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/json_text.hpp"

namespace saker {

namespace {

// Stands in for a sink while its runner hands over to the one with the new config: takes everything, briefly.
class HoldingQueue final : public Consumer {
 public:
  bool refusing() const noexcept override { return false; }
  bool push(std::vector<AlertPtr>& alerts) override {
    std::lock_guard lock(mu_);
    held_.insert(held_.end(), std::make_move_iterator(alerts.begin()), std::make_move_iterator(alerts.end()));
    alerts.clear();
    return true;
  }
  std::vector<AlertPtr> take() {
    std::lock_guard lock(mu_);
    return std::move(held_);
  }

 private:
  std::mutex mu_;
  std::vector<AlertPtr> held_;
};

}  // namespace

Pipeline::Pipeline(std::shared_ptr<const PipelineConfig> config, Metrics& metrics,
                   std::shared_ptr<const SecretRedactor> redactor)
    : config_(std::move(config)),
      metrics_(metrics),
      redactor_(redactor ? std::move(redactor) : std::make_shared<const SecretRedactor>()) {
  router_.store(std::make_shared<const Router>(std::vector<Router::Target>{}, metrics_));
}

Pipeline::~Pipeline() { stop(); }

// What a component takes from PipelineConfig besides its own spec (data_dir, limits) is part of its spec's text
// (config.cpp, add_settings_text), so reload() restarts it when that changes: keep the two in step.
Result<std::shared_ptr<const StageChain>> Pipeline::build_stages(const PipelineConfig& cfg) {
  auto chain = std::make_shared<StageChain>();
  for (const auto& spec : cfg.stages) {
    StageContext ctx{spec.name, metrics_, cfg.data_dir};
    auto stage = spec.build(ctx);
    if (!stage) return make_error("stage", fmt::format("stage {} could not be built", spec.name));
    chain->add(spec.name, std::move(stage),
               metrics_.timing("saker_stage_seconds", "Time spent in each stage per alert (sampled)", {{"stage", spec.name}}));
  }
  return std::shared_ptr<const StageChain>(chain->empty() ? nullptr : std::move(chain));
}

Result<std::unique_ptr<SinkRunner>> Pipeline::open_sink(const SinkSpec& spec, const PipelineConfig& cfg) {
  auto runner = std::make_unique<SinkRunner>(spec, metrics_, cfg.data_dir, cfg.limits);
  if (auto r = runner->start(); !r) return make_error(r.error().code, fmt::format("sink {}: {}", spec.name, r.error().message));
  return runner;
}

Result<std::unique_ptr<Pipeline::RunningSource>> Pipeline::start_source(const SourceSpec& spec, const PipelineConfig& cfg) {
  auto rs = std::make_unique<RunningSource>();
  rs->spec = spec;
  rs->ctx = std::make_unique<SourceContext>(
      SourceContext{spec.name, *this, metrics_, cfg.limits, cfg.data_dir, &listeners_});
  rs->source = spec.build(*rs->ctx);
  if (auto r = rs->source->start(); !r) {
    return make_error(r.error().code, fmt::format("source {}: {}", spec.name, r.error().message));
  }
  spdlog::info("source {} ({}) started", spec.name, spec.type);
  return rs;
}

std::shared_ptr<const Router> Pipeline::make_router(const std::vector<SinkRunner*>& runners,
                                                    const std::map<std::string, Consumer*>& hold) const {
  std::vector<Router::Target> targets;
  for (SinkRunner* s : runners) {
    auto it = hold.find(s->name());
    targets.push_back(Router::Target{s->name(), s->spec().route, it == hold.end() ? s : it->second, true});
  }
  return std::make_shared<const Router>(std::move(targets), metrics_);
}

void Pipeline::publish_router(std::shared_ptr<const Router> next) {
  std::shared_ptr<const Router> old = router_.exchange(std::move(next));
  // A submit() holds its router for the length of the call: once we hold the last reference, none uses it.
  while (old.use_count() > 1) std::this_thread::sleep_for(std::chrono::microseconds(200));
}

Result<bool> Pipeline::start(bool with_sources) {
  auto stages = build_stages(*config_);
  if (!stages) return stages.error();
  stages_.store(std::move(stages).value());
  for (const auto& spec : config_->sinks) {
    auto runner = open_sink(spec, *config_);
    if (!runner) {
      stop();
      return runner.error();
    }
    sinks_.push_back(std::move(runner).value());
  }
  std::vector<SinkRunner*> runners;
  for (auto& s : sinks_) runners.push_back(s.get());
  publish_router(make_router(runners, {}));
  if (!with_sources) {
    started_ = true;
    return true;
  }
  for (const auto& spec : config_->sources) {
    auto rs = start_source(spec, *config_);
    if (!rs) {
      stop();
      return rs.error();
    }
    sources_.push_back(std::move(rs).value());
  }
  started_ = true;
  return true;
}

void Pipeline::stop() {
  if (stopped_) return;
  stopped_ = true;
  started_ = false;
  for (auto& s : sources_) s->source->stop();
  reap_retired(true);
  // Every sink gets the same grace period, side by side.
  for (auto& s : sinks_) s->request_stop(config_->shutdown_grace);
  for (auto& s : sinks_) s->stop(config_->shutdown_grace);
  sources_.clear();
}

Result<bool> Pipeline::reload(std::shared_ptr<const PipelineConfig> next) {
  std::lock_guard lock(reload_mu_);
  std::vector<std::string> problems;

  // Stages: rebuilt whole when any changed (they are stateless); swapped in at each source's next batch.
  auto same_stages = [&] {
    if (next->stages.size() != config_->stages.size()) return false;
    for (std::size_t i = 0; i < next->stages.size(); ++i) {
      if (next->stages[i].name != config_->stages[i].name || next->stages[i].text != config_->stages[i].text) return false;
    }
    return true;
  };
  if (!same_stages()) {
    if (auto chain = build_stages(*next)) {
      stages_.store(std::move(chain).value());
      spdlog::info("reload: {} stage(s) now", next->stages.size());
    } else {
      problems.push_back(chain.error().message);
    }
  }

  // Sinks: kept, changed (handed over), added, removed.
  std::map<std::string, SinkRunner*> running;
  for (auto& s : sinks_) running[s->name()] = s.get();
  std::vector<const SinkSpec*> changed, added;
  std::set<std::string> wanted;
  for (const auto& spec : next->sinks) {
    wanted.insert(spec.name);
    auto it = running.find(spec.name);
    if (it == running.end()) {
      added.push_back(&spec);
    } else if (it->second->spec().text != spec.text || spec.text.empty()) {
      changed.push_back(&spec);
    }
  }
  std::vector<std::unique_ptr<SinkRunner>> fresh;
  for (const SinkSpec* spec : added) {
    auto r = open_sink(*spec, *next);
    if (!r) {
      problems.push_back(r.error().message);
      continue;
    }
    spdlog::info("reload: sink {} added", spec->name);
    fresh.push_back(std::move(r).value());
  }
  // Changed sinks: a holding queue takes their alerts while the old runner hands over to the new one.
  std::map<std::string, std::unique_ptr<HoldingQueue>> holds;
  std::map<std::string, Consumer*> hold_view;
  for (const SinkSpec* spec : changed) {
    holds[spec->name] = std::make_unique<HoldingQueue>();
    hold_view[spec->name] = holds[spec->name].get();
  }
  auto order = [&](const std::map<std::string, SinkRunner*>& by_name) {
    std::vector<SinkRunner*> out;
    for (const auto& spec : next->sinks) {
      if (auto it = by_name.find(spec.name); it != by_name.end()) out.push_back(it->second);
    }
    return out;
  };
  std::map<std::string, SinkRunner*> now = running;
  for (auto& f : fresh) now[f->name()] = f.get();
  if (!holds.empty()) publish_router(make_router(order(now), hold_view));
  std::vector<std::unique_ptr<SinkRunner>> replaced;  // the new runners of changed sinks
  for (const SinkSpec* spec : changed) {
    SinkRunner* old = running[spec->name];
    if (old->spec().buffer.type == BufferSpec::Type::Disk && next->data_dir != config_->data_dir && old->queued() > 0) {
      spdlog::warn("reload: sink {}: data_dir is now {}; the {} alerts in its disk buffer stay under {} until saker "
                   "runs with that data_dir again",
                   spec->name, next->data_dir, old->queued(), config_->data_dir);
    }
    std::vector<AlertPtr> carried = old->hand_over();
    auto r = open_sink(*spec, *next);
    if (!r) {
      // The new config cannot run: the old one goes on, with what it held.
      problems.push_back(r.error().message);
      auto again = open_sink(old->spec(), *config_);
      if (!again) {
        spdlog::critical("reload: sink {} can run neither its new nor its old config: {}", spec->name, again.error().message);
        continue;
      }
      replaced.push_back(std::move(again).value());
    } else {
      replaced.push_back(std::move(r).value());
      spdlog::info("reload: sink {} changed; {} queued alerts handed over", spec->name, carried.size());
    }
    if (!carried.empty()) replaced.back()->push(carried);
    now[spec->name] = replaced.back().get();
  }
  publish_router(make_router(order(now), {}));
  // What arrived while the runners handed over goes to the new ones, after everything they were handed.
  for (auto& r : replaced) {
    if (auto it = holds.find(r->name()); it != holds.end()) {
      std::vector<AlertPtr> held = it->second->take();
      if (!held.empty()) r->push(held);
    }
  }
  // Removed sinks: the router no longer reaches them; they drain within the grace period.
  std::vector<std::unique_ptr<SinkRunner>> removed;
  {
    std::set<std::string> replaced_names;
    for (auto& r : replaced) replaced_names.insert(r->name());
    std::vector<std::unique_ptr<SinkRunner>> keep, handed;
    std::lock_guard sl(sinks_mu_);
    for (auto& s : sinks_) {
      if (!wanted.count(s->name())) {
        removed.push_back(std::move(s));
      } else if (replaced_names.count(s->name())) {
        handed.push_back(std::move(s));  // handed over already; destroyed here
      } else {
        keep.push_back(std::move(s));
      }
    }
    sinks_ = std::move(keep);
    for (auto& s : fresh) sinks_.push_back(std::move(s));
    for (auto& s : replaced) sinks_.push_back(std::move(s));
  }
  for (auto& s : removed) s->request_stop(next->shutdown_grace);
  for (auto& s : removed) {
    s->stop(next->shutdown_grace);
    spdlog::info("reload: sink {} removed", s->name());
  }

  const std::size_t sources_kept = reload_sources(*next, problems);
  spdlog::info("reload: {} of {} source(s) and {} of {} sink(s) unchanged", sources_kept, next->sources.size(),
               next->sinks.size() - changed.size() - added.size(), next->sinks.size());
  config_ = std::move(next);
  if (!problems.empty()) {
    std::string all;
    for (const auto& p : problems) all.append(all.empty() ? "" : "; ").append(p);
    return make_error("reload", all);
  }
  return true;
}

std::size_t Pipeline::reload_sources(const PipelineConfig& next, std::vector<std::string>& problems) {
  reap_retired(false);
  // Unchanged (same name, type and config text): kept untouched. The others are leaving: changed or removed.
  std::vector<std::unique_ptr<RunningSource>> kept;
  std::map<std::string, std::unique_ptr<RunningSource>> leaving;
  for (auto& s : sources_) leaving[s->spec.name] = std::move(s);
  sources_.clear();
  std::vector<const SourceSpec*> start;
  for (const auto& spec : next.sources) {
    auto it = leaving.find(spec.name);
    if (it != leaving.end() && it->second->spec.type == spec.type && it->second->spec.text == spec.text &&
        !spec.text.empty()) {
      kept.push_back(std::move(it->second));
      leaving.erase(it);
    } else {
      start.push_back(&spec);
    }
  }
  // A leaving listener lends its socket to whichever new source has its address (the same source with a new
  // config, or another name), so the new one starts first and the port never closes. A source that cannot hand
  // over (a file's checkpoint has one owner) stops before its successor starts.
  for (auto& [name, rs] : leaving) {
    if (rs->source->hands_over()) {
      listeners_.yield(rs->ctx.get(), true);
    } else {
      rs->source->stop();
      rs->stopped = true;
      spdlog::info("reload: source {} stopped", name);
    }
  }
  const std::size_t unchanged = kept.size();
  sources_ = std::move(kept);
  std::vector<std::unique_ptr<RunningSource>> kept_back;  // their new config could not start
  for (const SourceSpec* spec : start) {
    auto rs = start_source(*spec, next);
    if (rs) {
      sources_.push_back(std::move(rs).value());
      continue;
    }
    problems.push_back(rs.error().message);
    auto old = leaving.find(spec->name);
    if (old == leaving.end()) continue;
    // A bad config changes nothing: the old one goes on (or starts again, if it had to stop first).
    if (!old->second->stopped) {
      listeners_.yield(old->second->ctx.get(), false);
      kept_back.push_back(std::move(old->second));
    } else if (auto again = start_source(old->second->spec, *config_)) {
      sources_.push_back(std::move(again).value());
    } else {
      spdlog::critical("reload: source {} can run neither its new nor its old config: {}", spec->name,
                       again.error().message);
    }
    leaving.erase(old);
  }
  std::vector<std::unique_ptr<RunningSource>> retired;
  for (auto& [name, rs] : leaving) {
    if (!rs->stopped) retired.push_back(std::move(rs));
  }
  for (auto& rs : kept_back) {
    if (listeners_.shared(rs->ctx.get())) {
      // Its address went to another source of the new config, which accepts on it now: that one keeps it.
      spdlog::warn("reload: source {} cannot start its new config and its listen address now belongs to another "
                   "source: it stops",
                   rs->spec.name);
      retired.push_back(std::move(rs));
    } else {
      spdlog::info("reload: source {} goes on with its previous config", rs->spec.name);
      sources_.push_back(std::move(rs));
    }
  }
  for (auto& rs : retired) retire_source(std::move(rs), next.shutdown_grace);
  return unchanged;
}

void Pipeline::retire_source(std::unique_ptr<RunningSource> rs, std::chrono::milliseconds grace) {
  rs->source->retire();  // accepts nothing more: new connections are the successor's
  auto r = std::make_unique<RetiringSource>();
  r->rs = std::move(rs);
  RetiringSource* p = r.get();
  const auto deadline = std::chrono::steady_clock::now() + grace;
  p->thread = std::thread([this, p, deadline] {
    bool now = false;
    {
      std::unique_lock lock(retire_mu_);
      // Connections end on their own (a sender closes, a keep-alive client gets Connection: close); looked at
      // every 10ms rather than wired to each connection's end.
      while (!retire_now_ && !p->rs->source->drained() && std::chrono::steady_clock::now() < deadline) {
        const auto next_look = std::chrono::steady_clock::now() + std::chrono::milliseconds(10);
        retire_cv_.wait_until(lock, std::min(deadline, next_look));
      }
      now = retire_now_;
    }
    const bool cut = !p->rs->source->drained();
    p->rs->source->stop();
    if (cut) {
      spdlog::warn("reload: source {} (previous config) closed the connections still open {}", p->rs->spec.name,
                   now ? "at shutdown" : "after shutdown_grace");
    } else {
      spdlog::info("reload: source {} (previous config) finished its connections", p->rs->spec.name);
    }
    p->done = true;
  });
  retiring_.push_back(std::move(r));
}

void Pipeline::reap_retired(bool now) {
  if (now) {
    std::lock_guard lock(retire_mu_);
    retire_now_ = true;
  }
  retire_cv_.notify_all();
  std::erase_if(retiring_, [now](const std::unique_ptr<RetiringSource>& r) {
    if (!now && !r->done.load()) return false;
    r->thread.join();
    return true;
  });
}

bool Pipeline::submit(std::vector<AlertPtr>& batch) {
  const std::shared_ptr<const Router> router = router_.load();
  return router->submit(batch) == Router::Outcome::Taken;
}

Priority Pipeline::floor() const {
  // Test alerts and routes both count: the lowest route decides what a source may skip building.
  return router_.load()->floor();
}

std::string Pipeline::health(bool& healthy) const {
  std::lock_guard sl(sinks_mu_);
  healthy = true;
  std::string sinks;
  for (const auto& s : sinks_) {
    const bool ok = s->healthy();
    healthy = healthy && ok;
    if (!sinks.empty()) sinks.push_back(',');
    append_json_string(sinks, redactor_->apply(s->name()));
    fmt::format_to(std::back_inserter(sinks), ":{{\"healthy\":{},\"queued\":{}", ok, s->queued());
    if (!ok) {
      sinks.append(",\"last_error\":");
      append_json_string(sinks, redactor_->apply(s->last_error()));
    }
    sinks.push_back('}');
  }
  // "status" stays "ok" while the daemon runs (falcosidekick's /healthz); "degraded" says a sink is failing.
  return fmt::format("{{\"status\":\"ok\",\"degraded\":{},\"sinks\":{{{}}}}}", !healthy, sinks);
}

std::string Pipeline::readiness(bool& ready) const {
  std::lock_guard sl(sinks_mu_);
  ready = started_.load();
  std::string sinks;
  for (const auto& s : sinks_) {
    const bool refusing = s->refusing();
    ready = ready && !refusing;
    if (!sinks.empty()) sinks.push_back(',');
    append_json_string(sinks, redactor_->apply(s->name()));
    fmt::format_to(std::back_inserter(sinks), ":{{\"accepting\":{},\"healthy\":{},\"queued\":{}}}", !refusing,
                   s->healthy(), s->queued());
  }
  return fmt::format("{{\"ready\":{},\"sinks\":{{{}}}}}", ready, sinks);
}

bool Pipeline::request_reload() {
  if (!on_reload_request_) return false;
  on_reload_request_();
  return true;
}

bool Pipeline::sources_finished() const {
  for (const auto& s : sources_) {
    if (!s->source->finished()) return false;
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
