#include "pipeline/replay.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "pipeline/pipeline.hpp"
#include "sources/source.hpp"

namespace saker {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Progress {
  bool enabled = false;
  std::uint64_t total_bytes = 0;
  std::uint64_t done_bytes = 0;
  std::uint64_t alerts = 0;
  SteadyClock::time_point start = SteadyClock::now();
  SteadyClock::time_point last_draw{};

  void draw(bool final_line = false) {
    if (!enabled) return;
    const auto now = SteadyClock::now();
    if (!final_line && now - last_draw < std::chrono::milliseconds(200)) return;
    last_draw = now;
    const double secs = std::chrono::duration<double>(now - start).count();
    const double rate = secs > 0 ? static_cast<double>(alerts) / secs : 0;
    const double pct = total_bytes ? 100.0 * static_cast<double>(done_bytes) / static_cast<double>(total_bytes) : 100.0;
    const double bps = secs > 0 ? static_cast<double>(done_bytes) / secs : 0;
    const double eta = bps > 0 ? static_cast<double>(total_bytes - std::min(done_bytes, total_bytes)) / bps : 0;
    std::fprintf(stderr, "\r%5.1f%%  %llu alerts  %.0f alerts/s  ETA %.0fs   %s", pct,
                 static_cast<unsigned long long>(alerts), rate, eta, final_line ? "\n" : "");
    std::fflush(stderr);
  }
};

// Submits the intake's batch, waiting while the sinks push back.
void flush_blocking(AlertIntake& intake) {
  while (!intake.flush()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

}  // namespace

int run_replay(std::shared_ptr<const PipelineConfig> config, const std::vector<std::string>& files, bool progress_on) {
  Metrics metrics;
  Pipeline pipeline(config, metrics);
  // "Now" is the latest event time read so far: an alert without a time gets it as its arrival, so a replay of
  // the same files stamps the same times every run.
  EventClock clock;
  pipeline.set_clock(&clock);
  if (auto r = pipeline.start(/*with_sources=*/false); !r) {
    std::fprintf(stderr, "replay: cannot start: %s\n", r.error().message.c_str());
    return 1;
  }
  AlertIntake intake("replay", pipeline, metrics, config->limits);
  intake.set_persisted_input();  // a recorded file may be saker's own (dead letters, a json sink)
  Progress progress;
  progress.enabled = progress_on;
  for (const auto& f : files) {
    struct stat st {};
    if (f != "-" && ::stat(f.c_str(), &st) == 0) progress.total_bytes += static_cast<std::uint64_t>(st.st_size);
  }

  std::uint64_t read = 0;
  std::map<std::string, std::uint64_t> refused;
  int exit_code = 0;
  const std::size_t max_line = config->limits.max_alert_bytes;
  std::string buf;
  std::vector<char> chunk(1 << 20);
  for (const auto& f : files) {
    const int fd = f == "-" ? STDIN_FILENO : ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      std::fprintf(stderr, "replay: cannot open %s: %s\n", f.c_str(), std::strerror(errno));
      exit_code = 1;
      continue;
    }
    bool skipping = false;  // inside a line over the size limit: discard up to its newline
    auto take_line = [&](std::string_view line) {
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;
      ++read;
      if (auto r = intake.add(line); !r) {
        ++refused[r.error().code];
      } else if (const Alert* a = intake.last(); a && !a->time_was_absent) {
        clock.advance(a->time_ns);
      }
      if (intake.pending() >= 512) flush_blocking(intake);
    };
    for (;;) {
      const ssize_t n = ::read(fd, chunk.data(), chunk.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      progress.done_bytes += static_cast<std::uint64_t>(n);
      std::string_view data(chunk.data(), static_cast<std::size_t>(n));
      while (!data.empty()) {
        const auto nl = data.find('\n');
        const std::string_view part = data.substr(0, nl);
        if (skipping) {
          if (nl != std::string_view::npos) skipping = false;
        } else if (buf.size() + part.size() > max_line) {
          ++read;
          ++refused["too_large"];
          intake.refuse("too_large");
          buf.clear();
          skipping = nl == std::string_view::npos;
        } else if (nl == std::string_view::npos) {
          buf.append(part);
        } else if (buf.empty()) {
          take_line(part);
        } else {
          buf.append(part);
          take_line(buf);
          buf.clear();
        }
        data.remove_prefix(nl == std::string_view::npos ? data.size() : nl + 1);
      }
      progress.alerts = read;
      progress.draw();
    }
    if (!buf.empty()) {
      take_line(buf);
      buf.clear();
    }
    if (fd != STDIN_FILENO) ::close(fd);
  }
  flush_blocking(intake);
  progress.alerts = read;
  progress.draw(true);
  pipeline.stop();

  std::uint64_t refused_total = 0;
  for (const auto& [code, n] : refused) refused_total += n;
  std::printf("replay: %llu alerts read, %llu accepted, %llu refused\n", static_cast<unsigned long long>(read),
              static_cast<unsigned long long>(read - refused_total), static_cast<unsigned long long>(refused_total));
  for (const auto& [code, n] : refused) std::printf("  refused %-18s %llu\n", code.c_str(), static_cast<unsigned long long>(n));
  for (const auto& spec : config->sinks) {
    std::printf("  sink %-20s %llu delivered, %llu dropped\n", spec.name.c_str(),
                static_cast<unsigned long long>(metrics.counter_value("saker_sink_sent_total", {{"sink", spec.name}})),
                static_cast<unsigned long long>(metrics.counter_value("saker_sink_dropped_total", {{"sink", spec.name}})));
  }
  return exit_code;
}

}  // namespace saker
