#pragma once
// CRC-32C (Castagnoli), the checksum of disk-buffer records. Debian 12 packages no C/C++ CRC-32C library,
// so this is the one hand-written piece: SSE4.2's crc32 instruction when the CPU has it, a table otherwise.
#include <cstddef>
#include <cstdint>

namespace saker {

std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc = 0) noexcept;

}  // namespace saker
