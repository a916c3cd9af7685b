#include "sinks/queue/disk_buffer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sinks/queue/crc32c.hpp"

namespace saker {
namespace fs = std::filesystem;

namespace {

void put_u32(std::string& out, std::uint32_t v) {
  const char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16), static_cast<char>(v >> 24)};
  out.append(b, 4);
}

std::uint32_t get_u32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<std::uint32_t>(u[0]) | static_cast<std::uint32_t>(u[1]) << 8 |
         static_cast<std::uint32_t>(u[2]) << 16 | static_cast<std::uint32_t>(u[3]) << 24;
}

// Largest record we accept when reading back: anything bigger is corruption, not an alert.
constexpr std::uint32_t kMaxRecord = 64u * 1024 * 1024;

std::string errno_text() { return std::strerror(errno); }

}  // namespace

DiskBuffer::DiskBuffer(const BufferSpec& spec, const BufferContext& ctx)
    : spec_(spec),
      dir_(ctx.data_dir + "/buffers/" + ctx.sink),
      sink_(ctx.sink),
      decoder_(ctx.limits),
      corrupt_records_(ctx.metrics.counter("saker_buffer_corrupt_records_total",
                                           "Disk-buffer records found torn or corrupt (CRC) and cut off", {{"sink", ctx.sink}})),
      corrupt_bytes_(ctx.metrics.counter("saker_buffer_corrupt_bytes_total", "Bytes cut off disk-buffer segments",
                                         {{"sink", ctx.sink}})),
      dropped_(ctx.metrics.counter("saker_buffer_dropped_total",
                                   "Alerts dropped because the buffer was full (when_full: drop_newest/drop_oldest)",
                                   {{"sink", ctx.sink}})),
      write_errors_(ctx.metrics.counter("saker_buffer_write_errors_total",
                                        "Disk-buffer appends that failed (disk full, I/O error); the source pushed back",
                                        {{"sink", ctx.sink}})),
      disk_bytes_(ctx.metrics.gauge("saker_buffer_disk_bytes", "Bytes of unacknowledged records in the disk buffer",
                                    {{"sink", ctx.sink}})) {}

Result<std::unique_ptr<Buffer>> DiskBuffer::open(const BufferSpec& spec, const BufferContext& ctx) {
  std::unique_ptr<DiskBuffer> b(new DiskBuffer(spec, ctx));
  if (auto r = b->recover(); !r) return r.error();
  if (spec.fsync == FsyncPolicy::Interval) b->flusher_ = std::thread([p = b.get()] { p->flush_loop(); });
  return std::unique_ptr<Buffer>(std::move(b));
}

DiskBuffer::~DiskBuffer() {
  stop_flusher_ = true;
  flusher_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  {
    std::lock_guard lock(wmu_);
    if (wfd_ >= 0) {
      if (spec_.fsync != FsyncPolicy::Never) ::fdatasync(wfd_);
      ::close(wfd_);
    }
  }
  persist_cursor(true);
  if (rfd_ >= 0) ::close(rfd_);
}

std::string DiskBuffer::seg_path(std::uint64_t seg) const { return fmt::format("{}/{:016}.wal", dir_, seg); }

