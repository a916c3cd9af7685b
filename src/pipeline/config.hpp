#pragma once
// The whole daemon's configuration: parsed and validated up front (every error collected with file:line:col),
// holding builders rather than live components, so `saker check` never opens a port or a file.
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/node.hpp"
#include "core/decode.hpp"
#include "core/stage.hpp"
#include "format/formatter.hpp"
#include "route/route.hpp"
#include "sinks/queue/buffer.hpp"
#include "sinks/sink.hpp"
#include "sources/source.hpp"

namespace saker {

struct SourceSpec {
  std::string type;
  std::string name;
  // Its config as YAML text, plus the TLS files it loads with their content's digest and the top-level settings
  // its SourceContext carries (limits, data_dir): a reload leaves a source whose text is unchanged running.
  std::string text;
  SourceBuilder build;
};

struct SinkSpec {
  std::string type;
  std::string name;
  // Its config as YAML text, plus the TLS files it loads with their content's digest and the top-level settings
  // its runner is built with (limits, data_dir): a reload keeps an unchanged sink.
  std::string text;
  Route route;
  std::string format = "json";
  std::shared_ptr<const Formatter> formatter;
  BufferSpec buffer;
  std::size_t batch_size = 1024;  // alerts handed to the sink per write
  // How long a write waits for a batch to fill up to batch_size once its first alert is there; 0: at once.
  std::chrono::milliseconds batch_wait{0};
  std::chrono::milliseconds retry_initial{100};
  std::chrono::milliseconds retry_max{30000};
  SinkBuilder build;
};

// One stage under `enrich:`, in config order.
struct StageSpec {
  std::string name;  // its key: fields, mitre, ...
  // Its config as YAML text and the top-level settings its StageContext carries (data_dir): a reload rebuilds the
  // stages when one's text changed.
  std::string text;
  StageBuilder build;
};

// The top-level keys. A setting is either part of the text of every component built with it (limits, data_dir:
// add_settings_text in config.cpp), so a reload restarts what reads it, or read where and when it is used
// (shutdown_grace, log_level, log_format), so a reload applies it without restarting anything; sources, sinks and
// enrich are the components themselves. docs/operations.md says which is which; PipelineReload in pipeline_test.cpp
// fails for a key here that is sorted into neither.
inline constexpr std::array<std::string_view, 9> kTopLevelKeys = {
    "data_dir", "log_level", "log_format", "shutdown_grace", "watch_files", "limits", "sources", "sinks", "enrich"};

struct PipelineConfig {
  std::string file;  // where it came from ("<embedded default>" for the built-in one)
  std::string data_dir = "/var/lib/saker";
  std::string log_level = "info";
  std::string log_format = "text";  // or "json": one JSON object per line (time, level, message)
  Redactions redactions;             // ${env:…}/${file:…} values and credentials: never in what saker reports
  std::chrono::milliseconds shutdown_grace{10000};
  // A change to the config file or to a file a component loaded (a database, an inventory, a feed, a certificate)
  // reloads as SIGHUP does (`saker run`; config/file_watch.hpp).
  bool watch_files = true;
  std::vector<std::string> loaded_files;  // the files components loaded, as noted while parsing
  DecodeLimits limits;
  std::vector<SourceSpec> sources;
  std::vector<SinkSpec> sinks;
  std::vector<StageSpec> stages;
};

// What the config is for: `saker run` needs `sources:`, `saker replay` and `saker dlq replay` ignore them.
enum class ConfigUse { run, replay };

// Parses YAML text; on any error returns nothing and fills `errors` with every problem found. Relative paths
// resolve against errors.base_dir() (empty: the current directory).
std::unique_ptr<PipelineConfig> parse_config(const std::string& yaml_text, ConfigErrors& errors,
                                             ConfigUse use = ConfigUse::run);
// Reads and parses a file (errors name the file; relative paths resolve against the file's folder).
std::unique_ptr<PipelineConfig> load_config_file(const std::string& path, ConfigErrors& errors,
                                                 ConfigUse use = ConfigUse::run);

// The embedded default: HTTP on 127.0.0.1:2801 (Falco's http_output URL), JSON lines to stdout.
const std::string& default_config_text();

}  // namespace saker
