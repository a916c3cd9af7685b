#pragma once
// A sink's buffer: where accepted alerts wait until the sink acknowledges them. Source threads push batches;
// the sink's thread takes batches and acknowledges them once delivered.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/alert.hpp"
#include "core/decode.hpp"
#include "core/result.hpp"
#include "observe/metrics.hpp"

namespace saker {

class DeadLetterFile;

enum class WhenFull { Block, DropNewest, DropOldest };
enum class FsyncPolicy { Always, Interval, Never };

struct BufferSpec {
  enum class Type { Memory, Disk } type = Type::Memory;
  std::uint64_t max_bytes = 32ULL * 1024 * 1024;  // memory: estimated alert memory; disk: bytes on disk
  std::size_t max_alerts = 10000;                 // memory only
  WhenFull when_full = WhenFull::Block;
  FsyncPolicy fsync = FsyncPolicy::Interval;
  std::chrono::milliseconds fsync_interval{100};
  std::uint64_t segment_bytes = 16ULL * 1024 * 1024;
};

class Buffer {
 public:
  virtual ~Buffer() = default;

  // Producer side (any thread). Takes all of `alerts` and returns true, or (when full and when_full: block)
  // takes nothing and returns false. With drop_newest/drop_oldest it always takes them and counts what it drops.
  // Admitted: the router checked full() for this batch already; a block buffer takes it even if another source
  // filled it since (the bound is exceeded by at most a batch per source), so a batch is never half pushed.
  enum class Admission : std::uint8_t { CheckFull, Admitted };
  virtual Result<bool> push(std::vector<AlertPtr>& alerts, Admission admission) = 0;
  Result<bool> push(std::vector<AlertPtr>& alerts) { return push(alerts, Admission::CheckFull); }
  // Cheap and approximate: would push() refuse now?
  virtual bool full() const noexcept = 0;

  // Consumer side (the sink's thread only). Fills `out` with up to `max` alerts, waiting up to `wait` for some;
  // returns false once closed and empty. The same alerts are handed out again after a restart until acked.
  virtual bool take(std::vector<AlertPtr>& out, std::size_t max, std::chrono::milliseconds wait) = 0;
  // The oldest `n` alerts handed out by take() are delivered (or dead-lettered): forget them for good.
  virtual void ack(std::size_t n) = 0;

  // Wakes a waiting take(); after close(), take() returns what is left and then false.
  virtual void close() = 0;
  virtual std::size_t queued() const noexcept = 0;
  virtual std::uint64_t queued_bytes() const noexcept = 0;
};

struct BufferContext {
  std::string sink;
  std::string data_dir;
  Metrics& metrics;
  DecodeLimits limits;  // disk: records are decoded again when read back
  DeadLetterFile* dead_letters = nullptr;  // disk: where damaged records' raw bytes go (none: only logged)
};

// Opens (and for disk, recovers) the buffer; a disk buffer that cannot be created is an error.
Result<std::unique_ptr<Buffer>> open_buffer(const BufferSpec& spec, const BufferContext& ctx);

}  // namespace saker
