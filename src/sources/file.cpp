#include "sources/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "core/json_text.hpp"
#include "sources/line_splitter.hpp"

namespace saker {

namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr auto kFlushRetry = std::chrono::milliseconds(10);        // sinks full: how soon to try again
constexpr auto kCheckpointEvery = std::chrono::milliseconds(200);  // bounds fsync load while busy
constexpr auto kStopGrace = std::chrono::seconds(5);               // at stop: how long the sinks get for the rest

struct Identity {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  bool operator==(const Identity&) const = default;
};

struct Checkpoint {
  Identity id;
  std::uint64_t offset = 0;
  bool operator==(const Checkpoint&) const = default;
};

Identity identity_of(const struct stat& st) {
  return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

// Source names become file names: keep them to a safe alphabet.
std::string safe_file_name(std::string_view name) {
  std::string out;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    out.push_back(ok ? c : '_');
  }
  if (out.empty() || out.front() == '.') out.insert(out.begin(), '_');
  return out;
}

std::optional<Checkpoint> load_checkpoint(const std::string& path, std::string& problem) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.load(path).get(doc); err) {
    problem = simdjson::error_message(err);
    return std::nullopt;
  }
  Checkpoint cp;
  std::uint64_t dev = 0, ino = 0, offset = 0;
  if (doc["dev"].get(dev) || doc["ino"].get(ino) || doc["offset"].get(offset)) {
    problem = "missing or non-integer dev/ino/offset";
    return std::nullopt;
  }
  cp.id = {dev, ino};
  cp.offset = offset;
  return cp;
}

