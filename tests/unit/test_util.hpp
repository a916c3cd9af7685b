#pragma once
// Helpers shared by the unit tests.
#include <fstream>
#include <stdexcept>
#include <sstream>
#include <string>

#include "core/decode.hpp"
#include "format/json.hpp"

namespace saker::test {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string data_path(const std::string& rel) { return std::string(SAKER_SOURCE_DIR) + "/tests/data/" + rel; }

// Decodes or fails the test with the decoder's reason.
inline AlertPtr decode_ok(std::string_view json) {
  static thread_local Decoder decoder;
  auto r = decoder.decode(json);
  if (!r) throw std::runtime_error("decode failed: " + r.error().code + ": " + r.error().message);
  return std::move(r).value();
}

// A field's value as filters and templates see it (Value::to_text), or "<missing>" when lookup() finds none.
inline std::string text_of(const Alert& a, std::string_view name) {
  Value v;
  if (!a.lookup(name, v)) return "<missing>";
  return v.to_text();
}

// The alert in the json format.
inline std::string json_of(const Alert& a) {
  std::string out;
  JsonFormatter().format(a, out);
  return out;
}

}  // namespace saker::test
