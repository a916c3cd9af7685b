#include "enrich/assets.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "config/files.hpp"
#include "core/field_picks.hpp"
#include "core/unique_keys.hpp"

namespace saker {

std::unique_ptr<const FieldBlock> asset_block(const Inventory::Entry& e) {
  FieldBlock::Builder b;
  for (const Inventory::Attribute& a : e.attributes) {
    if (a.list) {
      b.add_list(a.name, a.items);
    } else {
      b.add(a.name, a.value);
    }
  }
  return b.empty() ? nullptr : b.build();
}

AssetsStage::AssetsStage(std::shared_ptr<const AssetsConfig> config, StageContext& ctx)
    : config_(std::move(config)),
      cache_(kCacheEntries),
      hits_(ctx.metrics.counter("saker_enrich_hits_total", "Alerts a stage added at least one field to",
                                {{"stage", ctx.name}})),
      misses_(ctx.metrics.counter("saker_enrich_lookups_total", "Lookups a stage made, by what they found",
                                  {{"stage", ctx.name}, {"result", "not_found"}})) {
  ctx.metrics.gauge("saker_enrich_table_entries", "Entries in a stage's table", {{"stage", ctx.name}})
      .set(static_cast<std::int64_t>(config_->inventory->size()));
}

void AssetsStage::process(Alert& alert) const {
  const Inventory& inv = *config_->inventory;
  // The answer depends only on the values the conditions read: those are the cache's key.
  thread_local std::string key;
  key.clear();
  for (const std::string& f : inv.condition_fields()) {
    Value v;
    if (alert.lookup(f, v) && !v.is_null()) {
      key.push_back('\1');
      if (v.kind == Value::Kind::String || v.kind == Value::Kind::Array || v.kind == Value::Kind::Object) {
        key.append(v.text);
      } else {
        key.append(v.to_text());
      }
    }
    key.push_back('\0');
  }
  const bool labels = std::find(inv.condition_fields().begin(), inv.condition_fields().end(), "k8s.pod.labels") !=
                      inv.condition_fields().end();
  if (labels) {
    // Label conditions may read k8s.pod.label[<key>] fields too: those go into the key as the rest of the alert's
    // labels do (rare; the cache is skipped for them).
    key.clear();
  }
  const std::uint64_t hash = UniqueKeys::hash(key);
  const BlockCache::Entry* e = key.empty() ? nullptr : cache_.find(hash, key);
  std::unique_ptr<const FieldBlock> own;
  if (!e) {
    const Inventory::Entry* entry = inv.match(alert);
    if (entry) own = asset_block(*entry);
    if (!key.empty() && !cache_.full()) e = cache_.remember(hash, key, own);
  }
  const FieldBlock* block = e ? e->block : own.get();
  if (!block) {
    misses_.inc();
    return;
  }
  const std::size_t skipped = e ? alert.add_block(*block) : alert.copy_block(*block);
  if (skipped < block->fields().size()) hits_.inc();
}

StageBuilder parse_assets_stage(const ConfigReader& r, StageFields& fields) {
  if (!r.node.IsMap()) {
    r.errors.add(r.node, r.ctx, "must be a map: {path: assets.yaml}");
    return nullptr;
  }
  r.only({"path", "format"});
  auto cfg = std::make_shared<AssetsConfig>();
  cfg->path = r.path("path", {}, true);
  if (cfg->path.empty()) return nullptr;
  Inventory::Format format = Inventory::Format::Auto;
  if (r.has("format")) {
    const std::string f = r.string("format");
    if (f == "yaml") format = Inventory::Format::Yaml;
    else if (f == "json") format = Inventory::Format::Json;
    else if (f == "csv") format = Inventory::Format::Csv;
    else {
      r.errors.add(r.node["format"], r.key_name("format"), "must be yaml, json or csv (default: by the file's extension)");
      return nullptr;
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto inv = Inventory::load(cfg->path, format);
  if (!inv) {
    r.errors.add(r.node["path"], r.key_name("path"), inv.error().message);
    return nullptr;
  }
  cfg->inventory = std::move(inv).value();
  r.errors.note_loaded_file(cfg->path, file_digest(cfg->path));  // a reload sees a changed inventory
  spdlog::debug("assets: {} entries from {} in {} ms", cfg->inventory->size(), cfg->path,
                std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
  for (const std::string& n : cfg->inventory->attribute_names()) fields.add(n);
  // Decode picks the fields the conditions read: matching needs no field table.
  for (const std::string& f : cfg->inventory->condition_fields()) FieldPicks::want(f);
  return [cfg](StageContext& ctx) { return std::unique_ptr<Stage>(std::make_unique<AssetsStage>(cfg, ctx)); };
}

}  // namespace saker
