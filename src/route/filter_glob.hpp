#pragma once
// Glob patterns for the filter's `glob` operator: * ? [abc] [a-z] [!x] and \ to escape.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace saker::filter_impl {

class Glob {
 public:
  // The Error's message says what is wrong with the pattern; its column is left for the caller to set.
  static Result<Glob> compile(std::string_view pattern);

  // Whole-text match. Backtracks only to the latest `*`, so time is at most text × pattern, never exponential.
  bool match(std::string_view text) const noexcept;

 private:
  enum class Kind : std::uint8_t { Char, Any, Star, Class };
  struct Item {
    Kind kind;
    unsigned char c;     // Char
    std::uint32_t cls;   // Class: index into classes_
  };
  using ByteSet = std::array<std::uint64_t, 4>;

  static bool has(const ByteSet& s, unsigned char c) noexcept { return (s[c >> 6] >> (c & 63)) & 1U; }
  static void add(ByteSet& s, unsigned char c) noexcept { s[c >> 6] |= std::uint64_t{1} << (c & 63); }

  std::vector<Item> items_;
  std::vector<ByteSet> classes_;
};

}  // namespace saker::filter_impl
