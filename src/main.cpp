// saker: Falco alerts in, SOC-ready alerts out. The CLI: run, check, replay, version.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "config/file_watch.hpp"
#include "observe/logging.hpp"
#include "pipeline/config.hpp"
#include "pipeline/dlq.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/replay.hpp"

#ifdef SAKER_JEMALLOC
// jemalloc's settings, read at start-up (MALLOC_CONF in the environment still overrides them). One arena: alerts
// are allocated on decode threads and freed on sink threads, and per-CPU arenas kept about twice the resident memory
// for no measurable speed. Thread caches up to 16 KiB: a decoded alert is one allocation (the alert, the room for
// what stages add, its JSON), about 5 KiB with stages; above the cache's limit (4 KiB by default) each one took the
// arena's lock, and the run with stages used 1.3x the CPU for it (docs/benchmarks.md).
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "narenas:1,tcache_max:16384";
}
#endif

namespace {

using saker::ConfigErrors;
using saker::PipelineConfig;

std::shared_ptr<const PipelineConfig> load(const std::string& path, bool quiet_ok = true,
                                           saker::ConfigUse use = saker::ConfigUse::run) {
  ConfigErrors errors(path.empty() ? "<embedded default>" : path);
  std::unique_ptr<PipelineConfig> cfg = path.empty() ? saker::parse_config(saker::default_config_text(), errors, use)
                                                     : saker::load_config_file(path, errors, use);
  if (!cfg) {
    if (spdlog::get("saker")) {
      // Logging is set up (a reload): the errors go through it, so a JSON log stays one object per line.
      for (const auto& e : errors.errors()) spdlog::error("{}", e.to_string());
      return nullptr;
    }
    std::fputs(errors.to_string().c_str(), stderr);
    if (!quiet_ok) std::fprintf(stderr, "%zu error(s)\n", errors.errors().size());
    return nullptr;
  }
  return cfg;
}

sigset_t control_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

int cmd_run(const std::string& path) {
  auto cfg = load(path);
  if (!cfg) return 1;
  auto redactor = saker::setup_logging(cfg->log_level, cfg->log_format, cfg->redactions);
  saker::Metrics metrics(redactor);
  auto pipeline = std::make_unique<saker::Pipeline>(cfg, metrics, redactor);
  // POST /-/reload takes SIGHUP's path: the loop below reloads from the file.
  if (!path.empty()) pipeline->on_reload_request([] { ::kill(::getpid(), SIGHUP); });
  if (auto r = pipeline->start(); !r) {
    spdlog::critical("cannot start: {}", r.error().message);
    return 1;
  }
  spdlog::info("saker {} running with {} ({} sources, {} sinks)", SAKER_VERSION, cfg->file, cfg->sources.size(),
               cfg->sinks.size());
  const sigset_t set = control_signals();
  const timespec tick{0, 200 * 1000 * 1000};
  // The config file and what its components loaded: a change reloads as SIGHUP does.
  saker::FileWatch watch;
  const auto watch_files = [&watch, &path](const saker::PipelineConfig& c) {
    std::vector<std::string> files;
    if (c.watch_files && !path.empty()) {
      files = c.loaded_files;
      files.push_back(path);
    }
    watch.watch(files);
  };
  watch_files(*cfg);
  std::vector<std::string> changed;
  for (;;) {
    int sig = sigtimedwait(&set, nullptr, &tick);
    if (sig < 0 && watch.poll(std::chrono::milliseconds(300), changed)) {
      spdlog::info("watch_files: {} changed", fmt::join(changed, ", "));
      sig = SIGHUP;
    }
    if (sig == SIGTERM || sig == SIGINT) {
      spdlog::info("signal {}: stopping sources and draining sinks (grace {} ms)", sig, cfg->shutdown_grace.count());
      pipeline->stop();
      spdlog::info("stopped");
      return 0;
    }
    if (sig == SIGHUP) {
      if (path.empty()) {
        spdlog::warn("SIGHUP: running on the embedded default, nothing to reload");
        continue;
      }
      auto next = load(path);
      if (!next) {
        spdlog::error("SIGHUP: the new config of {} has errors (above); keeping the running config", path);
        continue;
      }
      watch_files(*next);
      redactor->add(next->redactions);
      // Log settings are the process's, not a component's: applied here, before the reload logs what it does.
      if (next->log_level != cfg->log_level || next->log_format != cfg->log_format) {
        saker::reconfigure_logging(next->log_level, next->log_format, redactor);
        spdlog::info("SIGHUP: log_level {}, log_format {}", next->log_level, next->log_format);
      }
      spdlog::info("SIGHUP: reloading {}", path);
      // Component by component: what did not change keeps running, listeners stay open.
      if (auto r = pipeline->reload(next); !r) {
        spdlog::error("SIGHUP: parts of the new config could not start: {}", r.error().message);
      }
      cfg = next;
      spdlog::info("reloaded");
      continue;
    }
    if (pipeline->sources_finished()) {
      spdlog::info("all inputs exhausted: draining sinks");
      pipeline->stop();
      return 0;
    }
  }
}

int cmd_check(const std::string& path) {
  auto cfg = load(path, false);
  if (!cfg) return 1;
  std::printf("%s: OK (%zu sources, %zu sinks)\n", cfg->file.c_str(), cfg->sources.size(), cfg->sinks.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Control signals are taken synchronously by the main thread; every thread started later inherits the mask.
  const sigset_t set = control_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGXFSZ, SIG_IGN);  // a file-size limit makes write() fail with EFBIG (handled) instead of killing us

  CLI::App app{"saker: receives Falco alerts, filters and routes them, delivers them to the SOC's tools"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("saker ") + SAKER_VERSION, "Print the version (as `saker version`)");
  std::string config_path;

  auto* run = app.add_subcommand("run", "Run the daemon (no -c: the embedded default, HTTP on 127.0.0.1:2801 to stdout)");
  run->add_option("-c,--config", config_path, "YAML config file")->check(CLI::ExistingFile);

  auto* check = app.add_subcommand("check", "Validate a config: every error with file:line:column; exit 1 on errors");
  check->add_option("-c,--config", config_path, "YAML config file")->required()->check(CLI::ExistingFile);

  std::vector<std::string> replay_files;
  auto* replay = app.add_subcommand("replay", "Push recorded alerts (NDJSON files, '-' for stdin) through the pipeline");
  replay->add_option("-c,--config", config_path, "YAML config file (its sources are ignored)")
      ->required()
      ->check(CLI::ExistingFile);
  replay->add_option("files", replay_files, "NDJSON files of Falco alerts")->required();

  std::string dlq_sink;
  auto* dlq = app.add_subcommand("dlq", "Dead letters: alerts a sink rejected for good");
  auto* dlq_replay = dlq->add_subcommand("replay", "Re-send a sink's dead letters through that sink");
  dlq->require_subcommand(1);
  dlq_replay->add_option("-c,--config", config_path, "YAML config file")->required()->check(CLI::ExistingFile);
  dlq_replay->add_option("sink", dlq_sink, "the sink's name")->required();

  auto* version = app.add_subcommand("version", "Print the version");

  CLI11_PARSE(app, argc, argv);

  if (*run) return cmd_run(config_path);
  if (*check) return cmd_check(config_path);
  if (*replay) {
    auto cfg = load(config_path, true, saker::ConfigUse::replay);
    if (!cfg) return 1;
    saker::setup_logging(cfg->log_level == "info" ? "warn" : cfg->log_level, cfg->log_format, cfg->redactions);
    return saker::run_replay(cfg, replay_files, isatty(STDERR_FILENO) != 0);
  }
  if (*dlq_replay) {
    auto cfg = load(config_path, true, saker::ConfigUse::replay);
    if (!cfg) return 1;
    saker::setup_logging(cfg->log_level == "info" ? "warn" : cfg->log_level, cfg->log_format, cfg->redactions);
    return saker::run_dlq_replay(cfg, dlq_sink);
  }
  if (*version) {
    std::printf("saker %s\n", SAKER_VERSION);
    return 0;
  }
  return 0;
}
