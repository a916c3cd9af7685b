#pragma once
// Lines of a text feed (list, csv), numbered from 1, without their line break (LF or CRLF).
#include <cstddef>
#include <string_view>

namespace saker::feed_detail {

class Lines {
 public:
  explicit Lines(std::string_view text) : rest_(text) {}
  bool next(std::string_view& line) noexcept {
    if (done_) return false;
    const auto nl = rest_.find('\n');
    line = rest_.substr(0, nl);
    if (nl == std::string_view::npos) {
      done_ = true;
      if (line.empty()) return false;  // the text ended with a line break
    } else {
      rest_.remove_prefix(nl + 1);
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++number_;
    return true;
  }
  std::size_t number() const noexcept { return number_; }

 private:
  std::string_view rest_;
  std::size_t number_ = 0;
  bool done_ = false;
};

constexpr bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

constexpr std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// The line without a comment (a line starting with '#', or '#' after whitespace), trimmed.
constexpr std::string_view strip_comment(std::string_view line) noexcept {
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || is_space(line[i - 1]))) {
      line = line.substr(0, i);
      break;
    }
  }
  return trim(line);
}

}  // namespace saker::feed_detail
