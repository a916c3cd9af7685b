#include "enrich/fields.hpp"

#include <fmt/format.h>

#include "core/field_names.hpp"
#include "core/json_text.hpp"

namespace saker {

FieldsStage::FieldsStage(std::shared_ptr<const FieldsConfig> config, StageContext& ctx)
    : config_(std::move(config)),
      skipped_(ctx.metrics.counter("saker_enrich_skipped_total",
                                   "Fields a stage did not add because the alert already had that name",
                                   {{"stage", ctx.name}})) {
  FieldBlock::Builder b;
  for (const auto& [name, value] : config_->fixed) b.add(name, value);  // names and texts checked at parse
  if (b.empty()) return;
  own_static_ = b.build();
  static_block_ = FieldBlock::intern(own_static_);
}

void FieldsStage::process(Alert& alert) const {
  std::uint64_t skipped = static_block_ ? alert.add_block(*static_block_) : own_static_ ? alert.copy_block(*own_static_) : 0;
  thread_local std::string text;
  for (const auto& [name, tmpl] : config_->templated) {
    text.clear();
    tmpl.render(alert, text);
    // Valid UTF-8: the template's text is (checked at parse), and so is every value of an alert.
    if (alert.add_field(name, Value::string(text), true) != Alert::AddResult::Added) ++skipped;
  }
  for (const auto& t : config_->tags) alert.add_tag(t);
  if (skipped) skipped_.inc(skipped);
}

namespace {

// A name an added field may take: Falco's field syntax (letters, digits, '_', '-', '.'), not an alert key.
bool check_name(const ConfigReader& r, const YAML::Node& at, const std::string& ctx, const std::string& name) {
  bool ok = !name.empty() && name.front() != '.' && name.back() != '.';
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                c == '.');
  }
  if (!ok) {
    r.errors.add(at, ctx, fmt::format("\"{}\" is not a field name: use letters, digits, '_', '-' and '.'", name));
    return false;
  }
  if (is_alert_key(name) || name == "output_fields" || name == kPersistKey) {
    r.errors.add(at, ctx, fmt::format("\"{}\" is one of the alert's own keys; a stage only adds new fields", name));
    return false;
  }
  return true;
}

}  // namespace

StageBuilder parse_fields_stage(const ConfigReader& r, StageFields& fields) {
  auto cfg = std::make_shared<FieldsConfig>();
  if (!r.node.IsMap()) {
    r.errors.add(r.node, r.ctx, "must be a map: {static: {env: prod}, templated: {summary: \"{rule} on {hostname}\"}, tags: [pci]}");
    return nullptr;
  }
  r.only({"static", "templated", "tags"});
  std::set<std::string> names;
  auto unique = [&](const YAML::Node& at, const std::string& ctx, const std::string& name) {
    if (names.insert(name).second) return true;
    r.errors.add(at, ctx, fmt::format("\"{}\" is given twice", name));
    return false;
  };
  if (const YAML::Node st = r.node["static"]; st) {
    if (!st.IsMap()) {
      r.errors.add(st, r.key_name("static"), "must be a map of field name to value, e.g. {env: prod}");
    } else {
      for (auto it = st.begin(); it != st.end(); ++it) {
        const std::string name = it->first.as<std::string>();
        const std::string ctx = r.key_name("static") + "." + name;
        if (!check_name(r, it->first, ctx, name) || !unique(it->first, ctx, name)) continue;
        if (!it->second.IsScalar()) {
          r.errors.add(it->second, ctx, "must be a string, number or boolean");
          continue;
        }
        const std::string text = it->second.Scalar();
        Value v;
        // Unquoted YAML numbers and booleans keep their type; anything quoted is a string.
        const bool plain = it->second.Tag() == "?";
        std::int64_t i = 0;
        bool b = false;
        double d = 0;
        if (plain && YAML::convert<std::int64_t>::decode(it->second, i) && text.find_first_of(".eE") == std::string::npos) {
          v = Value::integer(i);
        } else if (plain && YAML::convert<bool>::decode(it->second, b) && (text == "true" || text == "false")) {
          v.kind = Value::Kind::Bool;
          v.boolean = b;
        } else if (plain && YAML::convert<double>::decode(it->second, d) && text.find_first_of("0123456789") != std::string::npos &&
                   text.find_first_not_of("0123456789.eE+-") == std::string::npos) {
          v.kind = Value::Kind::Double;
          v.d = d;
        } else if (!valid_utf8(text)) {
          r.errors.add(it->second, ctx, "is not valid UTF-8");
          continue;
        } else {
          cfg->texts.push_back(text);
          v = Value::string(cfg->texts.back());
        }
        cfg->fixed.emplace_back(name, v);
        fields.add(name);
      }
    }
  }
  if (const YAML::Node tp = r.node["templated"]; tp) {
    if (!tp.IsMap()) {
      r.errors.add(tp, r.key_name("templated"), "must be a map of field name to template, e.g. {summary: \"{rule} on {hostname}\"}");
    } else {
      for (auto it = tp.begin(); it != tp.end(); ++it) {
        const std::string name = it->first.as<std::string>();
        const std::string ctx = r.key_name("templated") + "." + name;
        if (!check_name(r, it->first, ctx, name) || !unique(it->first, ctx, name)) continue;
        if (!it->second.IsScalar()) {
          r.errors.add(it->second, ctx, "must be a template string, e.g. \"{rule} on {hostname}\"");
          continue;
        }
        if (!valid_utf8(it->second.Scalar())) {
          r.errors.add(it->second, ctx, "is not valid UTF-8");
          continue;
        }
        auto t = FieldTemplate::compile(it->second.Scalar(), [&](std::string_view n) { return fields.known(n); });
        if (!t) {
          const bool quoted = it->second.Tag() == "!";
          const int col = t.error().column > 0 ? static_cast<int>(t.error().column) - 1 : 0;
          r.errors.add(it->second, ctx, t.error().message, col + (quoted ? 1 : 0));
          continue;
        }
        fields.add(name);                    // first: the name knows its pick slot then
        auto added = AddedName::make(name);  // check_name() allowed it: a valid name
        if (!added) continue;
        cfg->templated.emplace_back(std::move(*added), std::move(t).value());
      }
    }
  }
  if (const YAML::Node tags = r.node["tags"]; tags) {
    if (!tags.IsSequence()) {
      r.errors.add(tags, r.key_name("tags"), "must be a list of tags, e.g. [pci, tier-1]");
    } else {
      for (const auto& t : tags) {
        if (!t.IsScalar() || t.Scalar().empty()) {
          r.errors.add(t, r.key_name("tags"), "each tag must be a non-empty string");
          continue;
        }
        cfg->tags.push_back(t.Scalar());
      }
    }
  }
  return [cfg](StageContext& ctx) { return std::unique_ptr<Stage>(std::make_unique<FieldsStage>(cfg, ctx)); };
}

}  // namespace saker
