#include "pipeline/dlq.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <simdjson.h>
#include <fmt/format.h>

#include "core/time.hpp"
#include "pipeline/pipeline.hpp"
#include "sources/source.hpp"

namespace saker {
namespace {

// A dead letter of raw bytes ({"reason":…,"raw":"<base64>"}) rather than an alert.
bool is_raw_record(simdjson::dom::parser& parser, const std::string& line) {
  simdjson::dom::element doc;
  return !parser.parse(line).get(doc) && doc.at_key("raw").error() == simdjson::SUCCESS;
}

}  // namespace

int run_dlq_replay(std::shared_ptr<const PipelineConfig> config, const std::string& sink) {
  namespace fs = std::filesystem;
  auto only = std::make_shared<PipelineConfig>();
  only->file = config->file;
  only->data_dir = config->data_dir;
  only->limits = config->limits;
  only->shutdown_grace = config->shutdown_grace;
  for (const auto& s : config->sinks) {
    if (s.name == sink) {
      only->sinks.push_back(s);
      only->sinks.back().route = Route{};  // they matched this sink's route when first sent
    }
  }
  if (only->sinks.empty()) {
    std::fprintf(stderr, "dlq: no sink named \"%s\" in %s\n", sink.c_str(), config->file.c_str());
    return 1;
  }
  const fs::path dlq = fs::path(config->data_dir) / "dead_letter" / (sink + ".ndjson");
  if (!fs::exists(dlq)) {
    std::printf("dlq: %s has no dead letters (%s does not exist)\n", sink.c_str(), dlq.string().c_str());
    return 0;
  }
  const fs::path replaying = dlq.string() + fmt::format(".replaying-{}", now_ns());
  std::error_code ec;
  fs::rename(dlq, replaying, ec);
  if (ec) {
    std::fprintf(stderr, "dlq: cannot move %s aside: %s\n", dlq.string().c_str(), ec.message().c_str());
    return 1;
  }

  Metrics metrics;
  Pipeline pipeline(only, metrics);
  if (auto r = pipeline.start(false); !r) {
    fs::rename(replaying, dlq, ec);
    std::fprintf(stderr, "dlq: cannot start sink %s: %s\n", sink.c_str(), r.error().message.c_str());
    return 1;
  }
  AlertIntake intake("dlq", pipeline, metrics, config->limits);
  intake.set_persisted_input();
  simdjson::dom::parser parser;
  std::ifstream in(replaying);
  std::uint64_t lines = 0, unreadable = 0, raw = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    ++lines;
    if (is_raw_record(parser, line)) {
      ++raw;  // the bytes of a damaged disk-buffer record: kept for a person, nothing to re-send
      continue;
    }
    simdjson::dom::element alert;
    // "alert" is the line's last key: its bytes are taken verbatim (the persisted form's envelope counts bytes).
    const auto key = line.find(",\"alert\":");
    const bool verbatim = key != std::string::npos && line.back() == '}';
    const std::string_view text = verbatim ? std::string_view(line).substr(key + 9, line.size() - key - 10) : std::string_view();
    if (parser.parse(line).at_key("alert").get(alert) || !intake.add(verbatim ? text : std::string_view(simdjson::minify(alert)))) {
      ++unreadable;
      continue;
    }
    if (intake.pending() >= 256) {
      while (!intake.flush()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  while (!intake.flush()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  pipeline.stop();
  const auto sent = metrics.counter_value("saker_sink_sent_total", {{"sink", sink}});
  const auto again = metrics.counter_value("saker_sink_dead_letters_total", {{"sink", sink}});
  std::printf("dlq: %llu dead letters read, %llu re-sent, %llu rejected again (in %s), %llu unreadable\n",
              static_cast<unsigned long long>(lines), static_cast<unsigned long long>(sent - std::min(sent, again)),
              static_cast<unsigned long long>(again), dlq.string().c_str(), static_cast<unsigned long long>(unreadable));
  if (raw > 0) {
    std::printf("dlq: %llu raw records from a damaged disk buffer (\"raw\", base64) cannot be re-sent\n",
                static_cast<unsigned long long>(raw));
  }
  if (unreadable == 0 && raw == 0) {
    fs::remove(replaying, ec);
  } else {
    std::printf("dlq: the lines not re-sent stay in %s\n", replaying.string().c_str());
  }
  return 0;
}

}  // namespace saker
