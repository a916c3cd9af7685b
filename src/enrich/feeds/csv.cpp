#include "enrich/feeds/csv.hpp"

#include <fmt/format.h>

namespace saker {

bool CsvReader::next(std::vector<std::string>& cells) {
  cells.clear();
  if (at_ >= text_.size() || !error_.empty()) return false;
  std::string cell;
  bool quoted = false, was_quoted = false;
  row_line_ = ++line_;
  while (at_ < text_.size()) {
    const char c = text_[at_++];
    if (quoted) {
      if (c == '"') {
        if (at_ < text_.size() && text_[at_] == '"') {
          cell.push_back('"');
          ++at_;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line_;
        cell.push_back(c);
      }
    } else if (c == '"' && cell.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (c == ',') {
      cells.push_back(std::move(cell));
      cell.clear();
      was_quoted = false;
    } else if (c == '\n') {
      break;
    } else if (c == '\r' && at_ < text_.size() && text_[at_] == '\n') {
      continue;
    } else {
      cell.push_back(c);
    }
    if (cell.size() > max_cell_) {
      error_ = fmt::format("a cell is over {} bytes", max_cell_);
      return false;
    }
  }
  if (quoted) {
    error_ = "a quoted cell is not closed";
    return false;
  }
  cells.push_back(std::move(cell));
  return true;
}

}  // namespace saker
