#include "sinks/elasticsearch/config.hpp"

#include <simdjson.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace saker {
namespace {

// `key: {name, body_file}`: reads and checks the file now, so `saker check` reports a missing or broken one.
void parse_setup(const ConfigReader& sink, const char* key, EsSetup::Kind kind, EsConfig& cfg) {
  const YAML::Node node = sink.node[key];
  ConfigReader r{node, sink.key_name(key), sink.errors};
  if (!node.IsMap()) {
    sink.errors.add(node, r.ctx, fmt::format("must be a map: {{name: falco, body_file: /etc/saker/falco-{}.json}}", key));
    return;
  }
  r.only({"name", "body_file"});
  EsSetup t;
  t.kind = kind;
  t.name = r.string("name", "", true);
  t.file = r.path("body_file", "", true);
  if (t.name.empty() || t.file.empty()) return;
  std::ifstream in(t.file, std::ios::binary);
  if (!in) {
    r.errors.add(node["body_file"], r.key_name("body_file"), "cannot read " + t.file);
    return;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  t.body = ss.str();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(t.body).get(doc); err || !doc.is_object()) {
    r.errors.add(node["body_file"], r.key_name("body_file"),
                 fmt::format("{} is not a JSON object{}", t.file, err ? std::string(": ") + simdjson::error_message(err) : ""));
    return;
  }
  if (kind != EsSetup::Kind::index_template && !doc["policy"].is_object()) {
    r.errors.add(node["body_file"], r.key_name("body_file"),
                 fmt::format("{} must hold {{\"policy\": {{...}}}}, the body of PUT {}", t.file,
                             kind == EsSetup::Kind::ilm_policy ? "_ilm/policy/<name>" : "_plugins/_ism/policies/<name>"));
    return;
  }
  cfg.setup.push_back(std::move(t));
}

}  // namespace

std::string_view EsSetup::kind_name() const {
  switch (kind) {
    case Kind::ilm_policy: return "ilm_policy";
    case Kind::ism_policy: return "ism_policy";
    case Kind::index_template: break;
  }
  return "index_template";
}

std::string EsSetup::path() const {
  switch (kind) {
    case Kind::ilm_policy: return "/_ilm/policy/" + url_encode(name);
    case Kind::ism_policy: return "/_plugins/_ism/policies/" + url_encode(name);
    case Kind::index_template: break;
  }
  return "/_index_template/" + url_encode(name);
}

EsConfig parse_es_config(const ConfigReader& r) {
  r.only({"url", "index", "op_type", "pipeline", "max_bytes", "add_timestamp", "ilm_policy", "ism_policy", "template"},
         http_sink_keys());
  EsConfig cfg;
  cfg.http = parse_http_client_options(r, "ApiKey");
  std::vector<std::string> urls = r.strings("url");
  if (!r.has("url") || urls.empty()) r.errors.add(r.node, r.key_name("url"), "is required, e.g. https://es.example:9200");
  for (auto& u : urls) cfg.urls.push_back(check_http_url(r, r.node["url"], std::move(u), cfg.http.tls));

  const std::string index = r.string("index", "falco-%Y.%m.%d");
  if (auto p = IndexPattern::parse(index)) {
    cfg.index = std::move(p).value();
  } else {
    r.errors.add(r.node["index"], r.key_name("index"), p.error().message);
  }
  const std::string op = r.string("op_type", "index");
  if (op == "create") {
    cfg.op_type = EsOpType::create;
  } else if (op != "index") {
    r.errors.add(r.node["op_type"], r.key_name("op_type"), "must be index or create (create for data streams)");
  }
  cfg.pipeline = r.string("pipeline");
  cfg.max_bytes = r.size("max_bytes", cfg.max_bytes);
  if (cfg.max_bytes < 1024) r.errors.add(r.node["max_bytes"], r.key_name("max_bytes"), "must be at least 1KiB");
  cfg.add_timestamp = r.boolean("add_timestamp", true);
  if (r.has("ilm_policy")) parse_setup(r, "ilm_policy", EsSetup::Kind::ilm_policy, cfg);
  if (r.has("ism_policy")) parse_setup(r, "ism_policy", EsSetup::Kind::ism_policy, cfg);
  if (r.has("template")) parse_setup(r, "template", EsSetup::Kind::index_template, cfg);
  // ECS is what Kibana's security views expect; fall back to the sink's format (json) when saker lacks it.
  if (!r.has("format")) {
    if (auto f = make_formatter("ecs")) cfg.default_formatter = std::move(f).value();
  }
  return cfg;
}

}  // namespace saker