Result<bool> DiskBuffer::recover() {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return make_error("buffer_dir", fmt::format("cannot create disk buffer directory {}: {}", dir_, ec.message()));

  std::vector<std::uint64_t> segs;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() == 20 && name.ends_with(".wal")) segs.push_back(std::stoull(name.substr(0, 16)));
  }
  std::sort(segs.begin(), segs.end());

  // The acknowledged position; a missing or unreadable cursor means "from the oldest segment".
  Pos cursor{segs.empty() ? 1 : segs.front(), 0};
  if (std::ifstream in(dir_ + "/cursor"); in) {
    Pos c;
    if (in >> c.seg >> c.off) cursor = c;
  }
  if (!segs.empty() && cursor.seg < segs.front()) cursor = Pos{segs.front(), 0};
  for (auto s : segs) {
    if (s < cursor.seg) fs::remove(seg_path(s), ec);  // fully acknowledged before a crash
  }
  std::erase_if(segs, [&](std::uint64_t s) { return s < cursor.seg; });

  std::size_t records = 0;
  std::uint64_t bytes = 0;
  std::string buf;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const std::uint64_t seg = segs[i];
    const bool last = i + 1 == segs.size();
    const int fd = ::open(seg_path(seg).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return make_error("buffer_open", fmt::format("cannot read {}: {}", seg_path(seg), errno_text()));
    struct stat st {};
    ::fstat(fd, &st);
    const auto size = static_cast<std::uint64_t>(st.st_size);
    buf.resize(size);
    std::uint64_t got = 0;
    while (got < size) {
      const ssize_t n = ::pread(fd, buf.data() + got, size - got, static_cast<off_t>(got));
      if (n <= 0) break;
      got += static_cast<std::uint64_t>(n);
    }
    ::close(fd);
    std::uint64_t off = 0;
    std::uint64_t cursor_fix = cursor.off;
    while (off + kHeader <= got) {
      const std::uint32_t len = get_u32(buf.data() + off);
      if (len > kMaxRecord || off + kHeader + len > got) break;
      if (crc32c(buf.data() + off + kHeader, len) != get_u32(buf.data() + off + 4)) break;
      if (seg != cursor.seg || off >= cursor.off) {
        ++records;
        bytes += kHeader + len;
      } else if (off + kHeader + len > cursor.off) {
        cursor_fix = off + kHeader + len;  // a cursor inside a record: resume at the next boundary
      }
      off += kHeader + len;
    }
    if (seg == cursor.seg) cursor.off = std::min(std::max(cursor.off, cursor_fix), off);
    if (off < size) {
      corrupt_records_.inc();
      corrupt_bytes_.inc(size - off);
      spdlog::error("sink {}: disk buffer segment {} is torn or corrupt at byte {} ({} bytes after it cut off)", sink_,
                    seg_path(seg), off, size - off);
      if (last && ::truncate(seg_path(seg).c_str(), static_cast<off_t>(off)) != 0) {
        return make_error("buffer_truncate", fmt::format("cannot truncate {}: {}", seg_path(seg), errno_text()));
      }
    }
    if (!last) seg_end_[seg] = off;
    wpos_ = Pos{seg, off};
  }
  if (segs.empty()) wpos_ = Pos{cursor.seg, 0};
  wfd_ = ::open(seg_path(wpos_.seg).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (wfd_ < 0) return make_error("buffer_open", fmt::format("cannot open {}: {}", seg_path(wpos_.seg), errno_text()));
  published_ = wpos_;
  apos_ = rpos_ = cursor;
  first_seg_ = cursor.seg;
  count_ = records;
  bytes_ = bytes;
  disk_bytes_.set(static_cast<std::int64_t>(bytes));
  if (records) spdlog::info("sink {}: {} alerts ({} bytes) waiting in the disk buffer from before", sink_, records, bytes);
  return true;
}

