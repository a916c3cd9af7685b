#include "pipeline/registry.hpp"

#include <algorithm>
#include <utility>

#include "core/stage_origin.hpp"
#include "enrich/assets.hpp"
#include "enrich/fields.hpp"
#include "enrich/geoip.hpp"
#include "enrich/mitre.hpp"
#include "enrich/threat_intel.hpp"
#include "enrich/users/stage.hpp"
#include "sinks/file.hpp"
#include "sinks/kafka.hpp"
#include "sinks/elasticsearch/sink.hpp"
#include "sinks/loki.hpp"
#include "sinks/splunk_hec.hpp"
#include "sinks/stdout.hpp"
#include "sinks/syslog/sink.hpp"
#include "sinks/webhook.hpp"
#include "sources/file.hpp"
#include "sources/http.hpp"
#include "sources/stdin.hpp"
#include "sources/tcp.hpp"

namespace saker {
namespace {

// One line per component type.
const std::pair<std::string_view, SourceParser> kSources[] = {
    {"http", &parse_http_source},
    {"tcp", &parse_tcp_source},
    {"file", &parse_file_source},
    {"stdin", &parse_stdin_source},
};

const std::pair<std::string_view, SinkParser> kSinks[] = {
    {"stdout", &parse_stdout_sink},
    {"file", &parse_file_sink},
    {"elasticsearch", &parse_elasticsearch_sink},
    {"webhook", &parse_webhook_sink},
    {"splunk_hec", &parse_splunk_hec_sink},
    {"loki", &parse_loki_sink},
    {"kafka", &parse_kafka_sink},
    {"syslog", &parse_syslog_sink},
};

// Stages under `enrich:`, by key; they run in the order the config lists them. Each has a row in
// core/stage_origin.hpp too (what OCSF says of the fields it adds, and the key persisted alerts name it by).
constexpr std::pair<std::string_view, StageParser> kStages[] = {
    {"fields", &parse_fields_stage},
    {"mitre", &parse_mitre_stage},
    {"geoip", &parse_geoip_stage},
    {"users", &parse_users_stage},
    {"assets", &parse_assets_stage},
    {"threat_intel", &parse_threat_intel_stage},
};
static_assert(std::ranges::all_of(kStages, [](const auto& s) { return stage_id(s.first) != kUnknownStage; }),
              "every stage needs its row in core/stage_origin.hpp");

template <typename Parser, std::size_t N>
Parser find(const std::pair<std::string_view, Parser> (&table)[N], std::string_view type) {
  for (const auto& [name, parser] : table) {
    if (name == type) return parser;
  }
  return nullptr;
}

template <typename Table>
std::vector<std::string> names(const Table& table) {
  std::vector<std::string> out;
  for (const auto& entry : table) out.emplace_back(entry.first);
  return out;
}

}  // namespace

SourceParser find_source_parser(std::string_view type) { return find(kSources, type); }
SinkParser find_sink_parser(std::string_view type) { return find(kSinks, type); }
std::vector<std::string> source_types() { return names(kSources); }
std::vector<std::string> sink_types() { return names(kSinks); }
StageParser find_stage_parser(std::string_view name) { return find(kStages, name); }
std::vector<std::string> stage_types() { return names(kStages); }

}  // namespace saker
