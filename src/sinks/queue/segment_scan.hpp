#pragma once
// The framing of a disk-buffer segment, records of [u32 length][u32 CRC-32C][payload], and the one scan that
// splits a segment's bytes into valid records and damaged parts. No I/O: start-up recovery, the live reader and
// the fuzzer share it, so a damaged record is handled the same way wherever it is found.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace saker {

inline constexpr std::size_t kRecordHeader = 8;
// Largest record accepted when reading back: anything bigger is damage, not an alert.
inline constexpr std::uint32_t kMaxRecord = 64u * 1024 * 1024;

// What is wrong with a part of a segment that is not a valid record.
enum class SegmentDamage {
  none,      // a valid record
  crc,       // framed by an intact length, but the CRC does not match (a damaged payload or CRC)
  unframed,  // bytes up to the next valid record with no usable length (a damaged length field, garbage)
  torn,      // an incomplete record at the end of the bytes (a cut-off append, a truncated file)
};

struct SegmentPart {
  std::uint64_t offset = 0;  // of its first byte (the header, for a record)
  std::uint64_t size = 0;    // header and payload, for a record
  SegmentDamage damage = SegmentDamage::none;
};

// The payload length of a valid record at `off` in `bytes` (length 1..kMaxRecord, wholly inside `bytes`, CRC
// matches), or 0 when there is none.
std::uint32_t valid_record_at(std::string_view bytes, std::uint64_t off) noexcept;

// Walks `bytes` from its start: yields records and damaged parts in order, covering every byte once. After a
// damaged part the scan resynchronises on the next offset that holds a valid record (length and CRC check), so
// one damaged record costs only itself.
class SegmentScan {
 public:
  explicit SegmentScan(std::string_view bytes) noexcept : bytes_(bytes) {}
  // The next part; false at the end of the bytes.
  bool next(SegmentPart& part);

 private:
  void split_damage(std::uint64_t from);
  // valid_record_at for the resync, which may try a candidate at every byte: a long candidate's CRC comes from
  // prefix CRCs in O(log length) instead of O(length), so damaged bytes cost linear time, not quadratic.
  bool valid_candidate(std::uint64_t off);
  std::uint32_t crc_of(std::uint64_t from, std::uint64_t to);

  std::string_view bytes_;
  std::vector<std::uint32_t> prefix_;  // crc32c of bytes_[0, 64 * i), built on the first resync
  struct Factor {
    std::uint64_t len = 0;
    std::uint32_t factor = 1u << 31;  // crc32c_shift_factor(0)
  };
  std::array<Factor, 64> factors_{};  // recent candidate lengths and their crc32c_shift_factor
  std::uint64_t off_ = 0;
  std::vector<SegmentPart> pending_;  // the damaged parts found by the last resync, in order
  std::size_t next_pending_ = 0;
};

// "CRC mismatch", "unframed bytes", "torn record": for log lines and dead letters.
std::string_view describe(SegmentDamage damage) noexcept;

}  // namespace saker
