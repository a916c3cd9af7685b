#include "pipeline/config.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "config/files.hpp"
#include "core/field_names.hpp"
#include "format/ecs.hpp"
#include "format/leef.hpp"
#include "pipeline/registry.hpp"

namespace saker {
namespace {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out.append(out.empty() ? "" : ", ").append(s);
  return out;
}

// A component's config as text, to tell on reload whether it changed.
std::string yaml_text(const YAML::Node& node) {
  YAML::Emitter out;
  out << node;
  return out.c_str();
}

// A component's config text for reload's comparison: its YAML and the files its parser noted since `mark` (TLS
// certificates and keys with their content's digest), so a renewed certificate at the same path is a change.
std::string component_text(const YAML::Node& node, const ConfigErrors& errors, std::size_t mark) {
  std::string text = yaml_text(node);
  const auto& files = errors.loaded_files();
  for (std::size_t i = mark; i < files.size(); ++i) text.append("\n# loads ").append(files[i]);
  return text;
}

// The top-level settings a component is built with, as text appended to its own: sources get limits and data_dir
// (SourceContext), sinks the same (SinkRunner: the disk buffer decodes its records again, the buffer and the
// dead-letter file live under data_dir), stages data_dir (StageContext). A reload compares the whole text, so a
// change to one of them restarts exactly the components that read it. Whatever Pipeline passes to a component
// from PipelineConfig belongs here.
std::string limits_text(const DecodeLimits& limits) {
  return fmt::format("\n# limits: max_alert_bytes {}, max_depth {}, max_fields {}", limits.max_alert_bytes,
                     limits.max_depth, limits.max_fields);
}
std::string data_dir_text(const PipelineConfig& cfg) { return "\n# data_dir: " + cfg.data_dir; }

void add_settings_text(PipelineConfig& cfg) {
  const std::string both = limits_text(cfg.limits) + data_dir_text(cfg);
  for (auto& s : cfg.sources) s.text.append(both);
  for (auto& s : cfg.sinks) s.text.append(both);
  for (auto& s : cfg.stages) s.text.append(data_dir_text(cfg));
}

void parse_limits(const ConfigReader& r, DecodeLimits& limits) {
  r.only({"max_alert_bytes", "max_depth", "max_fields"});
  limits.max_alert_bytes = r.size("max_alert_bytes", limits.max_alert_bytes);
  limits.max_depth = static_cast<std::size_t>(r.integer("max_depth", static_cast<std::int64_t>(limits.max_depth), 2, 256));
  limits.max_fields =
      static_cast<std::size_t>(r.integer("max_fields", static_cast<std::int64_t>(limits.max_fields), 1, 1000000));
}

void parse_buffer(const ConfigReader& r, BufferSpec& b) {
  r.only({"type", "max_bytes", "max_alerts", "when_full", "fsync", "fsync_interval", "segment_bytes"});
  const std::string type = r.string("type", "memory");
  if (type == "disk") {
    b.type = BufferSpec::Type::Disk;
    b.max_bytes = 256ULL * 1024 * 1024;
  } else if (type != "memory") {
    r.errors.add(r.node["type"], r.key_name("type"), "must be memory or disk");
  }
  b.max_bytes = r.size("max_bytes", b.max_bytes);
  b.max_alerts = static_cast<std::size_t>(r.integer("max_alerts", static_cast<std::int64_t>(b.max_alerts), 1, 100000000));
  if (b.type == BufferSpec::Type::Disk && r.has("max_alerts")) {
    r.errors.add(r.node["max_alerts"], r.key_name("max_alerts"), "applies to memory buffers; a disk buffer is bounded by max_bytes");
  }
  const std::string when_full = r.string("when_full", "block");
  if (when_full == "block") {
    b.when_full = WhenFull::Block;
  } else if (when_full == "drop_newest") {
    b.when_full = WhenFull::DropNewest;
  } else if (when_full == "drop_oldest" && b.type == BufferSpec::Type::Memory) {
    b.when_full = WhenFull::DropOldest;
  } else {
    r.errors.add(r.node["when_full"], r.key_name("when_full"),
                 b.type == BufferSpec::Type::Disk ? "must be block or drop_newest for a disk buffer"
                                                  : "must be block, drop_newest or drop_oldest");
  }
  const std::string fsync = r.string("fsync", "interval");
  if (fsync == "always") {
    b.fsync = FsyncPolicy::Always;
  } else if (fsync == "interval") {
    b.fsync = FsyncPolicy::Interval;
  } else if (fsync == "never") {
    b.fsync = FsyncPolicy::Never;
  } else {
    r.errors.add(r.node["fsync"], r.key_name("fsync"), "must be always, interval or never");
  }
  b.fsync_interval = r.duration("fsync_interval", b.fsync_interval);
  b.segment_bytes = r.size("segment_bytes", b.segment_bytes);
}

// `format_options`: the chosen format's settings. ecs: preserve_original, preserve_falco_fields (Elastic's
// integration's two switches); leef: delimiter (tab or ^).
void parse_format_options(const ConfigReader& sink, SinkSpec& spec) {
  const YAML::Node node = sink.node["format_options"];
  ConfigReader r{node, sink.key_name("format_options"), sink.errors};
  if (!node.IsMap()) {
    r.errors.add(node, r.ctx, "must be a map, e.g. {preserve_original: true}");
    return;
  }
  if (spec.format == "ecs") {
    r.only({"preserve_original", "preserve_falco_fields"});
    EcsOptions o;
    o.preserve_original = r.boolean("preserve_original", o.preserve_original);
    o.preserve_falco_fields = r.boolean("preserve_falco_fields", o.preserve_falco_fields);
    spec.formatter = std::make_shared<EcsFormatter>(o);
  } else if (spec.format == "leef") {
    r.only({"delimiter"});
    const std::string d = r.string("delimiter", "tab");
    if (d == "tab" || d == "\t") {
      spec.formatter = std::make_shared<LeefFormatter>('\t');
    } else if (d == "^") {
      spec.formatter = std::make_shared<LeefFormatter>('^');
    } else {
      r.errors.add(node["delimiter"], r.key_name("delimiter"), "must be tab or ^ (the delimiters QRadar's LEEF 2.0 takes)");
    }
  } else {
    r.errors.add(node, r.ctx,
                 fmt::format("format {} takes no options (ecs and leef do; set `format` to one of them)", spec.format));
  }
}

void parse_retry(const ConfigReader& r, SinkSpec& spec) {
  r.only({"initial", "max"});
  spec.retry_initial = std::max(r.duration("initial", spec.retry_initial), std::chrono::milliseconds(1));
  spec.retry_max = r.duration("max", spec.retry_max);
  if (spec.retry_initial > spec.retry_max) {
    r.errors.add(r.node[r.has("initial") ? "initial" : "max"], r.key_name("initial"),
                 fmt::format("{}ms is larger than retry.max ({}ms){}; the first wait cannot exceed the longest",
                             spec.retry_initial.count(), spec.retry_max.count(), r.has("max") ? "" : ", the default"));
    spec.retry_max = spec.retry_initial;
  }
}

// A filter error's column inside the expression becomes a column in the file: past the opening quote if any.
void compile_filter(const ConfigReader& r, SinkSpec& spec) {
  if (!r.has("filter")) return;
  const YAML::Node node = r.node["filter"];
  const std::string text = r.string("filter");
  auto compiled = Filter::compile(text);
  if (!compiled) {
    const bool quoted = node.Tag() == "!";
    const int col = compiled.error().column > 0 ? static_cast<int>(compiled.error().column) - 1 : 0;
    r.errors.add(node, r.key_name("filter"), compiled.error().message, col + (quoted ? 1 : 0));
    return;
  }
  spec.route.filter = std::move(compiled).value();
}

// `enrich:` is a map of stage name to its config; the stages run in the order the map lists them.
void parse_stages(const YAML::Node& map, PipelineConfig& cfg, ConfigErrors& errors) {
  if (!map.IsMap()) {
    errors.add(map, "enrich", "must be a map of stage to its settings, e.g. {fields: {static: {env: prod}}, mitre: true}");
    return;
  }
  StageFields fields;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string name = it->first.as<std::string>();
    StageParser parser = find_stage_parser(name);
    if (!parser) {
      std::vector<std::string_view> known;
      const auto types = stage_types();
      for (const auto& t : types) known.emplace_back(t);
      const std::string near = closest_name(name, known);
      errors.add(it->first, "enrich." + name,
                 fmt::format("unknown stage \"{}\"{}; known: {}", name, near.empty() ? "" : fmt::format(" (did you mean {}?)", near),
                             join(types)));
      continue;
    }
    const YAML::Node node = it->second;
    const std::size_t files = errors.loaded_files().size();
    StageBuilder build = parser(ConfigReader{node, "enrich." + name, errors}, fields);
    if (!build) continue;  // switched off (mitre: false) or in error
    // With the files it read (threat_intel's feeds) and their digests: new content at the same path is a change.
    cfg.stages.push_back(StageSpec{name, component_text(node, errors, files), std::move(build)});
  }
}

