#include "route/filter_values.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace saker::filter_impl {
namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

unsigned char lower(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c + 32) : c;
}

// Exact int64-vs-double: compare integral parts as integers, then the (exact) fractional remainder.
std::partial_ordering compare_int_double(std::int64_t i, double d) noexcept {
  if (std::isnan(d)) return std::partial_ordering::unordered;
  if (d >= 9223372036854775808.0) return std::partial_ordering::less;      // 2^63
  if (d < -9223372036854775808.0) return std::partial_ordering::greater;   // below -2^63
  const double t = std::trunc(d);
  const auto ti = static_cast<std::int64_t>(t);
  if (i != ti) return i <=> ti;
  return 0.0 <=> (d - t);
}

std::partial_ordering compare_uint_double(std::uint64_t u, double d) noexcept {
  if (std::isnan(d)) return std::partial_ordering::unordered;
  if (d < 0) return std::partial_ordering::greater;
  if (d >= 18446744073709551616.0) return std::partial_ordering::less;  // 2^64
  const double t = std::trunc(d);
  const auto tu = static_cast<std::uint64_t>(t);
  if (u != tu) return u <=> tu;
  return 0.0 <=> (d - t);
}

std::partial_ordering flip(std::partial_ordering o) noexcept { return 0 <=> o; }

}  // namespace

Number parse_number(std::string_view t) noexcept {
  Number n;
  if (t.empty()) return n;
  // from_chars would take "inf" and "nan"; a number starts with a digit, "-" or "." followed by a digit.
  std::size_t k = t[0] == '-' ? 1 : 0;
  if (k < t.size() && t[k] == '.') ++k;
  if (k >= t.size() || !is_digit(t[k])) return n;
  const char* b = t.data();
  const char* e = b + t.size();
  if (auto [p, ec] = std::from_chars(b, e, n.i); ec == std::errc{} && p == e) {
    n.kind = Number::Kind::Int;
  } else if (auto [pu, ecu] = std::from_chars(b, e, n.u); ecu == std::errc{} && pu == e) {
    n.kind = Number::Kind::Uint;
  } else if (auto [pd, ecd] = std::from_chars(b, e, n.d); ecd == std::errc{} && pd == e && std::isfinite(n.d)) {
    n.kind = Number::Kind::Double;
  }
  return n;
}

Number number_of(const Value& v) noexcept {
  Number n;
  switch (v.kind) {
    case Value::Kind::Int: n.kind = Number::Kind::Int; n.i = v.i; break;
    case Value::Kind::Uint: n.kind = Number::Kind::Uint; n.u = v.u; break;
    case Value::Kind::Double: n.kind = Number::Kind::Double; n.d = v.d; break;
    default: break;
  }
  return n;
}

std::partial_ordering compare(const Number& a, const Number& b) noexcept {
  using K = Number::Kind;
  if (a.kind == K::None || b.kind == K::None) return std::partial_ordering::unordered;
  if (a.kind == K::Double) {
    if (b.kind == K::Double) return a.d <=> b.d;
    return flip(b.kind == K::Int ? compare_int_double(b.i, a.d) : compare_uint_double(b.u, a.d));
  }
  if (b.kind == K::Double) return a.kind == K::Int ? compare_int_double(a.i, b.d) : compare_uint_double(a.u, b.d);
  if (a.kind == K::Int && b.kind == K::Int) return a.i <=> b.i;
  if (a.kind == K::Uint && b.kind == K::Uint) return a.u <=> b.u;
  if (a.kind == K::Int) return a.i < 0 ? std::partial_ordering::less : static_cast<std::uint64_t>(a.i) <=> b.u;
  return b.i < 0 ? std::partial_ordering::greater : a.u <=> static_cast<std::uint64_t>(b.i);
}

std::string_view text_of(const Value& v, TextBuf& buf) noexcept {
  char* const b = buf.data();
  switch (v.kind) {
    case Value::Kind::Bool: return v.boolean ? "true" : "false";
    case Value::Kind::Int: return {b, static_cast<std::size_t>(std::to_chars(b, b + buf.size(), v.i).ptr - b)};
    case Value::Kind::Uint: return {b, static_cast<std::size_t>(std::to_chars(b, b + buf.size(), v.u).ptr - b)};
    case Value::Kind::Double: {
      // The same rendering as Value::to_text(), without its allocation.
      const auto r = fmt::format_to_n(b, buf.size(), "{}", v.d);
      return {b, std::min(static_cast<std::size_t>(r.size), buf.size())};
    }
    default: return v.text;
  }
}

bool icontains(std::string_view h, std::string_view n) noexcept {
  if (n.empty()) return true;
  if (h.size() < n.size()) return false;
  const auto first = static_cast<unsigned char>(n[0]);
  const std::size_t last = h.size() - n.size();
  for (std::size_t i = 0; i <= last; ++i) {
    if (lower(static_cast<unsigned char>(h[i])) != first) continue;
    std::size_t j = 1;
    while (j < n.size() && lower(static_cast<unsigned char>(h[i + j])) == static_cast<unsigned char>(n[j])) ++j;
    if (j == n.size()) return true;
  }
  return false;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(lower(static_cast<unsigned char>(c)));
  return out;
}

void ValueSet::add(std::string text) {
  const Number n = parse_number(text);
  if (n.kind != Number::Kind::None) numbers_.push_back(n);
  texts_.push_back(std::move(text));
}

void ValueSet::freeze() {
  std::sort(texts_.begin(), texts_.end());
  texts_.erase(std::unique(texts_.begin(), texts_.end()), texts_.end());
  std::sort(numbers_.begin(), numbers_.end(), [](const Number& a, const Number& b) { return compare(a, b) < 0; });
}

bool ValueSet::contains(const Value& v) const noexcept {
  if (v.is_number() && !numbers_.empty()) {
    const Number n = number_of(v);
    auto it = std::lower_bound(numbers_.begin(), numbers_.end(), n,
                               [](const Number& a, const Number& b) { return compare(a, b) < 0; });
    if (it != numbers_.end() && compare(*it, n) == 0) return true;
  }
  TextBuf buf;
  const std::string_view t = text_of(v, buf);
  auto it = std::lower_bound(texts_.begin(), texts_.end(), t,
                             [](const std::string& a, std::string_view b) { return std::string_view(a) < b; });
  return it != texts_.end() && *it == t;
}

}  // namespace saker::filter_impl
