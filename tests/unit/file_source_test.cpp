// The file source: tailing, partial lines, checkpoint resume, rotation by rename and truncation, start_at.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "fake_ingest.hpp"

#include "sources/file.hpp"

namespace saker {
namespace {

namespace fs = std::filesystem;

using test::eventually;
using test::FakeIngest;

std::string alert(int n) {
  return fmt::format(R"({{"rule":"Terminal shell in container","priority":"Notice","time":"2024-08-28T21:35:04.518808525Z","output":"{}","hostname":"h1","source":"syscall","output_fields":{{"proc.name":"sh"}}}})",
                     n) + "\n";
}

std::string alerts(int from, int to) {
  std::string s;
  for (int i = from; i < to; ++i) s += alert(i);
  return s;
}

std::vector<std::string> numbers(int from, int to) {
  std::vector<std::string> v;
  for (int i = from; i < to; ++i) v.push_back(std::to_string(i));
  return v;
}

void append(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::app);
  out << text;
}

class FileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("saker-file-{}-{}", ::getpid(), ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    log_ = dir_ / "falco.jsonl";
    ctx_.data_dir = (dir_ / "data").string();
  }
  void TearDown() override {
    if (source_) source_->stop();
    source_.reset();
    fs::remove_all(dir_);
  }
  FileSourceOptions options() {
    FileSourceOptions o;
    o.path = log_.string();
    o.poll_interval = std::chrono::milliseconds(10);
    return o;
  }
  void start(FileSourceOptions o) {
    if (source_) source_->stop();
    source_ = std::make_unique<FileSource>(ctx_, o);
    auto r = source_->start();
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  fs::path dir_, log_;
  FakeIngest ingest_;
  Metrics metrics_;
  SourceContext ctx_{"falco-log", ingest_, metrics_, {}, ""};
  std::unique_ptr<FileSource> source_;
};

TEST_F(FileSourceTest, ReadsFromTheBeginningAndHoldsAPartialLastLine) {
  const std::string last = alert(3);
  append(log_, alerts(0, 3) + last.substr(0, 50));
  start(options());
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 3; }));
  EXPECT_EQ(source_->committed_offset(), alerts(0, 3).size()) << "the partial line is not consumed";
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(ingest_.count(), 3u);
  append(log_, last.substr(50) + "\r\n" + alert(4));  // its newline arrives (with a \r) and the next line
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 5; }));
  EXPECT_EQ(ingest_.outputs(), numbers(0, 5));
}

TEST_F(FileSourceTest, ResumesFromItsCheckpointWithoutLossOrRepeats) {
  append(log_, alerts(0, 5));
  start(options());
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 5; }));
  source_->stop();
  ASSERT_TRUE(fs::exists(source_->checkpoint_path()));
  EXPECT_EQ(source_->checkpoint_path(), (dir_ / "data" / "checkpoints" / "falco-log.json").string());
  append(log_, alerts(5, 12));  // written while saker is down
  start(options());
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 12; }));
  append(log_, alerts(12, 15));
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 15; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(ingest_.outputs(), numbers(0, 15));
  // A third start with nothing new submits nothing.
  start(options());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(ingest_.count(), 15u);
}

TEST_F(FileSourceTest, CheckpointIsWrittenWhileRunning) {
  append(log_, alerts(0, 4));
  start(options());
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 4; }));
  const std::string want = fmt::format("\"offset\":{}", alerts(0, 4).size());
  ASSERT_TRUE(eventually([&] {
    std::ifstream in(source_->checkpoint_path());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.find(want) != std::string::npos;
  })) << "checkpoint should reach " << want << " within ~200ms";
}

TEST_F(FileSourceTest, FollowsRenameRotation) {
  append(log_, alerts(0, 3));
  start(options());
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 3; }));
  const fs::path old = dir_ / "falco.jsonl.1";
  fs::rename(log_, old);
  append(old, alerts(3, 5));  // the writer still appends to the old file before it reopens
  append(log_, alerts(5, 8));
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 8; })) << ingest_.count();
  append(log_, alerts(8, 10));
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 10; }));
  EXPECT_EQ(ingest_.outputs(), numbers(0, 10));
  // The checkpoint now names the new file: a restart repeats nothing.
  start(options());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(ingest_.count(), 10u);
}

