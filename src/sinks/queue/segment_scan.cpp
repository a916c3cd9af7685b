#include "sinks/queue/segment_scan.hpp"

#include "sinks/queue/crc32c.hpp"

namespace saker {
namespace {

std::uint32_t get_u32(const char* p) noexcept {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<std::uint32_t>(u[0]) | static_cast<std::uint32_t>(u[1]) << 8 |
         static_cast<std::uint32_t>(u[2]) << 16 | static_cast<std::uint32_t>(u[3]) << 24;
}

// A length a writer could have written: alerts are never empty, and never near kMaxRecord.
bool plausible(std::uint32_t len) noexcept { return len >= 1 && len <= kMaxRecord; }

// The length field at `off`, when the header is wholly inside `bytes`; 0 otherwise.
std::uint32_t length_at(std::string_view bytes, std::uint64_t off) noexcept {
  if (off > bytes.size() || bytes.size() - off < kRecordHeader) return 0;
  return get_u32(bytes.data() + off);
}

}  // namespace

std::uint32_t valid_record_at(std::string_view bytes, std::uint64_t off) noexcept {
  const std::uint32_t len = length_at(bytes, off);
  if (!plausible(len) || bytes.size() - off - kRecordHeader < len) return 0;
  const char* rec = bytes.data() + off;
  return crc32c(rec + kRecordHeader, len) == get_u32(rec + 4) ? len : 0;
}

bool SegmentScan::next(SegmentPart& part) {
  if (next_pending_ < pending_.size()) {
    part = pending_[next_pending_++];
    return true;
  }
  if (off_ >= bytes_.size()) return false;
  if (const std::uint32_t len = valid_record_at(bytes_, off_)) {
    part = SegmentPart{off_, kRecordHeader + len, SegmentDamage::none};
    off_ += part.size;
    return true;
  }
  split_damage(off_);
  part = pending_[next_pending_++];
  return true;
}

// No valid record at `from`: finds where the damage ends and how it splits into parts.
void SegmentScan::split_damage(std::uint64_t from) {
  const std::uint64_t end = bytes_.size();
  // The damage lasts until the next offset that holds a valid record (length and CRC check), or the end.
  std::uint64_t resync = from + 1;
  while (resync < end && !valid_candidate(resync)) ++resync;
  off_ = resync;
  next_pending_ = 0;
  pending_.clear();
  // Damaged records whose lengths are intact frame the damage exactly: one part each (usually one record whose
  // payload or CRC is damaged).
  std::uint64_t walk = from;
  while (resync - walk >= kRecordHeader) {
    const std::uint32_t len = length_at(bytes_, walk);
    if (!plausible(len) || resync - walk - kRecordHeader < len) break;
    pending_.push_back({walk, kRecordHeader + len, SegmentDamage::crc});
    walk += kRecordHeader + len;
  }
  if (walk == resync) return;
  // An incomplete record with nothing valid after it is a torn tail.
  const std::uint32_t len = length_at(bytes_, from);
  const bool torn =
      resync == end && (end - from < kRecordHeader || (plausible(len) && end - from - kRecordHeader < len));
  pending_.assign(1, SegmentPart{from, resync - from, torn ? SegmentDamage::torn : SegmentDamage::unframed});
}

constexpr std::uint64_t kPrefixStep = 64;

std::uint32_t SegmentScan::crc_of(std::uint64_t from, std::uint64_t to) {
  if (prefix_.empty()) {
    prefix_.reserve(bytes_.size() / kPrefixStep + 1);
    std::uint32_t crc = 0;
    prefix_.push_back(crc);
    for (std::uint64_t at = kPrefixStep; at <= bytes_.size(); at += kPrefixStep) {
      crc = crc32c(bytes_.data() + at - kPrefixStep, kPrefixStep, crc);
      prefix_.push_back(crc);
    }
  }
  const auto at = [&](std::uint64_t off) {  // crc32c of bytes_[0, off)
    const std::uint64_t base = off / kPrefixStep * kPrefixStep;
    return crc32c(bytes_.data() + base, off - base, prefix_[off / kPrefixStep]);
  };
  Factor& f = factors_[(to - from) % factors_.size()];
  if (f.len != to - from) f = Factor{to - from, crc32c_shift_factor(to - from)};
  // crc(A‖B) = shift(crc(A), |B|) ^ crc(B), so crc(B) = crc(A‖B) ^ shift(crc(A), |B|).
  return at(to) ^ crc32c_multiply(at(from), f.factor);
}

bool SegmentScan::valid_candidate(std::uint64_t off) {
  const std::uint32_t len = length_at(bytes_, off);
  if (!plausible(len) || bytes_.size() - off - kRecordHeader < len) return false;
  if (len <= 256) return valid_record_at(bytes_, off) != 0;
  return crc_of(off + kRecordHeader, off + kRecordHeader + len) == get_u32(bytes_.data() + off + 4);
}

std::string_view describe(SegmentDamage damage) noexcept {
  switch (damage) {
    case SegmentDamage::none:
      return "valid record";
    case SegmentDamage::crc:
      return "CRC mismatch";
    case SegmentDamage::unframed:
      return "unframed bytes (damaged length)";
    case SegmentDamage::torn:
      return "torn record";
  }
  return "damage";
}

}  // namespace saker
