#pragma once
// CRC-32C (Castagnoli), the checksum of disk-buffer records. Debian 12 packages no C/C++ CRC-32C library,
// so this is the one hand-written piece: SSE4.2's crc32 instruction when the CPU has it, a table otherwise.
#include <cstddef>
#include <cstdint>

namespace saker {

std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc = 0) noexcept;

// x^(8 * len) mod the polynomial: what crc32c_combine multiplies the first CRC by (worth keeping for one length).
std::uint32_t crc32c_shift_factor(std::uint64_t len) noexcept;
// crc * factor mod the polynomial.
std::uint32_t crc32c_multiply(std::uint32_t crc, std::uint32_t factor) noexcept;
// The CRC-32C of A followed by B, from the CRCs of A and B and B's length, in O(log len_b) (zlib's crc32_combine):
// crc32c(A‖B) == crc32c_multiply(crc_a, crc32c_shift_factor(len_b)) ^ crc_b.
inline std::uint32_t crc32c_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::uint64_t len_b) noexcept {
  return crc32c_multiply(crc_a, crc32c_shift_factor(len_b)) ^ crc_b;
}

}  // namespace saker
