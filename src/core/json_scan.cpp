#include "core/json_scan.hpp"

#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SAKER_SCAN_AVX2 1
#endif
#include <cstdint>

namespace saker {

namespace {

using Index = std::ptrdiff_t;

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The last index at or before `i` (and at or after `lo`) that is not whitespace; below `lo` when there is none.
Index skip_space(const char* p, Index i, Index lo) noexcept {
  while (i >= lo && is_space(p[i])) --i;
  return i;
}

// The last '"' in p[lo, end), or -1: sixteen bytes at a time from the end (SSE2), the rest one by one.
Index last_quote(const char* p, Index end, Index lo) noexcept {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  for (; end - lo >= 16; end -= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + end - 16));
    if (const unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)))) {
      return end - 16 + (31 - std::countl_zero(m));
    }
  }
#endif
  for (Index k = end - 1; k >= lo; --k) {
    if (p[k] == '"') return k;
  }
  return -1;
}

// p[i] is a string's closing quote: the index of its opening quote (at or after `lo`), or -1. A quote with an odd
// number of backslashes before it is inside the string.
Index string_start(const char* p, Index i, Index lo) noexcept {
  Index end = i;
  while (end > lo) {
    const Index k = last_quote(p, end, lo);
    if (k < 0) return -1;
    Index slashes = 0;
    while (k - 1 - slashes >= lo && p[k - 1 - slashes] == '\\') ++slashes;
    if (slashes % 2 == 0) return k;
    end = k;
  }
  return -1;
}

// p[i] is '}' or ']': the index of the bracket that opens it, or -1.
Index nested_start(const char* p, Index i, Index lo) noexcept {
  std::size_t depth = 0;
  for (; i >= lo; --i) {
    const char c = p[i];
    if (c == '"') {
      i = string_start(p, i, lo);
      if (i < 0) return -1;
    } else if (c == '}' || c == ']') {
      ++depth;
    } else if ((c == '{' || c == '[') && --depth == 0) {
      return i;
    }
  }
  return -1;
}

// p[i] is a string's opening quote: the index of its closing quote (before `n`), or -1.
Index string_end(const char* p, Index i, Index n) noexcept {
  Index from = i + 1;
  while (from < n) {
    const void* q = std::memchr(p + from, '"', static_cast<std::size_t>(n - from));
    if (!q) return -1;
    const Index k = static_cast<const char*>(q) - p;
    Index slashes = 0;
    while (k - 1 - slashes > i && p[k - 1 - slashes] == '\\') ++slashes;
    if (slashes % 2 == 0) return k;
    from = k + 1;
  }
  return -1;
}

// p[i] is '{' or '[': the index of the bracket that closes it (before `n`), or -1.
Index nested_end(const char* p, Index i, Index n) noexcept {
  std::size_t depth = 0;
  for (; i < n; ++i) {
    const char c = p[i];
    if (c == '"') {
      i = string_end(p, i, n);
      if (i < 0) return -1;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      return i;
    }
  }
  return -1;
}

// The first index at or after `i` (and before `n`) that is not whitespace; `n` when there is none.
Index skip_space_forward(const char* p, Index i, Index n) noexcept {
  while (i < n && is_space(p[i])) ++i;
  return i;
}

// The members of one object, from the last to the first.
class Members {
 public:
  explicit Members(std::string_view obj) noexcept : p_(obj.data()) {
    if (obj.size() >= 2 && obj.front() == '{' && obj.back() == '}') at_ = static_cast<Index>(obj.size()) - 2;
  }

  // The index of the last character of the next member's value; false when no member is left (or the text is not
  // an object). Does not move.
  bool value_last(Index& last) noexcept {
    if (at_ < 1) return false;
    at_ = skip_space(p_, at_, 1);
    if (at_ < 1) return false;
    last = at_;
    return true;
  }

  // Moves past the next member: its key (as written, between the quotes) and its value (as written).
  bool next(std::string_view& key, std::string_view& value) noexcept {
    Index last = 0;
    if (!value_last(last)) return false;
    const char c = p_[last];
    Index first = last;
    if (c == '"') {
      first = string_start(p_, last, 1);
    } else if (c == '}' || c == ']') {
      first = nested_start(p_, last, 1);
    } else {
      while (first - 1 >= 1 && !is_space(p_[first - 1]) && p_[first - 1] != ':') --first;
    }
    if (first < 1) return stop();
    value = std::string_view(p_ + first, static_cast<std::size_t>(last - first + 1));
    Index i = skip_space(p_, first - 1, 1);
    if (i < 1 || p_[i] != ':') return stop();
    i = skip_space(p_, i - 1, 1);
    if (i < 1 || p_[i] != '"') return stop();
    const Index open = string_start(p_, i, 1);
    if (open < 1) return stop();
    key = std::string_view(p_ + open + 1, static_cast<std::size_t>(i - open - 1));
    i = skip_space(p_, open - 1, 0);
    if (i > 0 && p_[i] == ',') {
      at_ = i - 1;
    } else if (i == 0) {  // the object's '{': that was the first member
      at_ = 0;
    } else {
      return stop();
    }
    return true;
  }