void parse_sources(const YAML::Node& list, PipelineConfig& cfg, ConfigErrors& errors) {
  if (!list.IsSequence()) {
    errors.add(list, "sources", "must be a list, e.g. - {type: http, listen: \"127.0.0.1:2801\"}");
    return;
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node node = list[i];
    ConfigReader r{node, fmt::format("sources[{}]", i), errors};
    if (!node.IsMap()) {
      errors.add(node, r.ctx, "must be a map with a `type`");
      continue;
    }
    const std::string type = r.string("type", "", true);
    if (type.empty()) continue;
    SourceParser parser = find_source_parser(type);
    if (!parser) {
      errors.add(node["type"], r.key_name("type"),
                 fmt::format("unknown source type \"{}\"; known: {}", type, join(source_types())));
      continue;
    }
    SourceSpec spec;
    spec.type = type;
    spec.name = r.string("name", type);
    if (!names.insert(spec.name).second) {
      errors.add(node, r.key_name("name"),
                 fmt::format("two sources are named \"{}\"; give each a unique `name`", spec.name));
    }
    const std::size_t files = errors.loaded_files().size();
    spec.build = parser(r);
    spec.text = component_text(node, errors, files);
    cfg.sources.push_back(std::move(spec));
  }
}

void parse_sinks(const YAML::Node& list, PipelineConfig& cfg, ConfigErrors& errors) {
  if (!list.IsSequence()) {
    errors.add(list, "sinks", "must be a list, e.g. - {name: out, type: stdout}");
    return;
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node node = list[i];
    ConfigReader r{node, fmt::format("sinks[{}]", i), errors};
    if (!node.IsMap()) {
      errors.add(node, r.ctx, "must be a map with a `type`");
      continue;
    }
    const std::string type = r.string("type", "", true);
    if (type.empty()) continue;
    SinkParser parser = find_sink_parser(type);
    if (!parser) {
      errors.add(node["type"], r.key_name("type"),
                 fmt::format("unknown sink type \"{}\"; known: {}", type, join(sink_types())));
      continue;
    }
    const std::size_t files = errors.loaded_files().size();
    SinkSpec spec;
    spec.type = type;
    spec.name = r.string("name", type);
    if (!names.insert(spec.name).second) {
      errors.add(node, r.key_name("name"), fmt::format("two sinks are named \"{}\"; give each a unique `name`", spec.name));
    }
    spec.route.min_priority = r.priority("min_priority", Priority::Debug);
    compile_filter(r, spec);
    spec.format = r.string("format", "json");
    if (auto f = make_formatter(spec.format)) {
      spec.formatter = std::move(f).value();
    } else {
      errors.add(node["format"], r.key_name("format"), f.error().message);
    }
    if (r.has("format_options") && spec.formatter) parse_format_options(r, spec);
    if (r.has("buffer")) parse_buffer(ConfigReader{node["buffer"], r.key_name("buffer"), errors}, spec.buffer);
    spec.batch_size = static_cast<std::size_t>(r.integer("batch_size", 1024, 1, 1000000));
    spec.batch_wait = r.duration("batch_wait", spec.batch_wait);
    if (spec.batch_wait > std::chrono::minutes(1)) {
      errors.add(node["batch_wait"], r.key_name("batch_wait"), "must be at most 1m");
    }
    if (r.has("retry")) parse_retry(ConfigReader{node["retry"], r.key_name("retry"), errors}, spec);
    spec.build = parser(r);
    spec.text = component_text(node, errors, files);
    cfg.sinks.push_back(std::move(spec));
  }
}

}  // namespace

