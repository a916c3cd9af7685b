#include "sinks/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "config/files.hpp"
#include "sinks/ndjson_writer.hpp"

namespace saker {
namespace {

struct FileSinkConfig {
  std::string path;
  std::uint64_t max_size = 0;
  std::chrono::milliseconds rotate_every{0};
  int max_files = 5;
  mode_t mode = 0640;
};

class FileSink final : public Sink {
 public:
  FileSink(FileSinkConfig cfg, SinkContext& ctx)
      : cfg_(std::move(cfg)),
        writer_(ctx.formatter),
        rotations_(ctx.metrics.counter("saker_file_rotations_total", "File sink rotations", {{"sink", ctx.name}})) {}
  ~FileSink() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Result<bool> open() override {
    std::error_code ec;
    const auto dir = std::filesystem::path(cfg_.path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    fd_ = ::open(cfg_.path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, cfg_.mode);
    if (fd_ < 0) {
      return make_error("open_failed", fmt::format("file sink: cannot open {}: {}", cfg_.path, std::strerror(errno)));
    }
    struct stat st {};
    ::fstat(fd_, &st);
    size_ = static_cast<std::uint64_t>(st.st_size);
    // A crash mid-write can leave a last line without its newline: end it, so the next record starts clean.
    char last = '\n';
    if (size_ > 0 && ::pread(fd_, &last, 1, static_cast<off_t>(size_ - 1)) == 1 && last != '\n' &&
        ::write(fd_, "\n", 1) == 1) {
      ++size_;
    }
    opened_ = std::chrono::steady_clock::now();
    return true;
  }

  Result<bool> write(std::span<const AlertPtr> batch) override {
    if (fd_ < 0) {
      if (auto r = open(); !r) return r;
    }
    if (writer_.pending_bytes() == 0 && due_for_rotation()) rotate();
    const std::uint64_t before = writer_.total_written();
    auto r = writer_.write(fd_, batch, cfg_.path);
    size_ += writer_.total_written() - before;
    return r;
  }

 private:
  bool due_for_rotation() const {
    if (cfg_.max_size > 0 && size_ >= cfg_.max_size) return true;
    return cfg_.rotate_every.count() > 0 && size_ > 0 &&
           std::chrono::steady_clock::now() - opened_ >= cfg_.rotate_every;
  }

  // path.N-1 -> path.N ... path -> path.1, then a fresh path.
  void rotate() {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::remove(fmt::format("{}.{}", cfg_.path, cfg_.max_files), ec);
    for (int i = cfg_.max_files - 1; i >= 1; --i) {
      fs::rename(fmt::format("{}.{}", cfg_.path, i), fmt::format("{}.{}", cfg_.path, i + 1), ec);
    }
    if (cfg_.max_files > 0) {
      fs::rename(cfg_.path, cfg_.path + ".1", ec);
    } else {
      fs::remove(cfg_.path, ec);
    }
    if (ec) spdlog::warn("file sink: rotating {}: {}", cfg_.path, ec.message());
    ::close(fd_);
    fd_ = -1;
    rotations_.inc();
    if (auto r = open(); !r) spdlog::error("{}", r.error().message);
  }

  FileSinkConfig cfg_;
  NdjsonWriter writer_;
  Counter& rotations_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::chrono::steady_clock::time_point opened_;
};

}  // namespace

SinkBuilder parse_file_sink(const ConfigReader& r) {
  r.only({"path", "max_size", "rotate_every", "max_files", "mode"}, kCommonSinkKeys);
  FileSinkConfig cfg;
  cfg.path = r.path("path", "", true);
  if (!cfg.path.empty()) check_output_dir(r, "path", std::filesystem::path(cfg.path).parent_path().string());
  cfg.max_size = r.size("max_size", 0);
  cfg.rotate_every = r.duration("rotate_every", std::chrono::milliseconds(0));
  cfg.max_files = static_cast<int>(r.integer("max_files", 5, 0, 1000));
  const std::string mode = r.string("mode", "0640");
  char* end = nullptr;
  const unsigned long m = std::strtoul(mode.c_str(), &end, 8);
  if (end == mode.c_str() || *end != '\0' || m > 0777) {
    r.errors.add(r.node["mode"], r.key_name("mode"), "must be octal permissions such as \"0640\"");
  } else {
    cfg.mode = static_cast<mode_t>(m);
  }
  return [cfg](SinkContext& ctx) -> std::unique_ptr<Sink> { return std::make_unique<FileSink>(cfg, ctx); };
}

}  // namespace saker
