// Fuzz target: any bytes as a disk-buffer segment. The scan must end, cover every byte exactly once in order,
// and call a part valid only when its length and CRC check.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "sinks/queue/crc32c.hpp"
#include "sinks/queue/segment_scan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  saker::SegmentScan scan(bytes);
  std::uint64_t at = 0;
  for (saker::SegmentPart part; scan.next(part);) {
    if (part.offset != at || part.size == 0 || part.size > size - at) __builtin_trap();
    if (part.damage == saker::SegmentDamage::none) {
      std::uint32_t len = 0, crc = 0;
      if (part.size < saker::kRecordHeader) __builtin_trap();
      std::memcpy(&len, data + at, 4);
      std::memcpy(&crc, data + at + 4, 4);
      if (len == 0 || part.size != saker::kRecordHeader + len) __builtin_trap();
      if (saker::crc32c(data + at + saker::kRecordHeader, len) != crc) __builtin_trap();
    } else if (saker::valid_record_at(bytes, at) != 0) {
      __builtin_trap();  // a valid record was called damaged
    }
    at += part.size;
  }
  if (at != size) __builtin_trap();
  return 0;
}
