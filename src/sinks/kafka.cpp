#include "sinks/kafka.hpp"

#include <algorithm>
#include <filesystem>
#include <string_view>

#include <fmt/format.h>

#include "config/files.hpp"
#include "sinks/kafka/config.hpp"
#include "sinks/kafka/producer.hpp"

namespace saker {
namespace {

using kafka::KafkaSinkConfig;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string parse_brokers(const ConfigReader& r) {
  std::string out;
  for (const auto& item : r.strings("brokers")) {
    std::string_view rest = item;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view one = trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      if (one.empty()) continue;
      if (!out.empty()) out += ',';
      out += one;
    }
  }
  if (out.empty() && !r.has("brokers")) r.errors.add(r.node, r.key_name("brokers"), "is required");
  else if (out.empty()) r.errors.add(r.node["brokers"], r.key_name("brokers"), "must list at least one host:port");
  return out;
}

FieldTemplate parse_template(const ConfigReader& r, const char* key, std::string def, bool required) {
  const std::string text = r.string(key, std::move(def), required);
  // Names are not checked: a sink sees Falco's fields, whatever the rules put in output_fields, and every stage's.
  auto t = FieldTemplate::compile(text, [](std::string_view) { return true; });
  if (!t) {
    const YAML::Node at = r.node[key];
    const int col = static_cast<int>(t.error().column) - 1 + (at.Tag() == "!" ? 1 : 0);  // inside the quotes
    r.errors.add(at, r.key_name(key), t.error().message, col);
    return {};
  }
  return std::move(t).value();
}

// A YAML scalar, or a list joined with commas (librdkafka's list syntax).
bool scalar_text(const YAML::Node& v, std::string& out) {
  if (v.IsScalar()) {
    out = v.Scalar();
    return true;
  }
  if (!v.IsSequence()) return false;
  out.clear();
  for (const auto& item : v) {
    if (!item.IsScalar()) return false;
    if (!out.empty()) out += ',';
    out += item.Scalar();
  }
  return true;
}

kafka::Properties parse_map(const ConfigReader& r, const char* key) {
  kafka::Properties out;
  if (!r.has(key)) return out;
  const YAML::Node m = r.node[key];
  if (!m.IsMap()) {
    r.errors.add(m, r.key_name(key), "must be a map of names to values");
    return out;
  }
  for (const auto& kv : m) {
    const std::string name = kv.first.Scalar();
    std::string value;
    if (!scalar_text(kv.second, value)) {
      r.errors.add(kv.second, fmt::format("{}.{}", r.key_name(key), name), "must be a string, number or boolean");
      continue;
    }
    out.emplace_back(name, value);
  }
  return out;
}

void parse_headers(const ConfigReader& r, KafkaSinkConfig& cfg) {
  cfg.alert_headers = r.boolean("alert_headers", true);
  cfg.headers = parse_map(r, "headers");
  for (const auto& [name, value] : cfg.headers) {
    if (cfg.alert_headers && (name == "priority" || name == "rule" || name == "uuid")) {
      r.errors.add(r.node["headers"][name], fmt::format("{}.{}", r.key_name("headers"), name),
                   "saker sets this header from the alert; set alert_headers: false to set it yourself");
    }
  }
}

void parse_passthrough(const ConfigReader& r, KafkaSinkConfig& cfg) {
  for (auto& [name, value] : parse_map(r, "librdkafka")) {
    if (const char* why = kafka::refused_property(name)) {
      r.errors.add(r.node["librdkafka"][name], fmt::format("{}.{}", r.key_name("librdkafka"), name),
                   fmt::format("not allowed here: {}", why));
      continue;
    }
    // sasl.password, ssl.key.password, sasl.oauthbearer.client.secret, ...
    if (name.ends_with("password") || name.ends_with("secret")) r.errors.add_secret(value);
    cfg.librdkafka.emplace_back(std::move(name), std::move(value));
  }
}

// librdkafka opens these only when the sink starts: `saker check` reads them now. A relative path resolves against
// the config's folder, as every path in a saker config does.
void check_files(const ConfigReader& r, KafkaSinkConfig& cfg) {
  enum class Kind { ca, certificate, key, file };
  static constexpr std::pair<std::string_view, Kind> kFiles[] = {
      {"ssl.ca.location", Kind::ca},           {"ssl.certificate.location", Kind::certificate},
      {"ssl.key.location", Kind::key},         {"ssl.keystore.location", Kind::file},
      {"ssl.crl.location", Kind::file},        {"sasl.kerberos.keytab", Kind::file}};
  std::string passphrase, cert, key;
  for (const auto& [name, value] : cfg.librdkafka) {
    if (name == "ssl.key.password") passphrase = value;
  }
  for (auto& [name, value] : cfg.librdkafka) {
    const auto* file =
        std::find_if(std::begin(kFiles), std::end(kFiles), [&](const auto& f) { return f.first == name; });
    if (file == std::end(kFiles) || value.empty()) continue;
    if (file->second == Kind::ca && value == "probe") continue;  // librdkafka looks in the system's usual places
    value = r.errors.resolve_path(value);
    std::string problem;
    switch (file->second) {
      case Kind::ca:  // a PEM bundle, or a folder of hashed names as OpenSSL's CApath
        problem = std::filesystem::is_directory(value) ? readable_directory_problem(value)
                                                       : tls_file_problem(value, TlsFile::ca_bundle);
        break;
      case Kind::certificate:
        problem = tls_file_problem(value, TlsFile::certificate);
        if (problem.empty()) cert = value;
        break;
      case Kind::key:
        problem = tls_file_problem(value, TlsFile::private_key, passphrase);
        if (!problem.empty() && passphrase.empty() && problem.find("unencrypted") != std::string::npos) {
          problem += "; if it is encrypted, set ssl.key.password";
        }
        if (problem.empty()) key = value;
        break;
      case Kind::file: problem = readable_file_problem(value); break;
    }
    if (!problem.empty()) {
      r.errors.add(r.node["librdkafka"][name], fmt::format("{}.{}", r.key_name("librdkafka"), name), problem);
    } else if (!std::filesystem::is_directory(value)) {
      r.errors.note_loaded_file(value, file_digest(value));  // a renewed certificate is a change on reload
    }
  }
  if (cert.empty() || key.empty() || !passphrase.empty()) return;
  if (std::string p = tls_pair_problem(cert, key); !p.empty()) {
    r.errors.add(r.node["librdkafka"]["ssl.key.location"], r.key_name("librdkafka") + ".ssl.key.location", p);
  }
}

}  // namespace

