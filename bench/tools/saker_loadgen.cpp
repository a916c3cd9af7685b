// saker_loadgen: realistic Falco JSON alerts for benchmarks and examples.
//
//   saker_loadgen --count 300 --seed 7 --out examples/alerts.ndjson --stats   # NDJSON file ('-' = stdout)
//   saker_loadgen --in alerts.ndjson --tcp 127.0.0.1:5140 --wait-file out.ndjson --expect-lines 410000
//                                                                  # one TCP stream, then wait for the output
//   saker_loadgen --count 100000 --http http://127.0.0.1:2801/ --connections 8  # one alert per POST
//   saker_loadgen --free-port                                                  # prints a free loopback port
//
// Results go to stdout as key=value lines (stderr when the alerts themselves go to stdout).
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <simdjson.h>

#include "loadgen/generator.hpp"
#include "loadgen/net.hpp"

namespace lg = saker::loadgen;

namespace {

struct Options {
  std::uint64_t count = 1000;
  std::uint64_t seed = 1;
  std::string rules_path;
  bool hostile = false;
  double hostile_ratio = 0.02;
  std::string out, in, tcp, http;
  unsigned connections = 4;
  bool stats = false, free_port = false;
  std::string wait_file;
  std::uint64_t expect_lines = 0;
  bool wait_count = false;
  double timeout_s = 600, stall_s = 60;
};

struct Corpus {
  std::string text;  // NDJSON, every line ends with '\n'
  std::uint64_t alerts = 0, kept = 0, invalid = 0;  // invalid: lines that are not a JSON object with a priority
};

Corpus generate(const Options& o) {
  lg::GeneratorOptions g;
  g.seed = o.seed;
  g.hostile_per_mille = o.hostile ? static_cast<unsigned>(o.hostile_ratio * 1000.0 + 0.5) : 0;
  lg::AlertGenerator gen(lg::load_rules(o.rules_path), g);
  Corpus c;
  c.text.reserve(o.count * 1100);
  for (std::uint64_t i = 0; i < o.count; ++i) {
    if (lg::warning_or_above(gen.append(c.text))) ++c.kept;
    c.text += '\n';
  }
  c.alerts = o.count;
  return c;
}

// Reads an NDJSON file; counts alerts and those at Warning or above (only when `classify`).
Corpus read_corpus(const std::string& path, bool classify) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  Corpus c;
  in.seekg(0, std::ios::end);
  c.text.resize(static_cast<std::size_t>(in.tellg()));
  in.seekg(0);
  in.read(c.text.data(), static_cast<std::streamsize>(c.text.size()));
  if (!c.text.empty() && c.text.back() != '\n') c.text += '\n';
  simdjson::dom::parser parser;  // DOM: validates the whole line, not only the path to "priority"
  std::size_t start = 0;
  while (start < c.text.size()) {
    const std::size_t end = c.text.find('\n', start);
    std::string_view line(c.text.data() + start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    ++c.alerts;
    if (!classify) continue;
    std::string_view prio;
    if (parser.parse(line.data(), line.size())["priority"].get_string().get(prio) != simdjson::SUCCESS) {
      ++c.invalid;
      continue;
    }
    if (auto p = saker::parse_priority(prio); p && lg::warning_or_above(*p)) ++c.kept;
  }
  return c;
}

std::vector<std::string_view> lines_of(const std::string& text) {
  std::vector<std::string_view> v;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    if (end > start) v.emplace_back(text.data() + start, end - start);
    start = end + 1;
  }
  return v;
}

void write_out(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return;
  }
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw std::runtime_error("cannot write " + path);
  f.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!f) throw std::runtime_error("write to " + path + " failed (disk full?)");
}

