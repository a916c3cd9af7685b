#pragma once
// `enrich: {assets: {path: assets.yaml}}`: what the asset an alert is about is and who owns it, from an inventory
// (enrich/feeds/inventory.hpp): every attribute of the most specific matching entry becomes asset.<attribute>.
#include <memory>
#include <string>

#include "core/stage.hpp"
#include "enrich/block_cache.hpp"
#include "enrich/feeds/inventory.hpp"

namespace saker {

struct AssetsConfig {
  std::string path;
  std::shared_ptr<const Inventory> inventory;
};

class AssetsStage final : public Stage {
 public:
  AssetsStage(std::shared_ptr<const AssetsConfig> config, StageContext& ctx);
  void process(Alert& alert) const override;

  static constexpr std::size_t kCacheEntries = 1 << 16;

 private:
  std::shared_ptr<const AssetsConfig> config_;
  // By the alert values the inventory's conditions read: the entry's fields (null block: no entry matches).
  mutable BlockCache cache_;
  Counter &hits_, &misses_;
};

// The entry's attributes as a block of fields.
std::unique_ptr<const FieldBlock> asset_block(const Inventory::Entry& e);

StageBuilder parse_assets_stage(const ConfigReader& r, StageFields& fields);

}  // namespace saker
