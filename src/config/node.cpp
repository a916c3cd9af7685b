#include "config/node.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include <fmt/format.h>

namespace saker {

std::string ConfigError::to_string() const {
  std::string pos = line > 0 ? fmt::format("{}:{}:{}", file, line, column) : file;
  return key.empty() ? fmt::format("{}: {}", pos, message) : fmt::format("{}: {}: {}", pos, key, message);
}

void ConfigErrors::add(const YAML::Node& at, std::string key, std::string message, int column_offset) {
  ConfigError e;
  e.file = file_;
  if (at.IsDefined() && at.Mark().line >= 0) {
    e.line = at.Mark().line + 1;
    e.column = at.Mark().column + 1 + column_offset;
  }
  e.key = std::move(key);
  e.message = redact(message);
  errors_.push_back(std::move(e));
}

void ConfigErrors::add_plain(std::string message) {
  ConfigError e;
  e.file = file_;
  e.message = redact(message);
  errors_.push_back(std::move(e));
}

void ConfigErrors::add_at(int line, int column, std::string key, std::string message) {
  errors_.push_back(ConfigError{file_, line, column, std::move(key), redact(message)});
}

std::string ConfigErrors::resolve_path(std::string_view path) const {
  if (path.empty() || base_dir_.empty() || path.front() == '/') return std::string(path);
  return (std::filesystem::path(base_dir_) / path).lexically_normal().string();
}

void Redactions::add(std::string value, std::string shown) {
  if (value.empty() || value == shown) return;
  if (std::any_of(items_.begin(), items_.end(), [&](const Item& s) { return s.value == value; })) return;  // first wins
  auto at = std::find_if(items_.begin(), items_.end(), [&](const Item& s) { return s.value.size() < value.size(); });
  items_.insert(at, Item{std::move(value), std::move(shown)});
}

void Redactions::add_all(const Redactions& other) {
  for (const auto& s : other.items_) add(s.value, s.shown);
}

Redactions Redactions::at_least(std::size_t n) const {
  Redactions out;
  for (const auto& s : items_) {
    if (s.value.size() >= n) out.items_.push_back(s);
  }
  return out;
}

std::string Redactions::apply(std::string_view text) const {
  if (items_.empty()) return std::string(text);
  const auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const Item* hit = nullptr;
    for (const auto& s : items_) {
      if (text.compare(i, s.value.size(), s.value) != 0) continue;
      const std::size_t end = i + s.value.size();
      if (i > 0 && word(text[i - 1]) && word(s.value.front())) continue;
      if (end < text.size() && word(text[end]) && word(s.value.back())) continue;
      hit = &s;
      break;
    }
    if (hit) {
      out.append(hit->shown);
      i += hit->value.size();
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

namespace {

constexpr std::size_t kMaxSecretFile = 1024 * 1024;

bool valid_env_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front())) != 0) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; });
}

class PlaceholderExpander {
 public:
  explicit PlaceholderExpander(ConfigErrors& errors) : errors_(errors) {}

  void walk(YAML::Node node, const std::string& key) {
    if (node.IsScalar()) {
      scalar(node, key);
    } else if (node.IsSequence()) {
      for (std::size_t i = 0; i < node.size(); ++i) walk(node[i], fmt::format("{}[{}]", key, i));
    } else if (node.IsMap()) {
      for (auto kv : node) {
        const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
        walk(kv.second, key.empty() ? k : fmt::format("{}.{}", key, k));
      }
    }
  }