int run(const Options& o) {
  if (o.free_port) {
    fmt::print("{}\n", lg::free_tcp_port());
    return 0;
  }
  std::FILE* report = o.out == "-" ? stderr : stdout;
  const Corpus corpus = o.in.empty() ? generate(o) : read_corpus(o.in, o.stats);
  if (o.stats) {
    fmt::print(report, "alerts={}\nwarning_or_above={}\nbytes={}\navg_bytes={:.0f}\n", corpus.alerts, corpus.kept,
               corpus.text.size(), corpus.alerts ? static_cast<double>(corpus.text.size()) / corpus.alerts : 0.0);
    if (!o.in.empty()) fmt::print(report, "invalid={}\n", corpus.invalid);
  }
  if (!o.out.empty()) write_out(o.out, corpus.text);

  // Waits for the receiver's output after a send that started at `first_byte`; non-zero when it fell short.
  auto wait_output = [&](lg::SteadyClock::time_point first_byte) {
    if (o.wait_file.empty()) return 0;
    const auto w = lg::wait_for_lines(o.wait_file, o.expect_lines, first_byte, o.timeout_s, o.stall_s, o.wait_count);
    fmt::print(report, "lines={}\nexpected_lines={}\nelapsed_seconds={:.3f}\nalerts_per_second={:.0f}\n", w.lines,
               o.expect_lines, w.seconds, w.seconds > 0 ? corpus.alerts / w.seconds : 0.0);
    if (w.reached) return 0;
    fmt::print(stderr, "saker_loadgen: {} holds {} lines, expected {} (gave up after {:.1f} s)\n", o.wait_file, w.lines,
               o.expect_lines, w.seconds);
    return 2;
  };

  if (!o.tcp.empty()) {
    const auto r = lg::send_stream(lg::split_host_port(o.tcp), corpus.text);
    fmt::print(report, "sent_alerts={}\nsent_bytes={}\nsend_seconds={:.3f}\n", corpus.alerts, r.bytes, r.seconds);
    if (int rc = wait_output(r.first_byte); rc != 0) return rc;
  }

  if (!o.http.empty()) {
    const auto t0 = lg::SteadyClock::now();
    auto r = lg::post_all(lg::parse_http_url(o.http), lines_of(corpus.text), o.connections);
    std::sort(r.latencies_us.begin(), r.latencies_us.end());
    auto pct = [&](double p) {
      if (r.latencies_us.empty()) return 0.0;
      return r.latencies_us[std::min(r.latencies_us.size() - 1, static_cast<std::size_t>(p * r.latencies_us.size()))] / 1000.0;
    };
    fmt::print(report,
               "requests={}\nnon_2xx={}\nreconnects={}\nseconds={:.3f}\nrequests_per_second={:.0f}\np50_ms={:.3f}\n"
               "p99_ms={:.3f}\n",
               r.requests, r.non_2xx, r.reconnects, r.seconds, r.seconds > 0 ? r.requests / r.seconds : 0.0, pct(0.50),
               pct(0.99));
    if (r.non_2xx) return 2;
    if (int rc = wait_output(t0); rc != 0) return rc;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"saker_loadgen: realistic Falco JSON alerts for benchmarks (deterministic for a seed)"};
  app.add_option("-n,--count", o.count, "how many alerts to generate")->capture_default_str();
  app.add_option("--seed", o.seed, "PRNG seed: the same seed gives the same alerts")->capture_default_str();
  app.add_option("--rules", o.rules_path, "rules TSV (rule, priority, tags, file, output); default: the embedded Falco rules");
  app.add_flag("--hostile", o.hostile, "make a small share of alerts carry hostile text (quotes, \\, unicode, |, =, newlines)");
  app.add_option("--hostile-ratio", o.hostile_ratio, "share of hostile alerts with --hostile")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--out", o.out, "write the alerts as NDJSON to FILE ('-' = stdout)");
  app.add_option("--in", o.in, "send the alerts of this NDJSON file instead of generating")->check(CLI::ExistingFile);
  app.add_option("--tcp", o.tcp, "send every alert over one TCP connection to HOST:PORT, newline-delimited");
  app.add_option("--http", o.http, "POST one alert per request to this http:// URL (keep-alive)");
  app.add_option("--connections", o.connections, "concurrent HTTP connections")->capture_default_str();
  app.add_flag("--stats", o.stats, "print how many alerts there are and how many are Warning or above");
  app.add_option("--wait-file", o.wait_file, "after sending: wait until this file holds --expect-lines lines");
  app.add_option("--expect-lines", o.expect_lines, "lines to wait for in --wait-file");
  app.add_flag("--wait-count", o.wait_count, "--wait-file holds a decimal count of records, not the records");
  app.add_option("--timeout", o.timeout_s, "give up waiting after this many seconds")->capture_default_str();
  app.add_option("--stall", o.stall_s, "give up when no line arrived for this many seconds")->capture_default_str();
  app.add_flag("--free-port", o.free_port, "print a free TCP port on 127.0.0.1 and exit");
  CLI11_PARSE(app, argc, argv);
  if (!o.free_port && o.out.empty() && o.tcp.empty() && o.http.empty() && !o.stats) {
    std::cerr << "saker_loadgen: say what to do: --out FILE, --tcp HOST:PORT, --http URL or --stats (see --help)\n";
    return 64;
  }
  if (!o.wait_file.empty() && ((o.tcp.empty() && o.http.empty()) || o.expect_lines == 0)) {
    std::cerr << "saker_loadgen: --wait-file needs --tcp or --http, and --expect-lines N\n";
    return 64;
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::cerr << "saker_loadgen: " << e.what() << "\n";
    return 1;
  }
}
