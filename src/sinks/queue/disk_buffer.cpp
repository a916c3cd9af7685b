#include "sinks/queue/disk_buffer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sinks/dead_letter.hpp"
#include "sinks/queue/crc32c.hpp"

namespace saker {
namespace fs = std::filesystem;

namespace {

void put_u32(std::string& out, std::uint32_t v) {
  const char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16), static_cast<char>(v >> 24)};
  out.append(b, 4);
}

std::string errno_text() { return std::strerror(errno); }

// Reads [off, off + size) of fd, fewer bytes only at the end of the file.
std::size_t read_at(int fd, char* into, std::size_t size, std::uint64_t off) {
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::pread(fd, into + got, size - got, static_cast<off_t>(off + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got;
}

// A counter taken down by what left the buffer without being acknowledged, never below zero.
template <typename T>
void take_down(std::atomic<T>& value, T by) {
  T cur = value.load(std::memory_order_relaxed);
  while (!value.compare_exchange_weak(cur, cur - std::min(cur, by), std::memory_order_relaxed)) {
  }
}

// The cursor file's text as a log shows it: printable, short.
std::string shown(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 40)) out += c >= 0x20 && c < 0x7f ? c : '?';
  return text.size() > 40 ? out + "..." : out;
}

bool segment_name(const std::string& name, std::uint64_t& seg) {
  if (name.size() != 20 || !name.ends_with(".wal")) return false;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + 16, seg);
  return ec == std::errc() && end == name.data() + 16;
}

}  // namespace

