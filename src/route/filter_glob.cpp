#include "route/filter_glob.hpp"

#include <fmt/format.h>

namespace saker::filter_impl {

Result<Glob> Glob::compile(std::string_view p) {
  Glob g;
  std::size_t i = 0;
  while (i < p.size()) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (c == '*') {
      // Consecutive stars match what one star does; folding them keeps matching linear in practice.
      if (g.items_.empty() || g.items_.back().kind != Kind::Star) g.items_.push_back({Kind::Star, 0, 0});
      ++i;
    } else if (c == '?') {
      g.items_.push_back({Kind::Any, 0, 0});
      ++i;
    } else if (c == '\\' && i + 1 < p.size()) {
      g.items_.push_back({Kind::Char, static_cast<unsigned char>(p[i + 1]), 0});
      i += 2;
    } else if (c == '[') {
      ByteSet set{};
      std::size_t j = i + 1;
      const bool negate = j < p.size() && (p[j] == '!' || p[j] == '^');
      if (negate) ++j;
      bool first = true;  // a "]" right after "[" or "[!" is a literal, as in fnmatch
      for (;;) {
        if (j >= p.size()) {
          return make_error("filter_syntax", fmt::format("the \"[\" at position {} of the pattern has no closing \"]\"",
                                                         i + 1));
        }
        auto lo = static_cast<unsigned char>(p[j]);
        if (lo == ']' && !first) break;
        first = false;
        if (lo == '\\' && j + 1 < p.size()) lo = static_cast<unsigned char>(p[++j]);
        if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
          const auto hi = static_cast<unsigned char>(p[j + 2]);
          if (hi < lo) {
            return make_error("filter_syntax", fmt::format("the range \"{}-{}\" in the pattern runs backwards",
                                                           static_cast<char>(lo), static_cast<char>(hi)));
          }
          for (unsigned b = lo; b <= hi; ++b) add(set, static_cast<unsigned char>(b));
          j += 3;
        } else {
          add(set, lo);
          ++j;
        }
      }
      if (negate) {
        for (auto& w : set) w = ~w;
      }
      g.items_.push_back({Kind::Class, 0, static_cast<std::uint32_t>(g.classes_.size())});
      g.classes_.push_back(set);
      i = j + 1;
    } else {
      g.items_.push_back({Kind::Char, c, 0});
      ++i;
    }
  }
  return g;
}

bool Glob::match(std::string_view text) const noexcept {
  const std::size_t np = items_.size();
  const std::size_t nt = text.size();
  std::size_t px = 0, tx = 0;
  // Where to resume after a mismatch: at the latest star, with it swallowing one more byte.
  std::size_t star_px = 0, star_tx = 0;
  bool have_star = false;
  while (px < np || tx < nt) {
    if (px < np) {
      const Item& it = items_[px];
      if (it.kind == Kind::Star) {
        have_star = true;
        star_px = px;
        star_tx = tx + 1;
        ++px;
        continue;
      }
      if (tx < nt) {
        const auto c = static_cast<unsigned char>(text[tx]);
        const bool ok = it.kind == Kind::Any || (it.kind == Kind::Char && it.c == c) ||
                        (it.kind == Kind::Class && has(classes_[it.cls], c));
        if (ok) {
          ++px;
          ++tx;
          continue;
        }
      }
    }
    if (have_star && star_tx <= nt) {
      px = star_px;
      tx = star_tx;
      continue;
    }
    return false;
  }
  return true;
}

}  // namespace saker::filter_impl
