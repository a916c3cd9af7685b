// Given sinks with routes, an alert lands in every sink whose route matches and nowhere else.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "pipeline/config.hpp"
#include "pipeline/pipeline.hpp"
#include "test_util.hpp"

using namespace saker;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / ("saker-test-" + std::to_string(::getpid()) + "-" +
                                                     std::to_string(counter()++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

std::vector<std::string> lines_of(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::shared_ptr<const PipelineConfig> config(const std::string& yaml) {
  ConfigErrors errors("test.yaml");
  auto cfg = parse_config(yaml, errors);
  if (!cfg) throw std::runtime_error(errors.to_string());
  return cfg;
}

}  // namespace

TEST(Pipeline, RoutesByMinPriorityIntoFiles) {
  TempDir dir;
  auto cfg = config(fmt::format(R"(sources: []
sinks:
  - {{name: all, type: file, path: {0}/all.ndjson}}
  - {{name: siem, type: file, path: {0}/siem.ndjson, min_priority: warning}}
)", dir.path.string()));
  Metrics metrics;
  Pipeline p(cfg, metrics);
  ASSERT_TRUE(p.start(false));
  std::vector<AlertPtr> batch{
      test::decode_ok(R"({"rule":"a","priority":"Notice","uuid":"u1"})"),
      test::decode_ok(R"({"rule":"b","priority":"Warning","uuid":"u2"})"),
      test::decode_ok(R"({"rule":"c","priority":"Critical","uuid":"u3"})"),
  };
  ASSERT_TRUE(p.submit(batch));
  EXPECT_TRUE(batch.empty());
  p.stop();
  auto all = lines_of(dir.path / "all.ndjson");
  auto siem = lines_of(dir.path / "siem.ndjson");
  ASSERT_EQ(all.size(), 3u);
  ASSERT_EQ(siem.size(), 2u);
  EXPECT_EQ(siem[0], R"({"rule":"b","priority":"Warning","uuid":"u2"})");
  EXPECT_EQ(siem[1], R"({"rule":"c","priority":"Critical","uuid":"u3"})");
  EXPECT_EQ(metrics.counter_value("saker_sink_sent_total", {{"sink", "siem"}}), 2u);
  EXPECT_EQ(metrics.counter_value("saker_sink_sent_total", {{"sink", "all"}}), 3u);
}

TEST(Pipeline, FullQueuePushesBackWithoutTakingAnything) {
  // A sink whose every write fails (/dev/full: ENOSPC, even for root) keeps failing, so its queue fills and stays
  // full.
  auto cfg = config(R"(sources: []
shutdown_grace: 100ms
sinks:
  - {name: slow, type: file, path: /dev/full, buffer: {max_alerts: 2}, retry: {initial: 50ms}}
)");
  Metrics metrics;
  Pipeline p(cfg, metrics);
  ASSERT_TRUE(p.start(false));
  int accepted = 0, refused = 0;
  for (int i = 0; i < 50; ++i) {
    std::vector<AlertPtr> batch{test::decode_ok(R"({"rule":"a","priority":"Error"})"),
                                test::decode_ok(R"({"rule":"b","priority":"Error"})")};
    if (p.submit(batch)) {
      ++accepted;
    } else {
      ++refused;
      EXPECT_EQ(batch.size(), 2u);  // nothing taken
    }
  }
  EXPECT_GT(accepted, 0);
  EXPECT_GT(refused, 0);
  EXPECT_GT(metrics.counter_value("saker_backpressure_total"), 0u);
  p.stop();
}

TEST(Pipeline, HealthReportsEachSink) {
  TempDir dir;
  auto cfg = config(fmt::format("sources: []\nsinks:\n  - {{name: f, type: file, path: {}/x.ndjson}}\n", dir.path.string()));
  Metrics metrics;
  Pipeline p(cfg, metrics);
  ASSERT_TRUE(p.start(false));
  bool healthy = false;
  EXPECT_EQ(p.health(healthy), R"({"status":"ok","degraded":false,"sinks":{"f":{"healthy":true,"queued":0}}})");
  EXPECT_TRUE(healthy);
  bool ready = false;
  EXPECT_EQ(p.readiness(ready), R"({"ready":true,"sinks":{"f":{"accepting":true,"healthy":true,"queued":0}}})");
  EXPECT_TRUE(ready);
}

TEST(FileSink, RotatesBySize) {
  TempDir dir;
  auto cfg = config(fmt::format(R"(sources: []
sinks:
  - {{name: f, type: file, path: {0}/a.ndjson, max_size: 100, max_files: 2, batch_size: 1}}
)", dir.path.string()));
  Metrics metrics;
  Pipeline p(cfg, metrics);
  ASSERT_TRUE(p.start(false));
  for (int i = 0; i < 10; ++i) {
    std::vector<AlertPtr> batch{test::decode_ok(fmt::format(R"({{"rule":"r{}","priority":"Error","uuid":"u-{}"}})", i, i))};
    ASSERT_TRUE(p.submit(batch));
    ASSERT_TRUE(p.wait_idle(std::chrono::seconds(5)));
  }
  p.stop();
  EXPECT_TRUE(std::filesystem::exists(dir.path / "a.ndjson"));
  EXPECT_TRUE(std::filesystem::exists(dir.path / "a.ndjson.1"));
  EXPECT_TRUE(std::filesystem::exists(dir.path / "a.ndjson.2"));
  EXPECT_FALSE(std::filesystem::exists(dir.path / "a.ndjson.3"));
  EXPECT_LE(std::filesystem::file_size(dir.path / "a.ndjson.1"), 100u + 60u);
  EXPECT_GT(metrics.counter_value("saker_file_rotations_total", {{"sink", "f"}}), 0u);
}

// Every top-level key is either part of the text of each component built with it, so a reload that changes it
// restarts them (limits, data_dir), or applied where it is used, so a reload restarts nothing for it
// (shutdown_grace, log settings). A key added to kTopLevelKeys fails here until it is sorted into one or the other.
TEST(PipelineReload, EveryTopLevelSettingDecidesWhetherTheComponentsReadingItChanged) {
  TempDir dir;
  const std::string base = fmt::format(R"(data_dir: {}/a
log_level: info
log_format: text
shutdown_grace: 10s
limits: {{max_alert_bytes: 2000, max_depth: 16, max_fields: 1024}}
enrich: {{fields: {{static: {{env: prod}}}}}}
sources:
  - {{type: http, listen: "127.0.0.1:2801"}}
  - {{type: tcp, listen: "127.0.0.1:2802"}}
sinks:
  - {{name: out, type: stdout}}
)",
                                       dir.path.string());
  struct Change {
    std::string from, to;
    bool sources, sinks, stages;  // which components read the setting
  };
  const std::map<std::string, std::vector<Change>> changes{
      {"data_dir", {{"/a\n", "/b\n", true, true, true}}},
      {"limits",
       {{"max_alert_bytes: 2000", "max_alert_bytes: 8000", true, true, false},
        {"max_depth: 16", "max_depth: 8", true, true, false},
        {"max_fields: 1024", "max_fields: 10", true, true, false}}},
      {"shutdown_grace", {{"shutdown_grace: 10s", "shutdown_grace: 3s", false, false, false}}},
      {"log_level", {{"log_level: info", "log_level: debug", false, false, false}}},
      {"log_format", {{"log_format: text", "log_format: json", false, false, false}}},
      {"watch_files", {{"shutdown_grace: 10s", "shutdown_grace: 10s\nwatch_files: false", false, false, false}}},
  };
  const std::set<std::string> components{"sources", "sinks", "enrich"};  // compared by their own text
  for (std::string_view key : kTopLevelKeys) {
    EXPECT_TRUE(changes.count(std::string(key)) || components.count(std::string(key)))
        << "top-level key " << key << ": say whether a reload restarts the components reading it";
  }

  const auto before = config(base);
  const auto same = config(base);
  ASSERT_EQ(before->sources.size(), 2u);
  ASSERT_EQ(before->stages.size(), 1u);
  for (std::size_t i = 0; i < before->sources.size(); ++i) EXPECT_EQ(before->sources[i].text, same->sources[i].text);
  EXPECT_EQ(before->sinks[0].text, same->sinks[0].text);
  EXPECT_EQ(before->stages[0].text, same->stages[0].text);

  for (const auto& [key, list] : changes) {
    for (const Change& c : list) {
      std::string text = base;
      const auto at = text.find(c.from);
      ASSERT_NE(at, std::string::npos) << c.from;
      text.replace(at, c.from.size(), c.to);
      const auto after = config(text);
      for (std::size_t i = 0; i < before->sources.size(); ++i) {
        EXPECT_EQ(before->sources[i].text != after->sources[i].text, c.sources) << key << ": " << c.to;
      }
      EXPECT_EQ(before->sinks[0].text != after->sinks[0].text, c.sinks) << key << ": " << c.to;
      EXPECT_EQ(before->stages[0].text != after->stages[0].text, c.stages) << key << ": " << c.to;
    }
  }
}