TEST_F(FileSourceTest, FollowsTruncation) {
  append(log_, alerts(100, 105));
  start(options());
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 5; }));
  fs::resize_file(log_, 0);
  append(log_, alerts(0, 2));
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 7; })) << ingest_.count();
  const auto outs = ingest_.outputs();
  EXPECT_EQ(std::vector<std::string>(outs.begin() + 5, outs.end()), numbers(0, 2));
}

TEST_F(FileSourceTest, StartAtEndSkipsExistingLinesIncludingAHalfWrittenOne) {
  const std::string half = alert(99);
  append(log_, alerts(0, 3) + half.substr(0, 30));
  auto o = options();
  o.start_at_end = true;
  start(o);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  append(log_, half.substr(30) + alerts(3, 5));
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 2; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(ingest_.outputs(), numbers(3, 5));
  EXPECT_EQ(metrics_.counter_value("saker_alerts_refused_total", {{"source", "falco-log"}, {"reason", "invalid_json"}}),
            0u);
}

TEST_F(FileSourceTest, WaitsForAMissingFile) {
  start(options());
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  append(log_, alerts(0, 2));
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 2; }));
  EXPECT_EQ(ingest_.outputs(), numbers(0, 2));
}

TEST_F(FileSourceTest, BackpressureHoldsTheOffsetAndLosesNothing) {
  append(log_, alerts(0, 2000));
  ingest_.full = true;
  start(options());
  ASSERT_TRUE(eventually([&] { return ingest_.calls() >= 3; }));
  EXPECT_EQ(ingest_.count(), 0u);
  EXPECT_EQ(source_->committed_offset(), 0u);
  ingest_.full = false;
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 2000; }));
  EXPECT_EQ(ingest_.outputs(), numbers(0, 2000));
  ASSERT_TRUE(eventually([&] { return source_->committed_offset() == fs::file_size(log_); }));
}

TEST_F(FileSourceTest, BadAndOverlongLinesAreCounted) {
  append(log_, alert(0) + "{oops\n" + alert(1).substr(0, 20) + std::string(600, 'x') + "\n" + alert(2));
  auto o = options();
  o.max_line = 400;
  start(o);
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 2; }));
  EXPECT_EQ(ingest_.outputs(), (std::vector<std::string>{"0", "2"}));
  EXPECT_EQ(metrics_.counter_value("saker_alerts_refused_total", {{"source", "falco-log"}, {"reason", "too_large"}}), 1u);
  EXPECT_EQ(metrics_.counter_value("saker_alerts_refused_total", {{"source", "falco-log"}, {"reason", "invalid_json"}}),
            1u);
}

TEST_F(FileSourceTest, StartFailsOnADirectory) {
  auto o = options();
  o.path = dir_.string();
  FileSource s(ctx_, o);
  auto r = s.start();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("cannot read"), std::string::npos) << r.error().message;
}

TEST(FileSourceConfig, DefaultsAndErrors) {
  {
    const YAML::Node n = YAML::Load("{type: file, path: /var/log/falco.jsonl}");
    ConfigErrors errors;
    parse_file_source(ConfigReader{n, "sources[1]", errors});
    EXPECT_TRUE(errors.empty()) << errors.to_string();
  }
  {
    const YAML::Node n = YAML::Load("{type: file, start_at: middle, poll_interval: 0ms, max_line: 0}");
    ConfigErrors errors;
    parse_file_source(ConfigReader{n, "sources[1]", errors});
    const std::string text = errors.to_string();
    EXPECT_EQ(errors.errors().size(), 4u) << text;
    EXPECT_NE(text.find("sources[1].path: is required"), std::string::npos) << text;
    EXPECT_NE(text.find("sources[1].start_at"), std::string::npos) << text;
    EXPECT_NE(text.find("sources[1].poll_interval"), std::string::npos) << text;
    EXPECT_NE(text.find("sources[1].max_line"), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace saker
