#pragma once
// Reading config nodes with errors that name file:line:column and the key, collected rather than thrown,
// so `saker check` lists every problem at once. Placeholders (`${env:NAME}`, `${file:PATH}`) are expanded here,
// once for every string in the file, and the values they bring in never appear in an error message.
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

// Values placeholders brought into a config, each with the placeholder to show in its place, and the credentials
// the config holds (shown as `***`), so neither an error message nor a log line repeats a secret.
class Redactions {
 public:
  void add(std::string value, std::string shown);
  // Each value, where it stands as a whole word ("5" does not rewrite "65535"), becomes its placeholder.
  std::string apply(std::string_view text) const;
  // Only the values of at least `n` characters (a log line cannot lose every "1" or "info" it holds).
  Redactions at_least(std::size_t n) const;
  void add_all(const Redactions& other);
  bool empty() const noexcept { return items_.empty(); }

 private:
  struct Item {
    std::string value;
    std::string shown;
  };
  std::vector<Item> items_;  // longest value first
};

// What every reader of one config file shares: the errors found so far, the folder relative paths resolve
// against, and the values placeholders substituted (each error message shows the placeholder instead).
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

  // Relative paths resolve against `dir` (the config file's folder); empty (the default): the current directory.
  void set_base_dir(std::string dir) { base_dir_ = std::move(dir); }
  const std::string& base_dir() const noexcept { return base_dir_; }
  std::string resolve_path(std::string_view path) const;

  // `value` came from a placeholder: from now on messages show `shown` (the placeholder) wherever it would appear.
  void add_substitution(std::string value, std::string shown) { redactions_.add(std::move(value), std::move(shown)); }
  // `value` is a credential written in the config itself (a password, a token): messages show `***` instead.
  void add_secret(std::string value) { redactions_.add(std::move(value), "***"); }
  std::string redact(std::string_view text) const { return redactions_.apply(text); }
  const Redactions& redactions() const noexcept { return redactions_; }

  // A file a component loads when it starts (a TLS certificate or key), with a digest of its content: the pipeline
  // adds what a component's parser noted to its config text, so a reload sees a renewed certificate as a change.
  void note_loaded_file(const std::string& path, const std::string& digest) {
    loaded_files_.push_back(path + " " + digest);
    loaded_paths_.push_back(path);
  }
  const std::vector<std::string>& loaded_paths() const noexcept { return loaded_paths_; }
  const std::vector<std::string>& loaded_files() const noexcept { return loaded_files_; }

 private:
  std::string file_;
  std::string base_dir_;
  std::vector<ConfigError> errors_;
  Redactions redactions_;
  std::vector<std::string> loaded_files_;
  std::vector<std::string> loaded_paths_;
};

// Replaces, in every scalar value under `root` (keys stay as written), `${env:NAME}` by the environment
// variable's value and `${file:PATH}` by the file's content less one trailing newline (PATH relative to the
// config's folder). `$${` is a literal `${`. An unset variable, an unreadable file or any other `${...}` is an
// error at its line and column. Call it once, right after loading the YAML.
void expand_placeholders(YAML::Node root, ConfigErrors& errors);

// Each reader checks the value's type and range, records an error naming `key` and returns `def` on error.
// `ctx` prefixes the key in messages (e.g. "sinks[0]").
struct ConfigReader {
  const YAML::Node& node;
  std::string ctx;
  ConfigErrors& errors;

  std::string key_name(std::string_view key) const;
  bool has(const char* key) const;
  std::string string(const char* key, std::string def = {}, bool required = false) const;
  // A file or folder name: a relative one resolves against the config file's folder.
  std::string path(const char* key, std::string def = {}, bool required = false) const;
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
