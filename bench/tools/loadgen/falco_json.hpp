#pragma once
// Writing Falco's JSON by hand: string escaping, RFC 3339 nanosecond times, field values.
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace saker::loadgen {

// Appends `s` as a JSON string body (no quotes): escapes '"', '\\' and control characters; UTF-8 passes through.
inline void append_json_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += ch;
        }
    }
  }
}

// RFC 3339 UTC with nanoseconds, "2025-06-02T08:00:00.123456789Z"; `clock_only` gives "08:00:00.123456789".
inline void append_time(std::string& out, std::int64_t ns, bool clock_only) {
  const std::int64_t secs = ns / 1000000000, nanos = ns % 1000000000;
  std::int64_t days = secs / 86400, sod = secs % 86400;
  // days since 1970-01-01 -> civil date (H. Hinnant's algorithm)
  days += 719468;
  const std::int64_t era = days / 146097, doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2);
  if (clock_only) {
    fmt::format_to(std::back_inserter(out), "{:02}:{:02}:{:02}.{:09}", sod / 3600, sod / 60 % 60, sod % 60, nanos);
  } else {
    fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", y, m, d, sod / 3600,
                   sod / 60 % 60, sod % 60, nanos);
  }
}

// A field's value in output_fields: Falco writes strings, integers, booleans and null (no value).
struct FieldValue {
  enum class Kind { Null, Str, Int, Bool } kind = Kind::Null;
  std::string str;
  std::int64_t num = 0;
};

// As Falco prints a field in the `output` text: strings verbatim, null as <NA>.
inline void append_text(std::string& out, const FieldValue& v) {
  switch (v.kind) {
    case FieldValue::Kind::Null: out += "<NA>"; break;
    case FieldValue::Kind::Str: out += v.str; break;
    case FieldValue::Kind::Int: fmt::format_to(std::back_inserter(out), "{}", v.num); break;
    case FieldValue::Kind::Bool: out += v.num ? "true" : "false"; break;
  }
}

// As Falco writes a field in output_fields.
inline void append_json(std::string& out, const FieldValue& v) {
  switch (v.kind) {
    case FieldValue::Kind::Null: out += "null"; break;
    case FieldValue::Kind::Str:
      out += '"';
      append_json_escaped(out, v.str);
      out += '"';
      break;
    case FieldValue::Kind::Int: fmt::format_to(std::back_inserter(out), "{}", v.num); break;
    case FieldValue::Kind::Bool: out += v.num ? "true" : "false"; break;
  }
}

}  // namespace saker::loadgen