// write tmp + fsync + rename + fsync(dir): the checkpoint is either the old one or the new one, never torn.
Result<bool> write_checkpoint(const std::string& path, const std::string& file_path, const Checkpoint& cp) {
  std::string text = "{\"path\":";
  append_json_string(text, file_path);
  fmt::format_to(std::back_inserter(text), ",\"dev\":{},\"ino\":{},\"offset\":{}}}\n", cp.id.dev, cp.id.ino,
                 cp.offset);
  const std::string tmp = path + ".tmp";
  auto fail = [&](const char* what) {
    return make_error("checkpoint_failed", fmt::format("{} {}: {}", what, tmp, std::strerror(errno)));
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("cannot create");
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      auto e = fail("cannot write");
      ::close(fd);
      return e;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    auto e = fail("cannot fsync");
    ::close(fd);
    return e;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("cannot rename");
  const std::string dir = std::filesystem::path(path).parent_path().string();
  if (const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

}  // namespace

struct FileSource::Impl {
  Impl(SourceContext& ctx, FileSourceOptions o)
      : name(ctx.name),
        opt(std::move(o)),
        intake(ctx.name, ctx.ingest, ctx.metrics, ctx.limits),
        lines(ctx.name, intake, log_limit, opt.max_line),
        split(opt.max_line) {
    if (!ctx.data_dir.empty()) {
      cp_path = (std::filesystem::path(ctx.data_dir) / "checkpoints" / (safe_file_name(name) + ".json")).string();
    }
  }

  void run();
  bool wait(std::chrono::milliseconds d);  // true once stop() was called
  bool flush_blocking();
  int open_file(bool at_start);  // 0 or errno
  void close_file();
  void checkpoint(bool force);

  std::string name;
  FileSourceOptions opt;
  std::string cp_path;
  std::shared_ptr<RateLimiter> log_limit = std::make_shared<RateLimiter>();
  AlertIntake intake;
  LineDecoder lines;
  LineSplitter split;

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  bool started = false;
  std::thread thread;

  // Reader state (the reader thread's alone while it runs).
  int fd = -1;
  Identity id;
  bool have_id = false;
  std::uint64_t base = 0;            // file offset where split.consumed() counts from
  std::uint64_t read_pos = 0;        // file offset of the next read
  std::uint64_t pending_offset = 0;  // offset just past the lines now in the intake
  std::atomic<std::uint64_t> committed{0};
  std::optional<Checkpoint> resume;  // loaded at start, used by the first open of the same file
  std::optional<SteadyClock::time_point> rotated_since;
  bool warned_missing = false;
  std::optional<Checkpoint> written;
  SteadyClock::time_point last_write{};
};

bool FileSource::Impl::wait(std::chrono::milliseconds d) {
  std::unique_lock lk(mu);
  cv.wait_for(lk, d, [this] { return stopping; });
  return stopping;
}

bool FileSource::Impl::flush_blocking() {
  while (!intake.flush()) {
    if (wait(kFlushRetry)) return false;
  }
  return true;
}

int FileSource::Impl::open_file(bool at_start) {
  // O_NONBLOCK: opening a FIFO must not block until a writer appears (it is refused just below).
  const int f = ::open(opt.path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (f < 0) return errno;
  struct stat st {};
  if (::fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(f);
    return S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
  }
  const Identity nid = identity_of(st);
  const auto size = static_cast<std::uint64_t>(st.st_size);
  std::uint64_t start = 0;
  bool mid_line = false;
  if (resume && resume->id == nid) {
    if (resume->offset <= size) {
      start = resume->offset;
    } else {
      spdlog::info("source {}: {} is shorter than its checkpoint (truncated), reading from the start", name, opt.path);
    }
  } else if (resume) {
    spdlog::info("source {}: {} is a different file than the checkpoint names (rotated), reading from the start", name,
                 opt.path);
  } else if (at_start && opt.start_at_end && size > 0) {
    start = size;
    char last = '\n';
    if (::pread(f, &last, 1, static_cast<off_t>(size - 1)) == 1 && last != '\n') mid_line = true;
  }
  resume.reset();
  if (::lseek(f, static_cast<off_t>(start), SEEK_SET) < 0) {
    const int e = errno;
    ::close(f);
    return e;
  }
  fd = f;
  id = nid;
  have_id = true;
  base = read_pos = pending_offset = start;
  committed.store(start);
  split.reset();
  if (mid_line) split.skip_to_next_line();  // start_at end while a line is half written: skip its rest
  warned_missing = false;
  spdlog::info("source {}: reading {} from offset {}", name, opt.path, start);
  checkpoint(true);
  return 0;
}

void FileSource::Impl::close_file() {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

void FileSource::Impl::checkpoint(bool force) {
  if (cp_path.empty() || !have_id) return;
  const Checkpoint cp{id, committed.load()};
  if (written && *written == cp) return;
  const auto now = SteadyClock::now();
  if (!force && now - last_write < kCheckpointEvery) return;
  last_write = now;
  if (auto r = write_checkpoint(cp_path, opt.path, cp); !r) {
    std::uint64_t suppressed = 0;
    if (log_limit->allow(suppressed)) spdlog::error("source {}: checkpoint: {}", name, r.error().message);
    return;
  }
  written = cp;
}

void FileSource::Impl::run() {
  while (true) {
    {
      std::lock_guard lk(mu);
      if (stopping) break;
    }
    if (fd < 0) {
      if (const int err = open_file(false); err != 0) {
        if (err != ENOENT) {
          std::uint64_t suppressed = 0;
          if (log_limit->allow(suppressed)) spdlog::warn("source {}: cannot open {}: {}", name, opt.path, std::strerror(err));
        } else if (!warned_missing) {
          spdlog::info("source {}: waiting for {} to appear", name, opt.path);
          warned_missing = true;
        }
        if (wait(opt.poll_interval)) break;
        continue;
      }
    }
    const auto space = split.space();
    const ssize_t n = ::read(fd, space.data(), space.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      std::uint64_t suppressed = 0;
      if (log_limit->allow(suppressed)) spdlog::warn("source {}: reading {}: {}", name, opt.path, std::strerror(errno));
      if (wait(opt.poll_interval)) break;
      continue;
    }
    if (n > 0) {
      read_pos += static_cast<std::uint64_t>(n);
      split.commit(static_cast<std::size_t>(n), lines.on_line(), lines.on_drop());
      pending_offset = base + split.consumed();
      if (!flush_blocking()) break;  // sinks full: nothing more is read (nor the offset advanced) until they take it
      committed.store(pending_offset);
      checkpoint(false);
      continue;
    }
    // End of file: write a due checkpoint, then look for rotation or truncation.
    checkpoint(false);
    struct stat st {};
    if (::stat(opt.path.c_str(), &st) == 0) {
      if (identity_of(st) != id) {
        // Renamed away: the writer may still append to the old file until it reopens, so give it one poll.
        if (!rotated_since) {
          rotated_since = SteadyClock::now();
          spdlog::info("source {}: {} was rotated, finishing the old file", name, opt.path);
        } else if (SteadyClock::now() - *rotated_since >= opt.poll_interval) {
          split.finish(lines.on_line(), lines.on_drop());
          pending_offset = base + split.consumed();
          if (!flush_blocking()) break;
          committed.store(pending_offset);
          close_file();
          rotated_since.reset();
          continue;  // opens the new file from 0 at once
        }
      } else if (static_cast<std::uint64_t>(st.st_size) < read_pos) {
        spdlog::info("source {}: {} was truncated, reading from the start", name, opt.path);
        if (::lseek(fd, 0, SEEK_SET) == 0) {
          split.reset();
          base = read_pos = pending_offset = 0;
          committed.store(0);
          checkpoint(true);
          continue;
        }
      }
    }
    if (wait(opt.poll_interval)) break;
  }
}

FileSource::FileSource(SourceContext& ctx, FileSourceOptions options)
    : impl_(std::make_unique<Impl>(ctx, std::move(options))) {}

FileSource::~FileSource() { stop(); }

Result<bool> FileSource::start() {
  Impl& m = *impl_;
  if (m.started) return true;
  if (m.cp_path.empty()) {
    spdlog::warn("source {}: no data_dir, so no checkpoint: a restart reads {} per start_at again", m.name, m.opt.path);
  } else {
    std::error_code ec;
    const auto dir = std::filesystem::path(m.cp_path).parent_path();
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return make_error("checkpoint_failed", fmt::format("source {}: cannot create the checkpoint directory {}: {}",
                                                         m.name, dir.string(), ec.message()));
    }
    std::string problem;
    m.resume = load_checkpoint(m.cp_path, problem);
    if (!problem.empty()) {
      spdlog::warn("source {}: ignoring unreadable checkpoint {} ({}), reading {} per start_at", m.name, m.cp_path,
                   problem, m.opt.path);
    }
  }
  if (const int err = m.open_file(true); err != 0) {
    if (err != ENOENT) {
      return make_error("open_failed",
                        fmt::format("source {}: cannot read {}: {}", m.name, m.opt.path,
                                    err == EINVAL ? "not a regular file" : std::strerror(err)));
    }
    spdlog::info("source {}: waiting for {} to appear", m.name, m.opt.path);
    m.warned_missing = true;
  }
  {
    std::lock_guard lk(m.mu);
    m.stopping = false;
  }
  m.thread = std::thread([&m] { m.run(); });
  m.started = true;
  return true;
}

void FileSource::stop() {
  Impl& m = *impl_;
  if (!m.started) return;
  m.started = false;
  {
    std::lock_guard lk(m.mu);
    m.stopping = true;
  }
  m.cv.notify_all();
  if (m.thread.joinable()) m.thread.join();
  if (m.intake.pending() > 0) {
    if (flush_until(m.intake, SteadyClock::now() + kStopGrace)) {
      m.committed.store(m.pending_offset);
    } else {
      spdlog::warn("source {}: sinks stayed full at shutdown; {} alerts will be read again on restart", m.name,
                   m.intake.pending());
      m.intake.discard();
    }
  }
  m.checkpoint(true);
  m.close_file();
}

const std::string& FileSource::checkpoint_path() const noexcept { return impl_->cp_path; }

std::uint64_t FileSource::committed_offset() const noexcept { return impl_->committed.load(); }

SourceBuilder parse_file_source(const ConfigReader& r) {
  r.only({"path", "start_at", "poll_interval", "max_line"}, kCommonSourceKeys);
  FileSourceOptions o;
  o.path = r.path("path", "", true);
  const std::string start_at = r.string("start_at", "beginning");
  if (start_at == "end") {
    o.start_at_end = true;
  } else if (start_at != "beginning") {
    r.errors.add(r.node["start_at"], r.key_name("start_at"),
                 fmt::format("must be \"beginning\" or \"end\", got \"{}\"", start_at));
  }
  o.poll_interval = r.duration("poll_interval", o.poll_interval);
  if (o.poll_interval.count() < 1 || o.poll_interval > std::chrono::minutes(10)) {
    r.errors.add(r.node["poll_interval"], r.key_name("poll_interval"), "must be between 1ms and 10m");
    o.poll_interval = std::chrono::milliseconds(250);
  }
  const std::uint64_t max_line = r.size("max_line", o.max_line);
  if (max_line < 2 || max_line > (1ull << 30)) {
    r.errors.add(r.node["max_line"], r.key_name("max_line"), "must be between 2 bytes and 1GiB");
  } else {
    o.max_line = static_cast<std::size_t>(max_line);
  }
  return [o](SourceContext& ctx) -> std::unique_ptr<Source> { return std::make_unique<FileSource>(ctx, o); };
}

}  // namespace saker
