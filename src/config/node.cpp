#include "config/node.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

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
  e.message = std::move(message);
  errors_.push_back(std::move(e));
}

void ConfigErrors::add_plain(std::string message) {
  ConfigError e;
  e.file = file_;
  e.message = std::move(message);
  errors_.push_back(std::move(e));
}

void ConfigErrors::add_at(int line, int column, std::string key, std::string message) {
  errors_.push_back(ConfigError{file_, line, column, std::move(key), std::move(message)});
}

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

std::int64_t ConfigReader::integer(const char* key, std::int64_t def, std::int64_t min, std::int64_t max) const {
  if (!has(key)) return def;
  const YAML::Node v = node[key];
  std::int64_t n = 0;
  const std::string s = v.IsScalar() ? v.Scalar() : std::string();
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (!v.IsScalar() || ec != std::errc() || p != s.data() + s.size()) {
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

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p == text.data()) return std::nullopt;
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
  else return std::nullopt;
  if (n > UINT64_MAX / mul) return std::nullopt;
  return n * mul;
}

std::uint64_t ConfigReader::size(const char* key, std::uint64_t def) const {
  if (!has(key)) return def;
  const YAML::Node v = node[key];
  auto n = v.IsScalar() ? parse_size(v.Scalar()) : std::nullopt;
  if (!n) {
    errors.add(v, key_name(key), "must be a size such as 1048576, 64KiB, 1MiB or 2GiB");
    return def;
  }
  return *n;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  double n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p == text.data() || n < 0) return std::nullopt;
  const std::string_view unit(p, text.data() + text.size() - p);
  double ms = 0;
  if (unit.empty() || unit == "s") ms = n * 1000;
  else if (unit == "ms") ms = n;
  else if (unit == "m") ms = n * 60000;
  else if (unit == "h") ms = n * 3600000;
  else return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

std::chrono::milliseconds ConfigReader::duration(const char* key, std::chrono::milliseconds def) const {
  if (!has(key)) return def;
  const YAML::Node v = node[key];
  auto d = v.IsScalar() ? parse_duration(v.Scalar()) : std::nullopt;
  if (!d) {
    errors.add(v, key_name(key), "must be a duration such as 250ms, 5s, 2m or 1h");
    return def;
  }
  return *d;
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
