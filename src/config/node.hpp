#pragma once
// Reading config nodes with errors that name file:line:column and the key, collected rather than thrown,
// so `saker check` lists every problem at once.
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/priority.hpp"

namespace saker {

struct ConfigError {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based
  std::string key;
  std::string message;
  std::string to_string() const;  // "file:line:col: key: message"
};

class ConfigErrors {
 public:
  explicit ConfigErrors(std::string file = "<config>") : file_(std::move(file)) {}
  // `at` gives the position; `column_offset` moves it right (e.g. to a column inside a filter string).
  void add(const YAML::Node& at, std::string key, std::string message, int column_offset = 0);
  void add_plain(std::string message);
  void add_at(int line, int column, std::string key, std::string message);
  bool empty() const noexcept { return errors_.empty(); }
  const std::vector<ConfigError>& errors() const noexcept { return errors_; }
  const std::string& file() const noexcept { return file_; }
  std::string to_string() const;  // one error per line

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
};

// Each reader checks the value's type and range, records an error naming `key` and returns `def` on error.
// `ctx` prefixes the key in messages (e.g. "sinks[0]").
struct ConfigReader {
  const YAML::Node& node;
  std::string ctx;
  ConfigErrors& errors;

  std::string key_name(std::string_view key) const;
  bool has(const char* key) const;
  std::string string(const char* key, std::string def = {}, bool required = false) const;
  std::int64_t integer(const char* key, std::int64_t def, std::int64_t min, std::int64_t max) const;
  bool boolean(const char* key, bool def) const;
  // "1048576", "64KiB", "1MiB", "10MB", "2GiB"
  std::uint64_t size(const char* key, std::uint64_t def) const;
  // "250ms", "5s", "2m", "1h"; a bare number is seconds
  std::chrono::milliseconds duration(const char* key, std::chrono::milliseconds def) const;
  Priority priority(const char* key, Priority def) const;
  std::vector<std::string> strings(const char* key) const;
  // Keys outside `allowed` are errors ("unknown key ..., did you mean ...?").
  void only(std::initializer_list<std::string_view> allowed, std::span<const std::string_view> also = {}) const;
};

std::optional<std::uint64_t> parse_size(std::string_view text);
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
// "127.0.0.1:2801", "[::1]:2801", "localhost:2801", ":2801" (all interfaces)
std::optional<HostPort> parse_host_port(std::string_view text);

}  // namespace saker
