// The stdin source and its reusable core, NdjsonFdReader: pipes to EOF, backpressure, stop, counting.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "fake_ingest.hpp"

#include "sources/stdin.hpp"

namespace saker {
namespace {

using test::eventually;
using test::FakeIngest;

std::string alert(int n) {
  return fmt::format(R"({{"rule":"Terminal shell in container","priority":"Notice","time":"2024-08-28T21:35:04.518808525Z","output":"{}","hostname":"h1","source":"syscall","output_fields":{{"proc.name":"sh"}}}})",
                     n);
}

std::vector<std::string> numbers(int from, int to) {
  std::vector<std::string> v;
  for (int i = from; i < to; ++i) v.push_back(std::to_string(i));
  return v;
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n <= 0) return;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

struct Pipe {
  Pipe() { EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0); }
  ~Pipe() {
    close_write();
    if (fds[0] >= 0) ::close(fds[0]);
  }
  void close_write() {
    if (fds[1] >= 0) ::close(fds[1]);
    fds[1] = -1;
  }
  int fds[2] = {-1, -1};
};

class StdinSourceTest : public ::testing::Test {
 protected:
  FakeIngest ingest_;
  Metrics metrics_;
  SourceContext ctx_{"stdin", ingest_, metrics_, {}, ""};
};

TEST_F(StdinSourceTest, ReadsAPipeToEofAndFinishes) {
  Pipe p;
  StdinSource source(ctx_, {}, p.fds[0]);
  ASSERT_TRUE(source.start().ok());
  std::string data;
  for (int i = 0; i < 3000; ++i) data += alert(i) + (i % 2 ? "\n" : "\r\n");
  data += "\n   \n" + alert(3000);  // blank lines, then a last line without a newline
  std::thread writer([&] {
    write_all(p.fds[1], data);
    p.close_write();
  });
  ASSERT_TRUE(eventually([&] { return source.finished(); }));
  writer.join();
  EXPECT_EQ(ingest_.outputs(), numbers(0, 3001));
  EXPECT_EQ(source.bytes_read(), data.size());
  source.stop();
}

TEST_F(StdinSourceTest, FinishesOnlyAfterSinksTookEverything) {
  Pipe p;
  ingest_.full = true;
  StdinSource source(ctx_, {}, p.fds[0]);
  ASSERT_TRUE(source.start().ok());
  std::string data;
  for (int i = 0; i < 500; ++i) data += alert(i) + "\n";
  std::thread writer([&] {
    write_all(p.fds[1], data);
    p.close_write();
  });
  ASSERT_TRUE(eventually([&] { return ingest_.calls() >= 3; }));
  EXPECT_FALSE(source.finished());
  EXPECT_EQ(ingest_.count(), 0u);
  ingest_.full = false;
  ASSERT_TRUE(eventually([&] { return source.finished(); }));
  writer.join();
  EXPECT_EQ(ingest_.outputs(), numbers(0, 500));
  source.stop();
}

TEST_F(StdinSourceTest, StopInterruptsABlockedRead) {
  Pipe p;
  StdinSource source(ctx_, {}, p.fds[0]);
  ASSERT_TRUE(source.start().ok());
  write_all(p.fds[1], alert(1) + "\n");
  ASSERT_TRUE(eventually([&] { return ingest_.count() == 1; }));
  const auto t0 = std::chrono::steady_clock::now();
  source.stop();  // the writer end is still open: the reader sits in poll()
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  EXPECT_FALSE(source.finished());
}

TEST_F(StdinSourceTest, StartFailsOnAClosedDescriptor) {
  constexpr int kNotOpen = 4000;  // far above what this process opens (the source's own pipe reuses low numbers)
  ASSERT_LT(::fcntl(kNotOpen, F_GETFL), 0);
  StdinSource source(ctx_, {}, kNotOpen);
  auto r = source.start();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "open_failed");
}

TEST_F(StdinSourceTest, FdReaderReadsAFileOnceAndCountsBadLines) {
  std::string path = (std::filesystem::temp_directory_path() / "saker-stdin-XXXXXX").string();
  const int fd = ::mkstemp(path.data());
  ASSERT_GE(fd, 0);
  const std::string data = alert(0) + "\nnot json\n" + alert(1) + std::string(300, ' ') + "x\n" + alert(2) + "\n";
  write_all(fd, data);
  ASSERT_EQ(::lseek(fd, 0, SEEK_SET), 0);
  AlertIntake intake("replay", ingest_, metrics_, {});
  NdjsonFdReader reader(fd, "replay", intake, 250);
  auto r = reader.run();
  ::close(fd);
  ::unlink(path.c_str());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r.value());
  EXPECT_EQ(reader.bytes_read(), data.size());
  EXPECT_EQ(reader.lines(), 4u);
  EXPECT_EQ(reader.bad_lines(), 2u);
  EXPECT_EQ(ingest_.outputs(), (std::vector<std::string>{"0", "2"}));
  EXPECT_EQ(metrics_.counter_value("saker_alerts_refused_total", {{"source", "replay"}, {"reason", "too_large"}}), 1u);
  EXPECT_EQ(metrics_.counter_value("saker_alerts_refused_total", {{"source", "replay"}, {"reason", "invalid_json"}}),
            1u);
}

TEST(StdinSourceConfig, DefaultsAndErrors) {
  const YAML::Node ok = YAML::Load("{type: stdin, name: falco, max_line: 64KiB}");
  ConfigErrors errors;
  EXPECT_TRUE(static_cast<bool>(parse_stdin_source(ConfigReader{ok, "sources[0]", errors})));
  EXPECT_TRUE(errors.empty()) << errors.to_string();
  const YAML::Node bad = YAML::Load("{type: stdin, path: /dev/stdin}");
  parse_stdin_source(ConfigReader{bad, "sources[0]", errors});
  EXPECT_EQ(errors.errors().size(), 1u) << errors.to_string();
}

}  // namespace
}  // namespace saker
