#pragma once
// The rows of a CSV text (RFC 4180): cells separated by commas, double-quoted cells that may hold commas, line
// breaks and "" for a quote; LF or CRLF line ends. Shared by the tables stages load (inventory, user directory).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace saker {

class CsvReader {
 public:
  // `max_cell`: a longer cell is an error (the text is never read in part).
  CsvReader(std::string_view text, std::size_t max_cell) : text_(text), max_cell_(max_cell) {}
  // The next row's cells; false at the end of the text or on an error (then error() says why).
  bool next(std::vector<std::string>& cells);
  const std::string& error() const noexcept { return error_; }
  // The line the last row began on, and the last line it used (1-based; a quoted cell may span lines).
  std::size_t row_line() const noexcept { return row_line_; }
  std::size_t line() const noexcept { return line_; }

 private:
  std::string_view text_;
  std::size_t max_cell_;
  std::size_t at_ = 0, line_ = 0, row_line_ = 0;
  std::string error_;
};

}  // namespace saker