DiskBuffer::DiskBuffer(const BufferSpec& spec, const BufferContext& ctx)
    : spec_(spec),
      dir_(ctx.data_dir + "/buffers/" + ctx.sink),
      sink_(ctx.sink),
      decoder_(ctx.limits),
      dead_letters_(ctx.dead_letters),
      corrupt_records_(ctx.metrics.counter(
          "saker_buffer_corrupt_records_total",
          "Disk-buffer records found damaged (CRC, length, torn, no longer decodes), skipped and dead-lettered",
          {{"sink", ctx.sink}})),
      corrupt_bytes_(ctx.metrics.counter("saker_buffer_corrupt_bytes_total",
                                         "Bytes of damaged disk-buffer records, skipped or cut off",
                                         {{"sink", ctx.sink}})),
      dropped_(ctx.metrics.counter("saker_buffer_dropped_total",
                                   "Alerts dropped because the buffer was full (when_full: drop_newest/drop_oldest)",
                                   {{"sink", ctx.sink}})),
      write_errors_(ctx.metrics.counter(
          "saker_buffer_write_errors_total",
          "Disk-buffer appends that failed (disk full, I/O error); the source pushed back", {{"sink", ctx.sink}})),
      cursor_errors_(ctx.metrics.counter("saker_buffer_cursor_errors_total",
                                         "Disk-buffer cursors found unusable at start (unparsable, past the data, a "
                                         "missing segment); read from the oldest",
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

DiskBuffer::Pos DiskBuffer::read_cursor(const std::vector<std::uint64_t>& segs, std::string& text,
                                        std::string& problem) const {
  const Pos oldest{segs.empty() ? 1 : segs.front(), 0};
  std::ifstream in(dir_ + "/cursor", std::ios::binary);
  if (!in) return oldest;  // never written: nothing was acknowledged yet
  text.assign(64, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(std::max<std::streamsize>(in.gcount(), 0)));
  // "<segment> <offset>\n", nothing else.
  Pos c;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  auto r = std::from_chars(p, end, c.seg);
  bool ok = r.ec == std::errc() && r.ptr < end && *r.ptr == ' ';
  if (ok) {
    r = std::from_chars(r.ptr + 1, end, c.off);
    ok = r.ec == std::errc() && (r.ptr == end || (*r.ptr == '\n' && r.ptr + 1 == end));
  }
  if (!ok) {
    problem = fmt::format("does not parse (\"{}\")", shown(text));
    return oldest;
  }
  if (segs.empty()) {
    if (c.off > 0) problem = fmt::format("points at byte {} of segment {}, but there are no segments", c.off, c.seg);
    return Pos{std::max<std::uint64_t>(c.seg, 1), 0};
  }
  // Segments wholly acknowledged are deleted before the cursor moves past them, so an older segment still there
  // means the cursor is wrong, not that the segment is done.
  if (c.seg < segs.front()) return oldest;  // deleted, then a crash before the cursor was written
  if (c.seg > segs.back()) {
    problem = fmt::format("points at segment {}, after the newest one ({})", c.seg, segs.back());
  } else if (!std::binary_search(segs.begin(), segs.end(), c.seg)) {
    problem = fmt::format("points into segment {}, which is missing", c.seg);
  } else if (c.seg > segs.front()) {
    problem = fmt::format("points at segment {}, but segments from {} on are still there", c.seg, segs.front());
  } else {
    return c;  // the offset is checked against the segment's records
  }
  return oldest;
}

Result<bool> DiskBuffer::recover() {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return make_error("buffer_dir", fmt::format("cannot create disk buffer directory {}: {}", dir_, ec.message()));

  std::vector<std::uint64_t> segs;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    std::uint64_t seg = 0;
    if (segment_name(e.path().filename().string(), seg)) segs.push_back(seg);
  }
  std::sort(segs.begin(), segs.end());

  std::string cursor_text, cursor_problem;
  Pos start = read_cursor(segs, cursor_text, cursor_problem);
  std::erase_if(segs, [&](std::uint64_t s) { return s < start.seg; });

  std::size_t records = 0;
  std::uint64_t bytes = 0;
  std::string buf;
  std::vector<SegmentPart> parts;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const std::uint64_t seg = segs[i];
    const bool last = i + 1 == segs.size();
    if (i > 0 && seg != segs[i - 1] + 1) {
      spdlog::error("sink {}: disk buffer segments {}..{} are missing from {}; their alerts are lost", sink_,
                    segs[i - 1] + 1, seg - 1, dir_);
    }
    const int fd = ::open(seg_path(seg).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return make_error("buffer_open", fmt::format("cannot read {}: {}", seg_path(seg), errno_text()));
    struct stat st {};
    ::fstat(fd, &st);
    buf.resize(static_cast<std::size_t>(st.st_size));
    buf.resize(read_at(fd, buf.data(), buf.size(), 0));
    ::close(fd);

    parts.clear();
    SegmentScan scan(buf);
    for (SegmentPart part; scan.next(part);) parts.push_back(part);
    if (seg == start.seg && start.off > 0) {
      // The cursor is the end of an acknowledged record: any other offset means it is damaged.
      const bool boundary = std::any_of(parts.begin(), parts.end(), [&](const SegmentPart& p) {
        return p.offset + p.size == start.off && p.damage != SegmentDamage::torn;
      });
      if (!boundary) {
        cursor_problem =
            start.off > buf.size()
                ? fmt::format("points at byte {} of segment {}, past its end ({})", start.off, seg, buf.size())
                : fmt::format("points at byte {} of segment {}, not the end of a record", start.off, seg);
        start.off = 0;
      }
    }
    const std::uint64_t from = seg == start.seg ? start.off : 0;
    std::uint64_t valid_end = buf.size();
    for (const SegmentPart& part : parts) {
      if (part.offset < from) continue;  // acknowledged before
      if (part.damage == SegmentDamage::none) {
        ++records;
        bytes += part.size;
        continue;
      }
      const std::string_view raw = std::string_view(buf).substr(part.offset, part.size);
      if (last && part.damage == SegmentDamage::torn) {
        // A torn tail of the newest segment: an append cut off by a crash. New appends go where it starts.
        report_damage(seg, raw, part.offset, describe(part.damage), "cut off");
        valid_end = part.offset;
        if (::truncate(seg_path(seg).c_str(), static_cast<off_t>(part.offset)) != 0) {
          return make_error("buffer_truncate", fmt::format("cannot truncate {}: {}", seg_path(seg), errno_text()));
        }
      } else {
        report_damage(seg, raw, part.offset, describe(part.damage), "skipped");
        known_damage_[seg].push_back({part.offset, part.offset + part.size});
      }
    }
    if (!last) seg_end_[seg] = valid_end;
    wpos_ = Pos{seg, valid_end};
  }
  if (!cursor_problem.empty()) {
    cursor_errors_.inc();
    spdlog::error(
        "sink {}: disk buffer cursor {}/cursor (\"{}\") {}; keeping every segment and delivering from the oldest "
        "({} byte {}): alerts delivered before may be delivered again",
        sink_, dir_, shown(cursor_text), cursor_problem, start.seg, start.off);
  }
  if (segs.empty()) wpos_ = Pos{start.seg, 0};
  wfd_ = ::open(seg_path(wpos_.seg).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (wfd_ < 0) return make_error("buffer_open", fmt::format("cannot open {}: {}", seg_path(wpos_.seg), errno_text()));
  published_ = wpos_;
  apos_ = rpos_ = start;
  first_seg_ = start.seg;
  count_ = records;
  bytes_ = bytes;
  disk_bytes_.set(static_cast<std::int64_t>(bytes));
  if (!cursor_problem.empty()) persist_cursor(true);  // the repaired cursor, so the next start does not repeat it
  if (records) spdlog::info("sink {}: {} alerts ({} bytes) waiting in the disk buffer from before", sink_, records, bytes);
  return true;
}

void DiskBuffer::report_damage(std::uint64_t seg, std::string_view raw, std::uint64_t offset, std::string_view what,
                               std::string_view outcome, std::uint64_t size) {
  if (size == 0) size = raw.size();
  corrupt_records_.inc();
  corrupt_bytes_.inc(size);
  const std::string reason =
      fmt::format("disk buffer: {} in segment {:016}.wal at byte {} ({} bytes)", what, seg, offset, size);
  if (dead_letters_) {
    dead_letters_->add_raw(raw, reason);
    spdlog::error("sink {}: {}; {}, its bytes kept in {}", sink_, reason, outcome, dead_letters_->path());
  } else {
    spdlog::error("sink {}: {}; {}", sink_, reason, outcome);
  }
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

Result<bool> DiskBuffer::push(std::vector<AlertPtr>& alerts, Admission admission) {
  if (alerts.empty()) return true;
  std::lock_guard wlock(wmu_);
  wbuf_.clear();
  for (const auto& a : alerts) {
    // The persisted form (with added fields) is the record: written in place, then its header filled in.
    const std::size_t at = wbuf_.size();
    wbuf_.append(kHeader, '\0');
    a->append_persisted(wbuf_);
    const std::size_t len = wbuf_.size() - at - kHeader;
    std::string hdr;
    put_u32(hdr, static_cast<std::uint32_t>(len));
    put_u32(hdr, crc32c(wbuf_.data() + at + kHeader, len));
    std::memcpy(wbuf_.data() + at, hdr.data(), kHeader);
  }
  const bool admitted = spec_.when_full == WhenFull::Block && admission == Admission::Admitted;
  if (bytes_.load(std::memory_order_relaxed) + wbuf_.size() > spec_.max_bytes && count_.load() > 0 && !admitted) {
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
    // Counted with the position they are published at, so a reader that has caught up knows nothing is waiting.
    std::lock_guard lock(mu_);
    published_ = wpos_;
    count_.fetch_add(alerts.size(), std::memory_order_relaxed);
    bytes_.fetch_add(wbuf_.size(), std::memory_order_relaxed);
  }
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
  std::uint64_t seg_limit = 0;
  {
    std::lock_guard lock(mu_);
    // A finished segment (or one that is missing) is left for the next one there is.
    while (rpos_.seg < published_.seg) {
      auto it = seg_end_.find(rpos_.seg);
      if (it != seg_end_.end() && rpos_.off < it->second) break;
      it = seg_end_.upper_bound(rpos_.seg);
      rpos_ = Pos{it == seg_end_.end() ? published_.seg : std::min(it->first, published_.seg), 0};
    }
    seg_limit = rpos_.seg < published_.seg ? seg_end_[rpos_.seg] : published_.off;
    if (rpos_.off >= seg_limit && taken_.empty()) {
      // Caught up with every append and nothing handed out: nothing is waiting. (A damaged part found while
      // running may have held more records than the one it was counted as.)
      count_.store(0, std::memory_order_relaxed);
      bytes_.store(0, std::memory_order_relaxed);
      disk_bytes_.set(0);
    }
  }
  if (rpos_.off >= seg_limit) return false;
  if (rfd_seg_ != rpos_.seg || rfd_ < 0) {
    if (rfd_ >= 0) ::close(rfd_);
    rfd_ = ::open(seg_path(rpos_.seg).c_str(), O_RDONLY | O_CLOEXEC);
    rfd_seg_ = rpos_.seg;
    rbuf_.clear();
    rbuf_off_ = 0;
    if (rfd_ < 0) {
      spdlog::error("sink {}: cannot read disk buffer {}: {}", sink_, seg_path(rpos_.seg), errno_text());
      return false;
    }
  }
  const auto known = known_damage_.find(rpos_.seg);
  bool any = false;
  while (out.size() < max && rpos_.off < seg_limit) {
    if (known != known_damage_.end()) {
      const auto& parts = known->second;
      const auto it = std::upper_bound(parts.begin(), parts.end(), rpos_.off,
                                       [](std::uint64_t off, const Damaged& d) { return off < d.end; });
      if (it != parts.end() && it->off <= rpos_.off) {  // reported at start-up already
        rpos_.off = it->end;
        any = true;
        continue;
      }
    }
    // The bytes of this segment from rpos_ in the read-ahead window, at least the whole record when it fits.
    const auto window = [&] {
      const std::uint64_t at = rpos_.off - rbuf_off_;
      return std::string_view(rbuf_.data() + at, std::min<std::uint64_t>(rbuf_.size() - at, seg_limit - rpos_.off));
    };
    fill_window(rpos_.off, kHeader, seg_limit);
    if (window().size() >= kHeader) {
      const auto* h = reinterpret_cast<const unsigned char*>(window().data());
      const std::uint64_t size = kHeader + (h[0] | h[1] << 8 | h[2] << 16 | static_cast<std::uint64_t>(h[3]) << 24);
      if (size <= kHeader + kMaxRecord && size <= seg_limit - rpos_.off) fill_window(rpos_.off, size, seg_limit);
    }
    const std::uint32_t len = valid_record_at(window(), 0);
    if (len == 0) {
      skip_damage(seg_limit);
      any = true;
      continue;
    }
    const char* rec = window().data();
    const std::uint64_t size = kHeader + len;
    if (auto r = decoder_.decode(std::string_view(rec + kHeader, len), Decoder::Mode::Persisted)) {
      out.push_back(std::move(r).value());
      taken_.push_back({Pos{rpos_.seg, rpos_.off + size}, size});
    } else {
      report_damage(rpos_.seg, std::string_view(rec, size), rpos_.off,
                    fmt::format("a record that no longer decodes ({})", r.error().message), "skipped");
      take_down(count_, std::size_t{1});
      take_down(bytes_, size);
    }
    rpos_.off += size;
    any = true;
  }
  return any;
}

void DiskBuffer::fill_window(std::uint64_t off, std::uint64_t need, std::uint64_t seg_limit) {
  if (off >= rbuf_off_ && off + need <= rbuf_off_ + rbuf_.size()) return;
  const std::uint64_t want = std::min<std::uint64_t>(seg_limit - off, std::max<std::uint64_t>(need, 1024 * 1024));
  rbuf_.resize(want);
  rbuf_.resize(read_at(rfd_, rbuf_.data(), rbuf_.size(), off));
  rbuf_off_ = off;
}

void DiskBuffer::skip_damage(std::uint64_t seg_limit) {
  // Damage after start-up (or a file cut short under us) is rare: read the rest of the segment and let the same
  // scan as recovery find where the next valid record starts.
  rbuf_.resize(seg_limit - rpos_.off);
  rbuf_.resize(read_at(rfd_, rbuf_.data(), rbuf_.size(), rpos_.off));
  rbuf_off_ = rpos_.off;
  SegmentScan scan(rbuf_);
  for (SegmentPart part; scan.next(part) && part.damage != SegmentDamage::none;) {
    const std::string_view raw = std::string_view(rbuf_).substr(part.offset, part.size);
    part.offset += rbuf_off_;
    report_damage(rpos_.seg, raw, part.offset, describe(part.damage), "skipped");
    take_down(count_, std::size_t{1});
    take_down(bytes_, part.size);
    rpos_.off = part.offset + part.size;
  }
  if (rbuf_off_ + rbuf_.size() < seg_limit && rpos_.off == rbuf_off_ + rbuf_.size()) {
    // The file is shorter than what was appended to it.
    report_damage(rpos_.seg, {}, rpos_.off, "bytes missing from the file", "skipped", seg_limit - rpos_.off);
    take_down(count_, std::size_t{1});
    take_down(bytes_, seg_limit - rpos_.off);
    rpos_.off = seg_limit;
  }
  disk_bytes_.set(static_cast<std::int64_t>(bytes_.load(std::memory_order_relaxed)));
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
    known_damage_.erase(first_seg_);
    ++first_seg_;
  }
  persist_cursor(false);
}

void DiskBuffer::persist_cursor(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_cursor_write_ < std::chrono::milliseconds(100)) return;
  last_cursor_write_ = now;
  // Atomic: the new cursor is written and synced beside the old one, renamed over it, and the rename synced.
  const std::string tmp = dir_ + "/cursor.tmp";
  const std::string text = fmt::format("{} {}\n", apos_.seg, apos_.off);
  const bool sync = spec_.fsync != FsyncPolicy::Never;
  const char* failed = nullptr;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    failed = "open";
  } else {
    if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) failed = "write";
    if (!failed && sync && ::fdatasync(fd) != 0) failed = "fdatasync";
    ::close(fd);
  }
  if (!failed && ::rename(tmp.c_str(), (dir_ + "/cursor").c_str()) != 0) failed = "rename";
  if (!failed && sync) {
    const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || ::fsync(dfd) != 0) failed = "fsync of the directory";
    if (dfd >= 0) ::close(dfd);
  }
  if (failed && now - last_cursor_error_log_ >= std::chrono::seconds(5)) {
    last_cursor_error_log_ = now;
    spdlog::error(
        "sink {}: cannot write the disk buffer cursor {}/cursor ({}: {}); after a restart, alerts already "
        "delivered are delivered again",
        sink_, dir_, failed, errno_text());
  }
}

void DiskBuffer::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

}  // namespace saker