 private:
  void scalar(YAML::Node node, const std::string& key) {
    const std::string raw = node.Scalar();
    if (raw.find("${") == std::string::npos) return;
    // An alias shares its anchor's node: expand it once, or a value that holds "${" would be read again.
    if (!seen_.insert({node.Mark().line, node.Mark().column}).second) return;
    // Columns inside a one-line scalar; a quoted one starts one character after its mark.
    const bool one_line = raw.find('\n') == std::string::npos;
    const int quote = node.Tag() == "!" ? 1 : 0;
    std::string out;
    bool substituted = false;
    for (std::size_t i = 0; i < raw.size();) {
      if (raw.compare(i, 3, "$${") == 0) {
        out.append("${");
        i += 3;
        continue;
      }
      if (raw.compare(i, 2, "${") != 0) {
        out.push_back(raw[i++]);
        continue;
      }
      const int column = one_line ? static_cast<int>(i) + quote : 0;
      const std::size_t close = raw.find('}', i + 2);
      if (close == std::string::npos) {
        errors_.add(node, key, "\"${\" is not closed by \"}\"; write $${ for a literal ${", column);
        out.append(raw, i);
        break;
      }
      const std::string placeholder = raw.substr(i, close + 1 - i);
      std::string problem;
      if (auto value = lookup(std::string_view(raw).substr(i + 2, close - i - 2), problem)) {
        errors_.add_substitution(*value, placeholder);
        out.append(*value);
        substituted = true;
      } else {
        errors_.add(node, key, problem, column);
        out.append(placeholder);
      }
      i = close + 1;
    }
    if (substituted) errors_.add_substitution(out, raw);
    node = out;
  }

  std::optional<std::string> lookup(std::string_view body, std::string& problem) const {
    if (body.starts_with("env:")) {
      const std::string name(body.substr(4));
      if (!valid_env_name(name)) {
        problem =
            fmt::format("${{{}}}: \"{}\" is not an environment variable name (letters, digits and _)", body, name);
        return std::nullopt;
      }
      const char* value = std::getenv(name.c_str());
      if (value == nullptr) {
        problem = fmt::format("environment variable {} is not set (${{env:{}}})", name, name);
        return std::nullopt;
      }
      return std::string(value);
    }
    if (body.starts_with("file:")) {
      const std::string path = errors_.resolve_path(body.substr(5));
      if (body.size() == 5) {
        problem = "${file:} needs a path, e.g. ${file:/run/secrets/es_password}";
        return std::nullopt;
      }
      std::ifstream in(path, std::ios::binary);
      if (!in) {
        problem = fmt::format("cannot read {} (${{{}}}): {}", path, body, std::strerror(errno));
        return std::nullopt;
      }
      std::ostringstream ss;
      ss << in.rdbuf();
      std::string value = std::move(ss).str();
      if (value.size() > kMaxSecretFile) {
        problem = fmt::format("{} (${{{}}}) is larger than 1MiB; a secret file holds one value", path, body);
        return std::nullopt;
      }
      if (value.ends_with('\n')) value.pop_back();
      if (value.ends_with('\r')) value.pop_back();
      return value;
    }
    problem = fmt::format(
        "unknown placeholder ${{{}}}: use ${{env:NAME}} or ${{file:PATH}}; write $${{ for a literal ${{", body);
    return std::nullopt;
  }

  ConfigErrors& errors_;
  std::set<std::pair<int, int>> seen_;
};

}  // namespace

void expand_placeholders(YAML::Node root, ConfigErrors& errors) { PlaceholderExpander(errors).walk(root, ""); }

std::string ConfigErrors::to_string() const {
  std::string out;
  for (const auto& e : errors_) out.append(e.to_string()).push_back('\n');
  return out;
}

std::string ConfigReader::key_name(std::string_view key) const {
  return ctx.empty() ? std::string(key) : fmt::format("{}.{}", ctx, key);
}

bool ConfigReader::has(const char* key) const { return node.IsMap() && node[key].IsDefined() && !node[key].IsNull(); }

std::string ConfigReader::string(const char* key, std::string def, bool required) const {
  if (!has(key)) {
    if (required) errors.add(node, key_name(key), "is required");
    return def;
  }
  const YAML::Node v = node[key];
  if (!v.IsScalar()) {
    errors.add(v, key_name(key), "must be a string");
    return def;
  }
  return v.Scalar();
}

