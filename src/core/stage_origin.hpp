#pragma once
// Which stage added a field: every added field records it (Field::stage, stamped by Alert::add_field / add_list /
// add_block with the stage StageChain::run is running; a stage cannot set it), and the persisted form keeps it by
// the stage's `enrich:` key, so an alert read back from the disk buffer or the dead-letter file says the same
// whatever stages the reading config has.
//
// One row per stage that adds fields: its `enrich:` key, and what OCSF's Enrichment object says of its fields
// (`type`: the kind of enrichment, `provider`: where its data comes from). A new enricher adds one row here besides
// its line in the stage registry (pipeline/registry.cpp checks that every registered stage has a row). A field's
// stage is the row's index; 0 is "not known" (Falco's own fields, a field added outside a stage chain, a record
// persisted before stages were recorded): formats then say nothing of its origin. Indexes are not persisted (keys
// are), so rows may be reordered.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

namespace saker {

struct StageOrigin {
  std::string_view key;       // the stage's key under `enrich:`
  std::string_view type;      // OCSF Enrichment.type
  std::string_view provider;  // OCSF Enrichment.provider
};

inline constexpr StageOrigin kStageOrigins[] = {
    {"", "", ""},  // 0: not known
    {"fields", "Custom Field", "saker config"},
    {"mitre", "MITRE ATT&CK", "Falco rule tags"},
    {"geoip", "Location", "MaxMind database"},
    {"users", "User", "user directory"},
    {"assets", "Asset", "asset inventory"},
    {"threat_intel", "Threat Intelligence", "IOC feeds"},
};

using StageId = std::uint8_t;
inline constexpr StageId kUnknownStage = 0;
static_assert(std::size(kStageOrigins) <= 256, "a stage id is one byte");

// The row of a stage key; kUnknownStage for a key without one (and for "").
constexpr StageId stage_id(std::string_view key) noexcept {
  if (key.empty()) return kUnknownStage;
  for (std::size_t i = 1; i < std::size(kStageOrigins); ++i) {
    if (kStageOrigins[i].key == key) return static_cast<StageId>(i);
  }
  return kUnknownStage;
}

// The row of a stage id (row 0, all empty, for an id out of range).
constexpr const StageOrigin& stage_origin(StageId id) noexcept {
  return id < std::size(kStageOrigins) ? kStageOrigins[id] : kStageOrigins[0];
}

namespace detail {
constexpr bool plain_json_text(std::string_view s) {
  for (char c : s) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
  }
  return true;
}
constexpr bool origins_are_plain() {
  for (std::size_t i = 0; i < std::size(kStageOrigins); ++i) {
    const StageOrigin& o = kStageOrigins[i];
    if (!plain_json_text(o.key) || !plain_json_text(o.type) || !plain_json_text(o.provider)) return false;
    if (i > 0 && (o.key.empty() || stage_id(o.key) != i)) return false;  // keys non-empty and unique
  }
  return true;
}
}  // namespace detail
// Formats and the persisted form write these texts as they are, without escaping.
static_assert(detail::origins_are_plain(), "stage keys, types and providers need no JSON escaping and keys are unique");

}  // namespace saker
