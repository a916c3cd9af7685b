#include "core/uuid.hpp"

#define XXH_INLINE_ALL  // header-only: no link dependency, and the hash inlines
#include <xxhash.h>

namespace saker {

std::string alert_uuid(std::string_view rule, std::string_view time, std::string_view hostname,
                       std::string_view output) {
  XXH3_state_t state;
  XXH3_128bits_reset(&state);
  const char sep = '\0';  // keeps ("ab","c") and ("a","bc") apart
  for (std::string_view part : {rule, time, hostname, output}) {
    XXH3_128bits_update(&state, part.data(), part.size());
    XXH3_128bits_update(&state, &sep, 1);
  }
  const XXH128_hash_t h = XXH3_128bits_digest(&state);
  unsigned char b[16];
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<unsigned char>(h.high64 >> (56 - 8 * i));
    b[8 + i] = static_cast<unsigned char>(h.low64 >> (56 - 8 * i));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x80);  // version 8
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xF]);
  }
  return out;
}

}  // namespace saker
