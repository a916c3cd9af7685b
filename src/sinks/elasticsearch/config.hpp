#pragma once
// The `elasticsearch` sink's settings (also for OpenSearch), read and checked at config time.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/node.hpp"
#include "format/formatter.hpp"
#include "sinks/elasticsearch/bulk_request.hpp"
#include "sinks/http_client.hpp"

namespace saker {

// Something the sink puts into the cluster before its first bulk: an ILM policy (Elasticsearch), an ISM policy
// (OpenSearch) or an index template, in that order, so the template can name the policy.
struct EsSetup {
  enum class Kind { ilm_policy, ism_policy, index_template };
  Kind kind = Kind::index_template;
  std::string name;
  std::string file;
  std::string body;  // the file's JSON, read (and checked) at config time

  std::string_view kind_name() const;  // "ilm_policy", "ism_policy", "index_template": config key and metric label
  std::string path() const;            // "/_ilm/policy/<name>", ... (name URL-encoded)
};

struct EsConfig {
  std::vector<std::string> urls;  // base URLs; the next one is tried when one cannot be reached or answers 5xx
  IndexPattern index;             // "falco-%Y.%m.%d", expanded from each alert's time (UTC)
  EsOpType op_type = EsOpType::index;
  std::string pipeline;            // ingest pipeline (?pipeline=), empty: none
  std::uint64_t max_bytes = 10 * 1024 * 1024;  // per _bulk request, before compression
  bool add_timestamp = true;       // add "@timestamp" (the alert's time) to documents that lack it
  std::vector<EsSetup> setup;     // ilm_policy, ism_policy, template: in the order they are put
  HttpClientOptions http;
  // The document format when `format` is not set: `ecs` when saker has it, else null (the sink's own, json).
  std::shared_ptr<const Formatter> default_formatter;
};

EsConfig parse_es_config(const ConfigReader& r);

}  // namespace saker