  const char* data() const noexcept { return p_; }

 private:
  bool stop() noexcept {
    at_ = 0;
    return false;
  }

  const char* p_;
  Index at_ = 0;  // the last index not read yet; below 1 once every member is read
};

}  // namespace

std::optional<std::string_view> first_priority(std::string_view obj) noexcept {
  // The members from the first on: keys are read byte by byte (they are short, and one with an escape ends the
  // search: it might spell "priority"), values are skipped by what they are.
  const char* p = obj.data();
  const Index n = static_cast<Index>(obj.size());
  if (n < 2 || p[0] != '{' || p[n - 1] != '}') return std::nullopt;
  const Index end = n - 1;  // the object's '}'
  for (Index i = 1;;) {
    i = skip_space_forward(p, i, end);
    if (i >= end || p[i] != '"') return std::nullopt;  // "{}", or not a key
    const Index k0 = i + 1;
    Index k = k0;
    while (k < end && p[k] != '"' && p[k] != '\\') ++k;
    if (k >= end || p[k] != '"') return std::nullopt;
    const bool is_priority = k - k0 == 8 && std::memcmp(p + k0, "priority", 8) == 0;
    i = skip_space_forward(p, k + 1, end);
    if (i >= end || p[i] != ':') return std::nullopt;
    i = skip_space_forward(p, i + 1, end);
    if (i >= end) return std::nullopt;
    const char c = p[i];
    Index last = i;
    if (is_priority) {
      if (c != '"') return std::nullopt;
      Index v = i + 1;
      while (v < end && p[v] != '"' && p[v] != '\\') ++v;
      if (v >= end || p[v] != '"') return std::nullopt;  // escapes in the value: the parser reads it
      return std::string_view(p + i + 1, static_cast<std::size_t>(v - i - 1));
    }
    if (c == '"') {
      last = string_end(p, i, end);
    } else if (c == '{' || c == '[') {
      last = nested_end(p, i, end);
    } else {
      while (last + 1 < end && !is_space(p[last + 1]) && p[last + 1] != ',') ++last;
    }
    if (last < 0) return std::nullopt;
    i = skip_space_forward(p, last + 1, end);
    if (i >= end || p[i] != ',') return std::nullopt;  // the last member, or not JSON
    ++i;
  }
}

namespace {

// A second key "priority" is either written plainly, as the same ten bytes (a "priority" inside a string has its
// quotes escaped), or with a \u escape: neither may appear. The scans look for both '"p' and '\u', a block at a time,
// and compare ten bytes where '"p' starts. `i` is where the block loop stopped; the rest is read byte by byte.
constexpr std::string_view kKey = "\"priority\"";

// p[j], p[j + 1] is '"p' or '\u': whether that is harmless (the start of another key or string).
bool harmless_pair(const char* p, std::size_t n, std::size_t j) noexcept {
  if (p[j] == '\\') return false;
  return !(n - j >= kKey.size() && std::memcmp(p + j, kKey.data(), kKey.size()) == 0);
}

bool no_priority_key_tail(const char* p, std::size_t n, std::size_t i) noexcept {
  for (; i + 1 < n; ++i) {
    if (((p[i] == '"' && p[i + 1] == 'p') || (p[i] == '\\' && p[i + 1] == 'u')) && !harmless_pair(p, n, i)) {
      return false;
    }
  }
  return true;
}

bool no_priority_key_sse2(const char* p, std::size_t n) noexcept {
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), letter_p = _mm_set1_epi8('p');
  const __m128i slash = _mm_set1_epi8('\\'), letter_u = _mm_set1_epi8('u');
  for (; i + 17 <= n; i += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 1));
    const __m128i hit = _mm_or_si128(_mm_and_si128(_mm_cmpeq_epi8(a, quote), _mm_cmpeq_epi8(b, letter_p)),
                                     _mm_and_si128(_mm_cmpeq_epi8(a, slash), _mm_cmpeq_epi8(b, letter_u)));
    for (auto m = static_cast<unsigned>(_mm_movemask_epi8(hit)); m; m &= m - 1) {
      if (!harmless_pair(p, n, i + static_cast<std::size_t>(std::countr_zero(m)))) return false;
    }
  }