Result<bool> DiskBuffer::roll() {
  if (spec_.fsync != FsyncPolicy::Never) ::fdatasync(wfd_);
  const int fd = ::open(seg_path(wpos_.seg + 1).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return make_error("buffer_open", fmt::format("cannot create {}: {}", seg_path(wpos_.seg + 1), errno_text()));
  ::close(wfd_);
  wfd_ = fd;
  {
    std::lock_guard lock(mu_);
    seg_end_[wpos_.seg] = wpos_.off;
  }
  wpos_ = Pos{wpos_.seg + 1, 0};
  return true;
}

Result<bool> DiskBuffer::push(std::vector<AlertPtr>& alerts) {
  if (alerts.empty()) return true;
  std::lock_guard wlock(wmu_);
  wbuf_.clear();
  for (const auto& a : alerts) {
    const std::string& j = a->json();
    put_u32(wbuf_, static_cast<std::uint32_t>(j.size()));
    put_u32(wbuf_, crc32c(j.data(), j.size()));
    wbuf_.append(j);
  }
  if (bytes_.load(std::memory_order_relaxed) + wbuf_.size() > spec_.max_bytes && count_.load() > 0) {
    if (spec_.when_full == WhenFull::Block) return false;
    dropped_.inc(alerts.size());
    alerts.clear();
    return true;
  }
  if (wpos_.off > 0 && wpos_.off + wbuf_.size() > spec_.segment_bytes) {
    if (auto r = roll(); !r) {
      write_errors_.inc();
      return r;
    }
  }
  std::size_t done = 0;
  while (done < wbuf_.size()) {
    const ssize_t n = ::write(wfd_, wbuf_.data() + done, wbuf_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = errno_text();
      // Take back a partial append so the log never holds half a record from a live process.
      if (done > 0 && ::ftruncate(wfd_, static_cast<off_t>(wpos_.off)) != 0) {
        spdlog::error("sink {}: cannot undo a partial disk-buffer append: {}", sink_, errno_text());
      }
      write_errors_.inc();
      return make_error("buffer_write", fmt::format("disk buffer {} cannot append: {}", dir_, why));
    }
    done += static_cast<std::size_t>(n);
  }
  if (spec_.fsync == FsyncPolicy::Always) ::fdatasync(wfd_);
  wpos_.off += wbuf_.size();
  dirty_ = true;
  {
    std::lock_guard lock(mu_);
    published_ = wpos_;
  }
  count_.fetch_add(alerts.size(), std::memory_order_relaxed);
  bytes_.fetch_add(wbuf_.size(), std::memory_order_relaxed);
  disk_bytes_.set(static_cast<std::int64_t>(bytes_.load(std::memory_order_relaxed)));
  alerts.clear();
  cv_.notify_one();
  return true;
}

void DiskBuffer::flush_loop() {
  std::unique_lock lock(flusher_mu_);
  while (!stop_flusher_) {
    flusher_cv_.wait_for(lock, spec_.fsync_interval, [&] { return stop_flusher_.load(); });
    std::lock_guard wlock(wmu_);
    if (dirty_ && wfd_ >= 0) {
      ::fdatasync(wfd_);
      dirty_ = false;
    }
  }
}

bool DiskBuffer::read_some(std::vector<AlertPtr>& out, std::size_t max) {
  Pos end;
  std::uint64_t seg_limit = 0;
  {
    std::lock_guard lock(mu_);
    end = published_;
    if (rpos_.seg < end.seg) {
      auto it = seg_end_.find(rpos_.seg);
      seg_limit = it == seg_end_.end() ? 0 : it->second;
    } else {
      seg_limit = end.off;
    }
  }
  if (rpos_.off >= seg_limit) {
    if (rpos_.seg < end.seg) {  // this segment is finished: move on
      rpos_ = Pos{rpos_.seg + 1, 0};
      return read_some(out, max);
    }
    return false;
  }
  if (rfd_seg_ != rpos_.seg || rfd_ < 0) {
    if (rfd_ >= 0) ::close(rfd_);
    rfd_ = ::open(seg_path(rpos_.seg).c_str(), O_RDONLY | O_CLOEXEC);
    rfd_seg_ = rpos_.seg;
    rbuf_.clear();
    if (rfd_ < 0) {
      spdlog::error("sink {}: cannot read disk buffer {}: {}", sink_, seg_path(rpos_.seg), errno_text());
      return false;
    }
  }
  bool any = false;
  while (out.size() < max && rpos_.off < seg_limit) {
    // The read-ahead window [rbuf_off_, rbuf_off_ + rbuf_.size()) of this segment; refilled when a record
    // does not lie wholly inside it.
    std::uint64_t in_buf = rpos_.off >= rbuf_off_ && rpos_.off < rbuf_off_ + rbuf_.size() ? rpos_.off - rbuf_off_ : rbuf_.size();
    std::uint64_t avail = rbuf_.size() - std::min<std::uint64_t>(in_buf, rbuf_.size());
    std::uint32_t len = avail >= kHeader ? get_u32(rbuf_.data() + in_buf) : 0;
    if (avail < kHeader || (len <= kMaxRecord && avail < kHeader + len)) {
      const std::uint64_t need = avail >= kHeader ? kHeader + len : kHeader;
      const std::uint64_t want = std::min<std::uint64_t>(seg_limit - rpos_.off, std::max<std::uint64_t>(need, 1024 * 1024));
      rbuf_.resize(want);
      const ssize_t n = ::pread(rfd_, rbuf_.data(), want, static_cast<off_t>(rpos_.off));
      rbuf_off_ = rpos_.off;
      rbuf_.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
      in_buf = 0;
      avail = rbuf_.size();
      if (avail < kHeader) return any;
      len = get_u32(rbuf_.data());
    }
    if (len > kMaxRecord || rpos_.off + kHeader + len > seg_limit || avail < kHeader + len) {
      // Only external damage after start-up gets here: skip the rest of this segment.
      corrupt_records_.inc();
      spdlog::error("sink {}: corrupt record in {} at {}; skipping the rest of the segment", sink_, seg_path(rpos_.seg),
                    rpos_.off);
      rpos_.off = seg_limit;
      return any;
    }
    const char* rec = rbuf_.data() + in_buf;
    const char* payload = rec + kHeader;
    const std::uint64_t size = kHeader + len;
    if (crc32c(payload, len) == get_u32(rec + 4)) {
      if (auto r = decoder_.decode(std::string_view(payload, len))) {
        out.push_back(std::move(r).value());
        taken_.push_back({Pos{rpos_.seg, rpos_.off + size}, size});
        any = true;
      } else {
        corrupt_records_.inc();
        spdlog::error("sink {}: a buffered alert no longer decodes ({}); skipped", sink_, r.error().message);
        count_.fetch_sub(1, std::memory_order_relaxed);
        bytes_.fetch_sub(size, std::memory_order_relaxed);
      }
    } else {
      corrupt_records_.inc();
      count_.fetch_sub(1, std::memory_order_relaxed);
      bytes_.fetch_sub(size, std::memory_order_relaxed);
      spdlog::error("sink {}: CRC mismatch in {} at {}; record skipped", sink_, seg_path(rpos_.seg), rpos_.off);
    }
    rpos_.off += size;
    any = true;
  }
  return any;
}

bool DiskBuffer::take(std::vector<AlertPtr>& out, std::size_t max, std::chrono::milliseconds wait) {
  while (out.size() < max && read_some(out, max)) {
  }
  if (!out.empty()) return true;
  std::unique_lock lock(mu_);
  if (closed_) return false;
  cv_.wait_for(lock, wait, [&] { return closed_ || published_.seg != rpos_.seg || published_.off != rpos_.off; });
  return true;
}

void DiskBuffer::ack(std::size_t n) {
  std::uint64_t bytes = 0;
  for (std::size_t i = 0; i < n && !taken_.empty(); ++i) {
    apos_ = taken_.front().first;
    bytes += taken_.front().second;
    taken_.pop_front();
  }
  count_.fetch_sub(n, std::memory_order_relaxed);
  bytes_.fetch_sub(bytes, std::memory_order_relaxed);
  disk_bytes_.set(static_cast<std::int64_t>(bytes_.load(std::memory_order_relaxed)));
  // Segments wholly before the acknowledged position are done.
  while (first_seg_ < apos_.seg) {
    std::error_code ec;
    fs::remove(seg_path(first_seg_), ec);
    std::lock_guard lock(mu_);
    seg_end_.erase(first_seg_);
    ++first_seg_;
  }
  persist_cursor(false);
}

void DiskBuffer::persist_cursor(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_cursor_write_ < std::chrono::milliseconds(100)) return;
  last_cursor_write_ = now;
  const std::string tmp = dir_ + "/cursor.tmp";
  const std::string text = fmt::format("{} {}\n", apos_.seg, apos_.off);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (spec_.fsync == FsyncPolicy::Always) ::fdatasync(fd);
  ::close(fd);
  if (ok) ::rename(tmp.c_str(), (dir_ + "/cursor").c_str());
}

void DiskBuffer::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

}  // namespace saker