std::string ConfigReader::path(const char* key, std::string def, bool required) const {
  return errors.resolve_path(string(key, std::move(def), required));
}

std::int64_t ConfigReader::integer(const char* key, std::int64_t def, std::int64_t min, std::int64_t max) const {
  if (!has(key)) return def;
  const YAML::Node v = node[key];
  std::int64_t n = 0;
  const std::string s = v.IsScalar() ? v.Scalar() : std::string();
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  const bool whole = v.IsScalar() && p == s.data() + s.size();
  if (whole && ec == std::errc::result_out_of_range) {
    errors.add(v, key_name(key), fmt::format("must be between {} and {}, got {}", min, max, s));
    return def;
  }
  if (!whole || ec != std::errc()) {
    errors.add(v, key_name(key), fmt::format("must be an integer, got \"{}\"", s));
    return def;
  }
  if (n < min || n > max) {
    errors.add(v, key_name(key), fmt::format("must be between {} and {}, got {}", min, max, n));
    return def;
  }
  return n;
}

bool ConfigReader::boolean(const char* key, bool def) const {
  if (!has(key)) return def;
  const YAML::Node v = node[key];
  const std::string s = v.IsScalar() ? v.Scalar() : std::string();
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  errors.add(v, key_name(key), fmt::format("must be true or false, got \"{}\"", s));
  return def;
}

namespace {

// What a size or duration text parsed to; Malformed and TooLarge get different messages.
enum class Parse : std::uint8_t { Ok, Malformed, TooLarge };

// The largest size and duration: every size fits a signed 64-bit byte offset, and every duration can be added to
// a clock's "now" in nanoseconds (a multiply that would wrap is refused here, not later in the component).
constexpr std::uint64_t kMaxSize = static_cast<std::uint64_t>(INT64_MAX);
constexpr double kMaxDurationMs = 87600.0 * 3600 * 1000;  // 87600h, ten years

Parse parse_size_text(std::string_view text, std::uint64_t& out) {
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (p == text.data() || (ec != std::errc() && ec != std::errc::result_out_of_range)) return Parse::Malformed;
  std::string unit(p, text.data() + text.size());
  std::erase(unit, ' ');
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::tolower(c); });
  std::uint64_t mul = 0;
  if (unit.empty() || unit == "b") mul = 1;
  else if (unit == "k" || unit == "kb") mul = 1000;
  else if (unit == "kib") mul = 1024;
  else if (unit == "m" || unit == "mb") mul = 1000 * 1000;
  else if (unit == "mib") mul = 1024 * 1024;
  else if (unit == "g" || unit == "gb") mul = 1000ULL * 1000 * 1000;
  else if (unit == "gib") mul = 1024ULL * 1024 * 1024;
  else return Parse::Malformed;
  if (ec == std::errc::result_out_of_range || n > kMaxSize / mul) return Parse::TooLarge;
  out = n * mul;
  return Parse::Ok;
}

Parse parse_duration_text(std::string_view text, std::chrono::milliseconds& out) {
  double n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  // from_chars takes "inf" and "nan" too: a duration starts with a digit or a point.
  if (text.empty() || !(std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '.')) return Parse::Malformed;
  if (p == text.data() || (ec != std::errc() && ec != std::errc::result_out_of_range)) return Parse::Malformed;
  const std::string_view unit(p, text.data() + text.size() - p);
  double ms = 0;
  if (unit.empty() || unit == "s") ms = n * 1000;
  else if (unit == "ms") ms = n;
  else if (unit == "m") ms = n * 60000;
  else if (unit == "h") ms = n * 3600000;
  else return Parse::Malformed;
  if (ec == std::errc::result_out_of_range || !(ms <= kMaxDurationMs)) return Parse::TooLarge;
  out = std::chrono::milliseconds(static_cast<std::int64_t>(ms));
  return Parse::Ok;
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t n = 0;
  if (parse_size_text(text, n) != Parse::Ok) return std::nullopt;
  return n;
}

