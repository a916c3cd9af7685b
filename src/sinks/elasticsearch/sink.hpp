#pragma once
#include "sinks/sink.hpp"

namespace saker {

// `elasticsearch` (Elasticsearch or OpenSearch): the _bulk API, one document per alert with _id = its uuid.
//   url: https://es.example:9200 (or a list; the next is tried when one is unreachable or answers 5xx)
//   index: "falco-%Y.%m.%d"   from the alert's time (UTC)
//   op_type: index|create      create for data streams; a 409 on create means "already delivered"
//   pipeline, max_bytes: 10MiB, add_timestamp: true, ilm_policy / ism_policy / template: {name, body_file}
//   plus the HTTP keys of http_client.hpp (auth: {user, password} | {bearer} | {api_key}, tls, compression, …)
// See docs/sinks/elasticsearch.md.
SinkBuilder parse_elasticsearch_sink(const ConfigReader& r);

}  // namespace saker