namespace {
std::unique_ptr<PipelineConfig> parse_root(YAML::Node root, std::unique_ptr<PipelineConfig> cfg, ConfigErrors& errors,
                                           ConfigUse use);
}  // namespace

std::unique_ptr<PipelineConfig> parse_config(const std::string& yaml_text, ConfigErrors& errors, ConfigUse use) {
  auto cfg = std::make_unique<PipelineConfig>();
  cfg->file = errors.file();
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    errors.add_at(e.mark.line + 1, e.mark.column + 1, "", fmt::format("invalid YAML: {}", e.msg));
    return nullptr;
  }
  if (!root.IsMap()) {
    errors.add(root, "", "the config must be a YAML map with `sources:` and `sinks:`");
    return nullptr;
  }
  // A key that is a list or a map where a name is expected ({[a]: b}) is an error at its place, never a crash.
  try {
    return parse_root(root, std::move(cfg), errors, use);
  } catch (const YAML::Exception& e) {
    errors.add_at(e.mark.line + 1, e.mark.column + 1, "", "a key must be a plain string, not a list or a map");
    return nullptr;
  }
}

namespace {

std::unique_ptr<PipelineConfig> parse_root(YAML::Node root, std::unique_ptr<PipelineConfig> cfg, ConfigErrors& errors,
                                           ConfigUse use) {
  expand_placeholders(root, errors);
  ConfigReader r{root, "", errors};
  r.only({}, kTopLevelKeys);
  cfg->data_dir = r.path("data_dir", cfg->data_dir);
  cfg->log_level = r.string("log_level", cfg->log_level);
  cfg->log_format = r.string("log_format", cfg->log_format);
  if (cfg->log_format != "text" && cfg->log_format != "json") {
    errors.add(root["log_format"], "log_format", "must be text or json (one JSON object per line)");
  }
  static const std::set<std::string> kLevels{"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (!kLevels.count(cfg->log_level)) {
    errors.add(root["log_level"], "log_level", "must be one of trace, debug, info, warn, error, critical, off");
  }
  cfg->shutdown_grace = r.duration("shutdown_grace", cfg->shutdown_grace);
  cfg->watch_files = r.boolean("watch_files", cfg->watch_files);
  if (r.has("limits")) parse_limits(ConfigReader{root["limits"], "limits", errors}, cfg->limits);
  if (r.has("enrich")) parse_stages(root["enrich"], *cfg, errors);
  if (r.has("sources")) {
    parse_sources(root["sources"], *cfg, errors);
  } else if (use == ConfigUse::run) {
    errors.add(root, "sources",
               "is required: where alerts come from, e.g. - {type: http, listen: \"127.0.0.1:2801\"} "
               "(saker replay needs none)");
  }
  if (r.has("sinks")) {
    parse_sinks(root["sinks"], *cfg, errors);
  } else {
    errors.add(root, "sinks", "is required: where alerts go, e.g. - {name: out, type: stdout}");
  }
  // data_dir is created when first needed: check it when it is set or a disk buffer needs it.
  const bool disk = std::any_of(cfg->sinks.begin(), cfg->sinks.end(),
                                [](const SinkSpec& s) { return s.buffer.type == BufferSpec::Type::Disk; });
  if (r.has("data_dir") || disk) check_output_dir(r, "data_dir", cfg->data_dir);
  if (!errors.empty()) return nullptr;
  add_settings_text(*cfg);
  cfg->redactions = errors.redactions();
  cfg->loaded_files = errors.loaded_paths();
  return cfg;
}

}  // namespace

std::unique_ptr<PipelineConfig> load_config_file(const std::string& path, ConfigErrors& errors, ConfigUse use) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors.add_plain(fmt::format("cannot read config file {}", path));
    return nullptr;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::error_code ec;
  errors.set_base_dir(std::filesystem::absolute(path, ec).parent_path().string());
  return parse_config(ss.str(), errors, use);
}

const std::string& default_config_text() {
  static const std::string text = R"(# saker's embedded default: Falco's http_output -> JSON lines on stdout.
sources:
  - {type: http, listen: "127.0.0.1:2801"}
sinks:
  - {name: stdout, type: stdout, format: json}
)";
  return text;
}

}  // namespace saker