#endif
  return no_priority_key_tail(p, n, i);
}

#if defined(SAKER_SCAN_AVX2)
// The same, 32 positions at a time, on processors that have AVX2 (chosen once, at run time).
__attribute__((target("avx2"))) bool no_priority_key_avx2(const char* p, std::size_t n) noexcept {
  std::size_t i = 0;
  const __m256i quote = _mm256_set1_epi8('"'), letter_p = _mm256_set1_epi8('p');
  const __m256i slash = _mm256_set1_epi8('\\'), letter_u = _mm256_set1_epi8('u');
  for (; i + 33 <= n; i += 32) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 1));
    const __m256i hit = _mm256_or_si256(_mm256_and_si256(_mm256_cmpeq_epi8(a, quote), _mm256_cmpeq_epi8(b, letter_p)),
                                        _mm256_and_si256(_mm256_cmpeq_epi8(a, slash), _mm256_cmpeq_epi8(b, letter_u)));
    for (auto m = static_cast<std::uint32_t>(_mm256_movemask_epi8(hit)); m; m &= m - 1) {
      if (!harmless_pair(p, n, i + static_cast<std::size_t>(std::countr_zero(m)))) return false;
    }
  }
  return no_priority_key_tail(p, n, i);
}
#endif

using NoPriorityKey = bool (*)(const char*, std::size_t) noexcept;

NoPriorityKey pick_no_priority_key() noexcept {
#if defined(SAKER_SCAN_AVX2)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) return no_priority_key_avx2;
#endif
  return no_priority_key_sse2;
}

const NoPriorityKey no_priority_key = pick_no_priority_key();

}  // namespace

bool names_no_priority(std::string_view text) noexcept { return no_priority_key(text.data(), text.size()); }

bool names_no_priority_portable(std::string_view text) noexcept {
  return no_priority_key_sse2(text.data(), text.size());
}

bool no_priority_after(std::string_view obj, std::string_view first) noexcept {
  // `first` is what first_priority() read, and no key before it has an escape: a second "priority", or one spelled
  // with escapes, can only follow its value. What precedes it (earlier members, and objects nested in them) cannot
  // hold another top-level key.
  const std::size_t after = static_cast<std::size_t>(first.data() + first.size() - obj.data()) + 1;
  return after <= obj.size() && no_priority_key(obj.data() + after, obj.size() - after);
}

namespace {

// p[close] closes an object or array: whether it is empty (the first non-space character before it opens it).
bool empty_before(const char* p, Index close) noexcept {
  return p[skip_space(p, close - 1, 0)] == (p[close] == '}' ? '{' : '[');
}

}  // namespace

SplicePoints scan_splice_points(std::string_view obj, int fields_from_end, int tags_from_end) noexcept {
  SplicePoints sp;
  Members members(obj);
  const char* p = members.data();
  std::string_view key, value;
  for (int k = 0; fields_from_end >= k || tags_from_end >= k; ++k) {
    Index last = 0;
    if (!members.value_last(last)) break;
    if (k == fields_from_end && p[last] == '}') sp.fields_close = static_cast<std::size_t>(last), sp.fields_empty = empty_before(p, last);
    if (k == tags_from_end && p[last] == ']') sp.tags_close = static_cast<std::size_t>(last), sp.tags_empty = empty_before(p, last);
    if (k >= fields_from_end && k >= tags_from_end) break;  // found both: the rest need not be read
    if (!members.next(key, value)) break;
  }
  return sp;
}

SplicePoints scan_splice_points(std::string_view obj) noexcept {
  SplicePoints sp;
  // Positions count from obj's first byte; the members are read from the object's brackets.
  std::size_t lead = 0;
  while (lead < obj.size() && is_space(obj[lead])) ++lead;
  std::size_t end = obj.size();
  while (end > lead && is_space(obj[end - 1])) --end;
  Members members(obj.substr(lead, end - lead));
  const char* p = members.data();
  bool fields = false, tags = false;  // found: the last member of that name holding an object (an array)
  std::string_view key, value;
  while ((!fields || !tags) && members.next(key, value)) {
    const Index last = static_cast<Index>(value.data() - p) + static_cast<Index>(value.size()) - 1;
    if (!fields && key == "output_fields" && value.front() == '{') {
      fields = true;
      sp.fields_close = lead + static_cast<std::size_t>(last), sp.fields_empty = empty_before(p, last);
    } else if (!tags && key == "tags" && value.front() == '[') {
      tags = true;
      sp.tags_close = lead + static_cast<std::size_t>(last), sp.tags_empty = empty_before(p, last);
    }
  }
  return sp;
}

}  // namespace saker
