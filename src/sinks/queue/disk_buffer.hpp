#pragma once
// `buffer: {type: disk}`: an append-only, segmented write-ahead log per sink under
// <data_dir>/buffers/<sink>/. Records are [u32 length][u32 CRC-32C][alert JSON]; a segment file is deleted once
// every record in it is acknowledged; the acknowledged position is kept in `cursor`. On open, the log is read
// from the cursor: a damaged record is skipped (the scan resynchronises on the next valid one), counted and
// dead-lettered as raw bytes; only a torn tail of the newest segment is cut off. A cursor that cannot be right
// is an error that keeps every segment.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "sinks/queue/buffer.hpp"
#include "sinks/queue/segment_scan.hpp"

namespace saker {

class DiskBuffer final : public Buffer {
 public:
  static Result<std::unique_ptr<Buffer>> open(const BufferSpec& spec, const BufferContext& ctx);
  ~DiskBuffer() override;

  using Buffer::push;
  Result<bool> push(std::vector<AlertPtr>& alerts, Admission admission) override;
  bool full() const noexcept override { return bytes_.load(std::memory_order_relaxed) >= spec_.max_bytes; }
  bool take(std::vector<AlertPtr>& out, std::size_t max, std::chrono::milliseconds wait) override;
  void ack(std::size_t n) override;
  void close() override;
  std::size_t queued() const noexcept override { return count_.load(std::memory_order_relaxed); }
  std::uint64_t queued_bytes() const noexcept override { return bytes_.load(std::memory_order_relaxed); }

  struct Pos {
    std::uint64_t seg = 1;
    std::uint64_t off = 0;
  };
  static constexpr std::size_t kHeader = kRecordHeader;

 private:
  DiskBuffer(const BufferSpec& spec, const BufferContext& ctx);
  Result<bool> recover();
  // The position to read from, from the cursor file and the segments there are; `problem` says why the cursor
  // cannot be used (then: the oldest segment).
  Pos read_cursor(const std::vector<std::uint64_t>& segs, std::string& text, std::string& problem) const;
  Result<bool> roll();  // wmu_ held
  void persist_cursor(bool force);
  void flush_loop();
  std::string seg_path(std::uint64_t seg) const;
  // Reads records from rpos_ in segment rpos_.seg into out; false when nothing was readable.
  bool read_some(std::vector<AlertPtr>& out, std::size_t max);
  // Makes the read-ahead window hold [off, off + need) of segment rpos_.seg, as far as the segment has it.
  void fill_window(std::uint64_t off, std::uint64_t need, std::uint64_t seg_limit);
  // No valid record at rpos_: reads the rest of the segment, reports the damaged parts up to the next valid
  // record and moves rpos_ past them.
  void skip_damage(std::uint64_t seg_limit);
  // Counts, logs and dead-letters one damaged part at `offset` of `seg`: `raw` is its bytes as far as they exist,
  // `size` its length when more than that (bytes missing from the file).
  void report_damage(std::uint64_t seg, std::string_view raw, std::uint64_t offset, std::string_view what,
                     std::string_view outcome, std::uint64_t size = 0);

  BufferSpec spec_;
  std::string dir_;
  std::string sink_;
  Decoder decoder_;

  std::mutex wmu_;  // writer: append position and file
  int wfd_ = -1;
  Pos wpos_;
  std::string wbuf_;
  bool dirty_ = false;

  mutable std::mutex mu_;  // what the reader may see
  std::condition_variable cv_;
  Pos published_;
  std::map<std::uint64_t, std::uint64_t> seg_end_;  // valid end of every finished segment
  bool closed_ = false;

  // Reader state: only the sink's thread touches these.
  Pos rpos_;
  Pos apos_;
  std::uint64_t first_seg_ = 1;
  std::deque<std::pair<Pos, std::uint64_t>> taken_;  // end position and size of each record handed out
  int rfd_ = -1;
  std::uint64_t rfd_seg_ = 0;
  std::string rbuf_;  // read-ahead of segment rfd_seg_ from offset rbuf_off_
  std::uint64_t rbuf_off_ = 0;
  std::chrono::steady_clock::time_point last_cursor_write_{};
  std::chrono::steady_clock::time_point last_cursor_error_log_{};
  // Damage recovery reported already: the reader steps over it without reporting it again.
  struct Damaged {
    std::uint64_t off;
    std::uint64_t end;
  };
  std::map<std::uint64_t, std::vector<Damaged>> known_damage_;
  DeadLetterFile* dead_letters_;

  std::atomic<std::size_t> count_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<bool> stop_flusher_{false};
  std::thread flusher_;
  std::condition_variable flusher_cv_;
  std::mutex flusher_mu_;

  Counter& corrupt_records_;
  Counter& corrupt_bytes_;
  Counter& dropped_;
  Counter& write_errors_;
  Counter& cursor_errors_;
  Gauge& disk_bytes_;
};

}  // namespace saker
