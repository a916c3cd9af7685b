#include "sources/stdin.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sources/line_splitter.hpp"

namespace saker {

namespace {

constexpr int kFlushRetryMs = 10;                     // sinks full: how soon to try again
constexpr auto kStopGrace = std::chrono::seconds(5);  // at stop: how long the sinks get for the rest

}  // namespace

struct NdjsonFdReader::Impl {
  Impl(int fd, std::string source, AlertIntake& intake, std::size_t max_line)
      : fd(fd), intake(intake), lines(std::move(source), intake, nullptr, max_line), split(max_line) {
    // A self-pipe lets request_stop() wake a poll() that waits on the input.
    if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) wake[0] = wake[1] = -1;
  }
  ~Impl() {
    for (int w : wake) {
      if (w >= 0) ::close(w);
    }
  }

  // Sleeps up to `ms` unless woken; true when a stop was requested.
  bool wait_stop(int ms) {
    if (stop.load()) return true;
    pollfd p{wake[0], POLLIN, 0};
    if (wake[0] >= 0) {
      ::poll(&p, 1, ms);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    }
    return stop.load();
  }

  bool flush_wait() {
    while (!intake.flush()) {
      if (wait_stop(kFlushRetryMs)) return false;
    }
    return true;
  }

  int fd;
  AlertIntake& intake;
  LineDecoder lines;
  LineSplitter split;
  int wake[2] = {-1, -1};
  std::atomic<bool> stop{false};
};

NdjsonFdReader::NdjsonFdReader(int fd, std::string source, AlertIntake& intake, std::size_t max_line)
    : impl_(std::make_unique<Impl>(fd, std::move(source), intake, max_line)) {}

NdjsonFdReader::~NdjsonFdReader() = default;

void NdjsonFdReader::request_stop() noexcept {
  impl_->stop.store(true);
  if (impl_->wake[1] >= 0) {
    const char c = 'x';
    [[maybe_unused]] const auto n = ::write(impl_->wake[1], &c, 1);
  }
}

Result<bool> NdjsonFdReader::run() {
  Impl& m = *impl_;
  auto sync = [&] {
    lines_.store(m.lines.lines(), std::memory_order_relaxed);
    bad_.store(m.lines.bad_lines(), std::memory_order_relaxed);
  };
  while (!m.stop.load()) {
    pollfd p[2] = {{m.fd, POLLIN, 0}, {m.wake[0], POLLIN, 0}};
    if (::poll(p, m.wake[0] >= 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      return make_error("read_failed", fmt::format("poll: {}", std::strerror(errno)));
    }
    if (m.stop.load()) break;
    if (p[0].revents == 0) continue;
    const auto space = m.split.space();
    const ssize_t n = ::read(m.fd, space.data(), space.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      const int err = errno;
      // What was read before the failure still goes out, so the error loses only the unread rest.
      m.split.finish(m.lines.on_line(), m.lines.on_drop());
      sync();
      m.flush_wait();
      return make_error("read_failed", fmt::format("read: {}", std::strerror(err)));
    }
    if (n == 0) {
      m.split.finish(m.lines.on_line(), m.lines.on_drop());
      sync();
      return m.flush_wait();
    }
    bytes_.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
    m.split.commit(static_cast<std::size_t>(n), m.lines.on_line(), m.lines.on_drop());
    sync();
    if (!m.flush_wait()) break;  // sinks full: nothing more is read until they take this chunk
  }
  return false;
}

struct StdinSource::Impl {
  Impl(SourceContext& ctx, StdinSourceOptions o, int fd)
      : name(ctx.name), fd(fd), intake(ctx.name, ctx.ingest, ctx.metrics, ctx.limits), reader(fd, name, intake, o.max_line) {}

  std::string name;
  int fd;
  AlertIntake intake;
  NdjsonFdReader reader;
  std::thread thread;
  std::atomic<bool> finished{false};
  bool started = false;
};

StdinSource::StdinSource(SourceContext& ctx, StdinSourceOptions options, int fd)
    : impl_(std::make_unique<Impl>(ctx, options, fd)) {}

StdinSource::~StdinSource() { stop(); }

Result<bool> StdinSource::start() {
  Impl& m = *impl_;
  if (m.started) return true;
  if (::fcntl(m.fd, F_GETFL) < 0) {
    return make_error("open_failed", fmt::format("source {}: standard input (fd {}) is not open: {}", m.name, m.fd,
                                                 std::strerror(errno)));
  }
  m.thread = std::thread([&m] {
    auto r = m.reader.run();
    if (!r) spdlog::error("source {}: reading standard input failed: {}", m.name, r.error().message);
    if (!r || r.value()) {
      spdlog::info("source {}: end of input after {} bytes, {} lines ({} refused)", m.name, m.reader.bytes_read(),
                   m.reader.lines(), m.reader.bad_lines());
      m.finished.store(true);
    }
  });
  m.started = true;
  return true;
}

void StdinSource::stop() {
  Impl& m = *impl_;
  if (!m.started) return;
  m.started = false;
  m.reader.request_stop();
  if (m.thread.joinable()) m.thread.join();
  if (m.intake.pending() > 0 && !flush_until(m.intake, std::chrono::steady_clock::now() + kStopGrace)) {
    spdlog::error("source {}: sinks stayed full at shutdown, dropping {} decoded alerts", m.name, m.intake.pending());
    m.intake.discard();
  }
}

bool StdinSource::finished() const { return impl_->finished.load(); }

std::uint64_t StdinSource::bytes_read() const noexcept { return impl_->reader.bytes_read(); }

SourceBuilder parse_stdin_source(const ConfigReader& r) {
  r.only({"max_line"}, kCommonSourceKeys);
  StdinSourceOptions o;
  const std::uint64_t max_line = r.size("max_line", o.max_line);
  if (max_line < 2 || max_line > (1ull << 30)) {
    r.errors.add(r.node["max_line"], r.key_name("max_line"), "must be between 2 bytes and 1GiB");
  } else {
    o.max_line = static_cast<std::size_t>(max_line);
  }
  return [o](SourceContext& ctx) -> std::unique_ptr<Source> { return std::make_unique<StdinSource>(ctx, o); };
}

}  // namespace saker
