#pragma once
// Building `_bulk` request bodies: one action line and one source line per alert, each ending in "\n"
// (NDJSON, Content-Type application/x-ndjson), the final line included, as Elasticsearch and OpenSearch require.
//   {"index":{"_index":"falco-2024.05.07","_id":"<the alert's uuid>"}}
//   {"@timestamp":"2024-05-07T18:54:19.341Z", …the formatted alert…}
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/alert.hpp"
#include "core/result.hpp"
#include "format/formatter.hpp"

namespace saker {

enum class EsOpType { index, create };  // create: fails (409) when the _id exists; required by data streams

// An index name with strftime-like fields taken from the alert's time in UTC: %Y %m %d %H %j (day of year),
// %G %V (ISO week-year and week) and %% — e.g. "falco-%Y.%m.%d" -> "falco-2024.05.07".
class IndexPattern {
 public:
  // Checks the pattern against Elasticsearch's index-name rules (lowercase; none of \ / * ? " < > | , # : or
  // space; not starting with - _ +; not . or ..).
  static Result<IndexPattern> parse(std::string_view pattern);
  std::string expand(std::int64_t time_ns) const;
  const std::string& text() const noexcept { return text_; }
  bool has_time_fields() const noexcept { return timed_; }

 private:
  std::string text_;
  bool timed_ = false;
};

class BulkBuilder {
 public:
  BulkBuilder(const IndexPattern& index, EsOpType op, bool add_timestamp, const Formatter& formatter)
      : index_(index), op_(op), add_timestamp_(add_timestamp), formatter_(formatter) {}

  // Appends the alert's action line and source line (both ending in "\n").
  void append(const Alert& alert, std::string& out);

 private:
  const IndexPattern& index_;
  EsOpType op_;
  bool add_timestamp_;
  const Formatter& formatter_;
  std::string doc_;  // scratch
  std::int64_t cached_hour_ = INT64_MIN;  // index names change at most hourly: expand once per hour seen
  std::string cached_index_;
};

// "@timestamp" added as the first key of a JSON object document that has none (data streams and Kibana need it).
void add_es_timestamp(std::string& doc, std::int64_t time_ns);

}  // namespace saker