std::uint64_t ConfigReader::size(const char* key, std::uint64_t def) const {
  if (!has(key)) return def;
  const YAML::Node v = node[key];
  std::uint64_t n = 0;
  const Parse p = v.IsScalar() ? parse_size_text(v.Scalar(), n) : Parse::Malformed;
  if (p == Parse::TooLarge) {
    errors.add(v, key_name(key), fmt::format("\"{}\" is larger than any size saker takes (8EiB)", v.Scalar()));
    return def;
  }
  if (p != Parse::Ok) {
    errors.add(v, key_name(key), "must be a size such as 1048576, 64KiB, 1MiB or 2GiB");
    return def;
  }
  return n;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::chrono::milliseconds d{0};
  if (parse_duration_text(text, d) != Parse::Ok) return std::nullopt;
  return d;
}

std::chrono::milliseconds ConfigReader::duration(const char* key, std::chrono::milliseconds def) const {
  if (!has(key)) return def;
  const YAML::Node v = node[key];
  std::chrono::milliseconds d{0};
  const Parse p = v.IsScalar() ? parse_duration_text(v.Scalar(), d) : Parse::Malformed;
  if (p == Parse::TooLarge) {
    errors.add(v, key_name(key), fmt::format("\"{}\" is longer than any duration saker takes (87600h, ten years)",
                                             v.Scalar()));
    return def;
  }
  if (p != Parse::Ok) {
    errors.add(v, key_name(key), "must be a duration such as 250ms, 5s, 2m or 1h");
    return def;
  }
  return d;
}

Priority ConfigReader::priority(const char* key, Priority def) const {
  if (!has(key)) return def;
  const YAML::Node v = node[key];
  auto p = v.IsScalar() ? parse_priority(v.Scalar()) : std::nullopt;
  if (!p) {
    errors.add(v, key_name(key),
               "must be a Falco priority: debug, informational, notice, warning, error, critical, alert, emergency");
    return def;
  }
  return *p;
}

std::vector<std::string> ConfigReader::strings(const char* key) const {
  std::vector<std::string> out;
  if (!has(key)) return out;
  const YAML::Node v = node[key];
  if (v.IsScalar()) {
    out.push_back(v.Scalar());
    return out;
  }
  if (!v.IsSequence()) {
    errors.add(v, key_name(key), "must be a list of strings");
    return out;
  }
  for (const auto& item : v) {
    if (!item.IsScalar()) {
      errors.add(item, key_name(key), "must be a list of strings");
      continue;
    }
    out.push_back(item.Scalar());
  }
  return out;
}

namespace {
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

void ConfigReader::only(std::initializer_list<std::string_view> allowed_list,
                        std::span<const std::string_view> also) const {
  if (!node.IsMap()) return;
  std::vector<std::string_view> allowed(allowed_list);
  allowed.insert(allowed.end(), also.begin(), also.end());
  for (const auto& kv : node) {
    const std::string k = kv.first.as<std::string>("");
    if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
    std::string_view best;
    std::size_t best_d = 3;
    for (auto a : allowed) {
      const std::size_t d = edit_distance(k, a);
      if (d < best_d) {
        best_d = d;
        best = a;
      }
    }
    std::string msg = best.empty() ? "unknown key" : fmt::format("unknown key, did you mean \"{}\"?", best);
    errors.add(kv.first, key_name(k), msg);
  }
}

std::optional<HostPort> parse_host_port(std::string_view text) {
  HostPort hp;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    hp.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    hp.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || ptr != port.data() + port.size() || p > 65535) return std::nullopt;
  hp.port = static_cast<std::uint16_t>(p);
  if (hp.host.empty()) hp.host = "0.0.0.0";
  return hp;
}

}  // namespace saker
