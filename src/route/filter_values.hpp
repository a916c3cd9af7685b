#pragma once
// How the filter reads alert values: exact numbers, numbers as text, case-insensitive search, `in` lists.
#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/alert.hpp"

namespace saker::filter_impl {

// A number from the filter or an alert; Uint only above INT64_MAX, as the decoder stores them.
struct Number {
  enum class Kind : std::uint8_t { None, Int, Uint, Double };
  Kind kind = Kind::None;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double d = 0;

  static Number of_int(std::int64_t v) noexcept {
    Number n;
    n.kind = Kind::Int;
    n.i = v;
    return n;
  }
};

// "42", "-1", "18446744073709551615", "0.5", "1e3"; None for anything else ("nan", "inf", "0x10", "+1", "1.2.3").
Number parse_number(std::string_view text) noexcept;
// `v` must be a number (Value::is_number()).
Number number_of(const Value& v) noexcept;
// Exact for every mix of int64, uint64 and double: 2^63+1 and 2^63 never compare equal.
std::partial_ordering compare(const Number& a, const Number& b) noexcept;

// Room for any int64, uint64 or shortest round-trip double.
using TextBuf = std::array<char, 32>;
// The value as the filter compares it: strings (and objects/arrays as JSON) verbatim, numbers in decimal,
// true/false. Numbers are rendered into `buf`, so the view lives as long as `buf`.
std::string_view text_of(const Value& v, TextBuf& buf) noexcept;

// ASCII case-insensitive substring search; `lower_needle` is already lower-case.
bool icontains(std::string_view haystack, std::string_view lower_needle) noexcept;
std::string ascii_lower(std::string_view s);

// The list of `in (...)` / `intersects (...)`, sorted once so a 100,000-item list costs a binary search.
class ValueSet {
 public:
  void add(std::string text);
  void freeze();  // call once, after the last add()
  std::size_t size() const noexcept { return texts_.size(); }
  // As `=` would: numerically when both are numbers, else as text.
  bool contains(const Value& v) const noexcept;

 private:
  std::vector<std::string> texts_;
  std::vector<Number> numbers_;  // the items that are numbers
};

}  // namespace saker::filter_impl
