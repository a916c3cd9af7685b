#pragma once
// `enrich: {mitre: true}`: MITRE ATT&CK from Falco's tags, as Elastic's Falco integration maps them.
//   T1059       -> threat.technique.id: [T1059]
//   T1059.004   -> threat.technique.subtechnique.id: [T1059.004] (and its technique T1059)
//   mitre_execution -> threat.tactic.id: [TA0002], threat.tactic.name: [Execution] (the 14 enterprise tactics)
// Lists keep the tags' order without repeats; a field with nothing to say is not added.
//
// A rule's alerts all carry the same tags, so the fields of each set of tags seen are built once, as a FieldBlock,
// and looked up by the tags' hash (lock-free; up to kMaxSets sets, then the fields are built per alert).
#include <array>
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "core/field_block.hpp"
#include "core/stage.hpp"

namespace saker {

class MitreStage final : public Stage {
 public:
  explicit MitreStage(StageContext& ctx);
  void process(Alert& alert) const override;

  static constexpr std::size_t kMaxSets = 1024;

 private:
  // A set of tags as the table knows it: their bytes back to back and their hash (of the bytes and the lengths).
  struct TagsKey {
    std::uint64_t hash = 0;
    std::string_view bytes;
  };
  static TagsKey key_of(std::span<const std::string_view> tags, std::string& scratch);
  struct Set {
    std::uint64_t hash = 0;
    std::string bytes;                  // the tags back to back
    std::vector<std::size_t> lengths;   // and where each ends
    const FieldBlock* block = nullptr;  // interned (FieldBlock::intern); null: these tags say nothing of ATT&CK
    bool same(const TagsKey& k, std::span<const std::string_view> tags) const noexcept;
  };
  static constexpr std::size_t kSlots = 2 * kMaxSets;  // open addressing, at most half full
  static constexpr std::size_t kProbes = 16;
  const Set* find(const TagsKey& k, std::span<const std::string_view> tags) const noexcept;
  const Set* remember(const TagsKey& k, std::span<const std::string_view> tags,
                      std::unique_ptr<const FieldBlock>& block) const;  // moved from only when remembered

  Counter& tagged_;
  mutable std::array<std::atomic<const Set*>, kSlots> slots_{};
  mutable std::mutex mu_;                           // taken to add a set
  mutable std::atomic<bool> full_{false};  // kMaxSets are remembered, or the process's block pool is full: stop trying
  mutable std::vector<std::unique_ptr<Set>> sets_;  // owns what slots_ points at
};

StageBuilder parse_mitre_stage(const ConfigReader& r, StageFields& fields);

// The enterprise tactic of a `mitre_*` tag: {id, name}, or empty views when the tag names none.
std::pair<std::string_view, std::string_view> mitre_tactic(std::string_view tag) noexcept;

}  // namespace saker