SinkBuilder parse_kafka_sink(const ConfigReader& r) {
  r.only({"brokers", "topic", "key", "acks", "idempotence", "compression", "headers", "alert_headers", "librdkafka",
          "flush_timeout"},
         kCommonSinkKeys);
  const std::size_t errors_before = r.errors.errors().size();
  KafkaSinkConfig cfg;
  cfg.brokers = parse_brokers(r);
  cfg.topic = parse_template(r, "topic", "", true);
  cfg.key = parse_template(r, "key", "{hostname}", false);

  cfg.acks = r.string("acks", "all");
  if (cfg.acks == "-1") cfg.acks = "all";
  if (cfg.acks != "all" && cfg.acks != "1" && cfg.acks != "0") {
    r.errors.add(r.node["acks"], r.key_name("acks"), fmt::format("must be all, 1 or 0, got \"{}\"", cfg.acks));
  }
  cfg.idempotence = r.boolean("idempotence", true);
  if (cfg.idempotence && cfg.acks != "all" && r.has("acks")) {
    r.errors.add(r.node["acks"], r.key_name("acks"), "idempotence needs acks: all (or set idempotence: false)");
  }

  static constexpr std::string_view kCodecs[] = {"none", "gzip", "snappy", "lz4", "zstd"};
  cfg.compression = r.string("compression", "lz4");
  if (std::find(std::begin(kCodecs), std::end(kCodecs), cfg.compression) == std::end(kCodecs)) {
    r.errors.add(r.node["compression"], r.key_name("compression"),
                 fmt::format("must be none, gzip, snappy, lz4 or zstd, got \"{}\"", cfg.compression));
    cfg.compression = "lz4";
  }
  parse_headers(r, cfg);
  parse_passthrough(r, cfg);
  cfg.flush_timeout = r.duration("flush_timeout", cfg.flush_timeout);
  if (cfg.flush_timeout < kafka::kMinFlushTimeout || cfg.flush_timeout > kafka::kMaxFlushTimeout) {
    r.errors.add(r.node["flush_timeout"], r.key_name("flush_timeout"),
                 fmt::format("must be between 100ms and 24h, got {}", r.node["flush_timeout"].Scalar()));
  }

  // librdkafka checks every property's name and value now, so `saker check` reports them.
  if (r.errors.errors().size() == errors_before) {
    const kafka::Properties props = kafka::producer_properties(cfg);
    std::vector<kafka::ConfError> refused;
    kafka::make_conf(props, refused);
    const std::size_t own = props.size() - cfg.librdkafka.size();
    for (const auto& ce : refused) {
      if (ce.index >= own) {
        const std::string& name = props[ce.index].first;
        r.errors.add(r.node["librdkafka"][name], fmt::format("{}.{}", r.key_name("librdkafka"), name), ce.message);
      } else {
        r.errors.add(r.node, r.ctx, ce.message);
      }
    }
  }
  check_files(r, cfg);  // after librdkafka's own checks, which run only while nothing else is wrong
  return [cfg](SinkContext& ctx) -> std::unique_ptr<Sink> { return kafka::make_kafka_sink(cfg, ctx); };
}

}  // namespace saker
