#include "core/json_text.hpp"

#include <bit>
#include <cstdint>
#include <cstring>

#include <simdjson.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace saker {
namespace {

// The bytes among 8 that are a control character, '"' or '\\', or (Replace) not ASCII, as their high bits: nonzero
// exactly when one is; the lowest bit set marks the first such byte (the borrows of the subtractions can flag a
// byte above a flagged one, never one below it).
template <bool Replace>
inline std::uint64_t needs_escape(std::uint64_t v) noexcept {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
  const std::uint64_t control = (v - kOnes * 0x20) & ~v & kHighs;
  const std::uint64_t q = v ^ (kOnes * '"'), b = v ^ (kOnes * '\\');
  const std::uint64_t high = Replace ? v & kHighs : 0;
  return control | high | ((q - kOnes) & ~q & kHighs) | ((b - kOnes) & ~b & kHighs);
}

#if defined(__SSE2__)
// The same for 16 bytes, a bit each (the lowest set: the first byte that needs a look).
template <bool Replace>
inline unsigned needs_escape16(const char* p) noexcept {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
  const __m128i slash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
  const __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1F)), _mm_set1_epi8(0x1F));  // v <= 0x1F
  unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, slash), control)));
  if constexpr (Replace) m |= static_cast<unsigned>(_mm_movemask_epi8(v));  // not ASCII
  return m;
}
#endif

// Length of the valid UTF-8 sequence starting at s[i] (a byte >= 0x80), or 0.
std::size_t utf8_length(std::string_view s, std::size_t i) noexcept {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  unsigned min = 0;
  unsigned cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, cp = c & 0x1F, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, cp = c & 0x0F, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (n > s.size() - i) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// One loop for both modes; the Keep instance is the formats' hot path and tests no byte for UTF-8.
template <bool Replace>
void append_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the current stretch that needs no escaping
  for (std::size_t i = 0; i < s.size(); ++i) {
    // Sixteen (SSE2) or eight bytes at a time while none needs escaping (the usual case), one at a time around
    // those that do.
    bool found = false;  // i is at a byte that needs a look
#if defined(__SSE2__)
    for (; i + 16 <= s.size(); i += 16) {
      if (const unsigned m = needs_escape16<Replace>(s.data() + i)) {
        i += static_cast<std::size_t>(std::countr_zero(m));
        found = true;
        break;
      }
    }
#endif
    while (!found && i + 8 <= s.size()) {
      std::uint64_t v;
      std::memcpy(&v, s.data() + i, 8);
      if (const std::uint64_t m = needs_escape<Replace>(v)) {
        // Straight to the first byte that needs a look: the ones before it need none.
        if constexpr (std::endian::native == std::endian::little) i += static_cast<std::size_t>(std::countr_zero(m)) / 8;
        break;
      }
      i += 8;
    }
    if (i >= s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') {
      if (!Replace || c < 0x80) continue;
      if (const std::size_t n = utf8_length(s, i)) {
        i += n - 1;
        continue;
      }
      out.append(s.data() + run, i - run);
      run = i + 1;
      out.append("\\ufffd");
      continue;
    }
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      default: {
        const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(esc, 6);
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

}  // namespace

void append_json_string(std::string& out, std::string_view s, InvalidUtf8 invalid) {
  if (invalid == InvalidUtf8::Replace) {
    append_escaped<true>(out, s);
  } else {
    append_escaped<false>(out, s);
  }
}

void append_json_string_array(std::string& out, std::span<const std::string_view> items) {
  out.push_back('[');
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out.push_back(',');
    append_json_string(out, items[i]);
  }
  out.push_back(']');
}

bool valid_utf8(std::string_view s) noexcept {
  std::uint64_t high = 0;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t v;
    std::memcpy(&v, s.data() + i, 8);
    high |= v;
  }
  for (; i < s.size(); ++i) high |= static_cast<unsigned char>(s[i]);
  return !(high & 0x8080808080808080ULL) || simdjson::validate_utf8(s.data(), s.size());
}

}  // namespace saker
