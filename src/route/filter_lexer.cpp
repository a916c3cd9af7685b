#include "route/filter_lexer.hpp"

namespace saker::filter_impl {
namespace {

constexpr std::size_t kShownBytes = 40;

bool is_letter(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

}  // namespace

void Scanner::skip_space() noexcept {
  while (pos_ < src_.size() && is_space(src_[pos_])) ++pos_;
}

bool Scanner::take(char c) noexcept {
  if (pos_ < src_.size() && src_[pos_] == c) {
    ++pos_;
    return true;
  }
  return false;
}

bool Scanner::take_keyword(std::string_view kw) noexcept {
  if (src_.substr(pos_, kw.size()) != kw) return false;
  const std::size_t after = pos_ + kw.size();
  if (after < src_.size() && (is_field_char(src_[after]) || src_[after] == '[')) return false;
  pos_ = after;
  return true;
}

std::string_view Scanner::field() noexcept {
  if (at_end() || !is_field_start(src_[pos_])) return {};
  std::size_t i = pos_ + 1;
  while (i < src_.size() && is_field_char(src_[i])) ++i;
  // An argument in brackets, as in proc.aname[2] or k8s.pod.label[app.kubernetes.io/name].
  if (i < src_.size() && src_[i] == '[') {
    std::size_t j = i + 1;
    while (j < src_.size() && src_[j] != ']' && !is_space(src_[j])) ++j;
    if (j < src_.size() && src_[j] == ']') i = j + 1;
  }
  const std::string_view f = src_.substr(pos_, i - pos_);
  pos_ = i;
  return f;
}

std::string_view Scanner::comparison() noexcept {
  if (at_end()) return {};
  const char c = src_[pos_];
  const char n = pos_ + 1 < src_.size() ? src_[pos_ + 1] : '\0';
  std::size_t len = 0;
  if (c == '=') {
    len = n == '=' ? 2 : 1;
  } else if (c == '!') {
    len = n == '=' ? 2 : 0;
  } else if (c == '<' || c == '>') {
    len = n == '=' ? 2 : 1;
  }
  const std::string_view op = src_.substr(pos_, len);
  pos_ += len;
  return op;
}

std::string_view Scanner::word() noexcept {
  std::size_t i = pos_;
  while (i < src_.size() && is_letter(src_[i])) ++i;
  const std::string_view w = src_.substr(pos_, i - pos_);
  pos_ = i;
  return w;
}

Scanner::ValueStatus Scanner::value(std::string& out) {
  out.clear();
  if (at_end()) return ValueStatus::None;
  const char q = src_[pos_];
  if (q == '"' || q == '\'') {
    for (std::size_t i = pos_ + 1; i < src_.size(); ++i) {
      const char c = src_[i];
      if (c == q) {
        pos_ = i + 1;
        return ValueStatus::Ok;
      }
      // Only \" \' \\ are escapes; any other backslash stays, so "\d+" reaches a regex intact.
      if (c == '\\' && i + 1 < src_.size() && (src_[i + 1] == '"' || src_[i + 1] == '\'' || src_[i + 1] == '\\')) {
        ++i;
      }
      out.push_back(src_[i]);
    }
    return ValueStatus::Unterminated;
  }
  const std::size_t end = bare_end(pos_);
  if (end == pos_) return ValueStatus::None;
  out.assign(src_.substr(pos_, end - pos_));
  pos_ = end;
  return ValueStatus::Ok;
}

std::size_t Scanner::bare_end(std::size_t from) const noexcept {
  while (from < src_.size() && !ends_bare(src_[from])) ++from;
  return from;
}

std::size_t Scanner::quoted_end(std::size_t from) const noexcept {
  const char q = src_[from];
  for (std::size_t i = from + 1; i < src_.size(); ++i) {
    if (src_[i] == '\\') {
      ++i;
    } else if (src_[i] == q) {
      return i + 1;
    }
  }
  return src_.size();
}

std::string Scanner::shorten(std::string_view s) {
  if (s.size() <= kShownBytes) return std::string(s);
  std::size_t cut = kShownBytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + "...";
}

std::string Scanner::describe(std::size_t at) const {
  if (at >= src_.size()) return "end of expression";
  const char c = src_[at];
  if (c == '(' || c == ')' || c == ',') return std::string{'"', c, '"'};
  if (c == '"' || c == '\'') return shorten(src_.substr(at, quoted_end(at) - at));  // already quoted
  std::size_t end = bare_end(at);
  if (end == at) end = at + 1;
  return '"' + shorten(src_.substr(at, end - at)) + '"';
}

std::size_t Scanner::column(std::size_t at) const noexcept {
  std::size_t col = 1;
  for (std::size_t i = 0; i < at && i < src_.size(); ++i) {
    if ((static_cast<unsigned char>(src_[i]) & 0xC0) != 0x80) ++col;
  }
  if (at > src_.size()) col += at - src_.size();
  return col;
}

}  // namespace saker::filter_impl
