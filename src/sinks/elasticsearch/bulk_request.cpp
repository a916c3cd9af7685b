#include "sinks/elasticsearch/bulk_request.hpp"

#include <ctime>

#include <fmt/format.h>

#include "core/json_text.hpp"
#include "core/time.hpp"

namespace saker {
namespace {

constexpr std::string_view kTimeFields = "YmdHjGV%";
constexpr std::string_view kForbidden = "\\/*?\"<>|,#: ";
constexpr std::int64_t kNsPerHour = 3600LL * 1000000000LL;

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

Result<IndexPattern> IndexPattern::parse(std::string_view pattern) {
  if (pattern.empty()) return make_error("bad_index", "must not be empty");
  IndexPattern p;
  p.text_ = std::string(pattern);
  std::string literal;  // the pattern without its fields, for the character rules
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c != '%') {
      literal.push_back(c);
      continue;
    }
    if (i + 1 >= pattern.size() || kTimeFields.find(pattern[i + 1]) == std::string_view::npos) {
      return make_error("bad_index", fmt::format("\"{}\": unknown field \"%{}\"; use %Y %m %d %H %j %G %V or %%", pattern,
                                                 i + 1 < pattern.size() ? std::string(1, pattern[i + 1]) : ""));
    }
    if (pattern[i + 1] != '%') p.timed_ = true;
    ++i;
  }
  for (const char c : literal) {
    if (c >= 'A' && c <= 'Z') return make_error("bad_index", fmt::format("\"{}\": index names must be lowercase", pattern));
    if (kForbidden.find(c) != std::string_view::npos || static_cast<unsigned char>(c) < 0x20) {
      return make_error("bad_index",
                        fmt::format("\"{}\": index names must not contain \\ / * ? \" < > | , # : or spaces", pattern));
    }
  }
  const char first = pattern.front();
  if (first == '-' || first == '_' || first == '+') {
    return make_error("bad_index", fmt::format("\"{}\": index names must not start with -, _ or +", pattern));
  }
  if (pattern == "." || pattern == "..") return make_error("bad_index", "must not be . or ..");
  if (pattern.size() > 200) return make_error("bad_index", "is too long (Elasticsearch allows 255 bytes)");
  return p;
}

std::string IndexPattern::expand(std::int64_t time_ns) const {
  if (!timed_) {
    std::string out;
    for (std::size_t i = 0; i < text_.size(); ++i) {
      out.push_back(text_[i]);
      if (text_[i] == '%') ++i;  // "%%"
    }
    return out;
  }
  const std::time_t secs = static_cast<std::time_t>(floor_div(time_ns, 1000000000LL));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::string out(text_.size() + 64, '\0');
  const std::size_t n = std::strftime(out.data(), out.size(), text_.c_str(), &tm);
  out.resize(n);
  return out;
}

void add_es_timestamp(std::string& doc, std::int64_t time_ns) {
  // A JSON string cannot contain the unescaped `"@timestamp":`, so finding it means the key exists.
  if (doc.empty() || doc.front() != '{' || doc.find("\"@timestamp\":") != std::string::npos) return;
  std::size_t body = 1;
  while (body < doc.size() && (doc[body] == ' ' || doc[body] == '\t')) ++body;
  std::string ts = "\"@timestamp\":\"" + format_rfc3339_ms(time_ns) + "\"";
  if (body < doc.size() && doc[body] != '}') ts.push_back(',');
  doc.insert(1, ts);
}

void BulkBuilder::append(const Alert& alert, std::string& out) {
  const std::int64_t hour = floor_div(alert.time_ns, kNsPerHour);
  if (hour != cached_hour_ || cached_index_.empty()) {
    cached_hour_ = hour;
    cached_index_ = index_.expand(alert.time_ns);
  }
  out.append(op_ == EsOpType::create ? "{\"create\":{\"_index\":" : "{\"index\":{\"_index\":");
  append_json_string(out, cached_index_);
  out.append(",\"_id\":");
  append_json_string(out, alert.uuid);
  out.append("}}\n");
  doc_.clear();
  formatter_.format(alert, doc_);
  if (add_timestamp_) add_es_timestamp(doc_, alert.time_ns);
  // Raw line breaks can only be whitespace between JSON tokens, but would end the NDJSON line.
  for (char& c : doc_) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  out.append(doc_).push_back('\n');
}

}  // namespace saker
