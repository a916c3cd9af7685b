#pragma once
// Reads a filter expression piece by piece. The parser says which piece it expects next (field, operator,
// value), because bare values such as /etc/shadow, key1:value1 or -1 would not survive a context-free tokenizer.
#include <cstddef>
#include <string>
#include <string_view>

namespace saker::filter_impl {

class Scanner {
 public:
  explicit Scanner(std::string_view src) noexcept : src_(src) {}

  std::string_view src() const noexcept { return src_; }
  std::size_t pos() const noexcept { return pos_; }
  bool at_end() const noexcept { return pos_ >= src_.size(); }
  char peek() const noexcept { return at_end() ? '\0' : src_[pos_]; }

  void skip_space() noexcept;
  bool take(char c) noexcept;  // consumes `c` when it comes next
  // Consumes the lower-case keyword `kw` when it comes next as a whole word ("not(" yes, "notice" no).
  bool take_keyword(std::string_view kw) noexcept;

  // proc.cmdline, k8s.ns.name, proc.aname[2], evt.arg.flags; "" (nothing consumed) when none comes next.
  std::string_view field() noexcept;
  // = == != < <= > >=; "" (nothing consumed) when none comes next.
  std::string_view comparison() noexcept;
  // A run of ASCII letters (an operator word such as contains); "" when none comes next.
  std::string_view word() noexcept;

  enum class ValueStatus { Ok, None, Unterminated };
  // A quoted string ("..." or '...', with \" \' \\ escapes) or a bare word. On Unterminated nothing is consumed.
  ValueStatus value(std::string& out);

  // What is at `at`, for error messages: end of expression, "(", "\"a string\"" or the bare word there.
  std::string describe(std::size_t at) const;
  // 1-based column of byte offset `at`, counting UTF-8 characters as one column each.
  std::size_t column(std::size_t at) const noexcept;

  static bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  }
  // Where a bare value ends.
  static bool ends_bare(char c) noexcept {
    return is_space(c) || c == '(' || c == ')' || c == ',' || c == '"' || c == '\'';
  }
  static bool is_field_start(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }
  static bool is_field_char(char c) noexcept {
    return is_field_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
  }
  // Shortens `s` to a readable length for a message, cutting on a UTF-8 character boundary.
  static std::string shorten(std::string_view s);

 private:
  std::size_t bare_end(std::size_t from) const noexcept;
  std::size_t quoted_end(std::size_t from) const noexcept;  // one past the closing quote, or src_.size()

  std::string_view src_;
  std::size_t pos_ = 0;
};

}  // namespace saker::filter_impl
