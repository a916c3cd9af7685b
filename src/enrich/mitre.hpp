#pragma once
// `enrich: {mitre: true}`: MITRE ATT&CK from Falco's tags, as Elastic's Falco integration maps them.
//   T1059       -> threat.technique.id: [T1059]
//   T1059.004   -> threat.technique.subtechnique.id: [T1059.004] (and its technique T1059)
//   mitre_execution -> threat.tactic.id: [TA0002], threat.tactic.name: [Execution] (the 14 enterprise tactics)
// Lists keep the tags' order without repeats; a field with nothing to say is not added.
#include "core/stage.hpp"

namespace saker {

class MitreStage final : public Stage {
 public:
  explicit MitreStage(StageContext& ctx);
  void process(Alert& alert) const override;

 private:
  Counter& tagged_;
};

StageBuilder parse_mitre_stage(const ConfigReader& r, StageFields& fields);

// The enterprise tactic of a `mitre_*` tag: {id, name}, or empty views when the tag names none.
std::pair<std::string_view, std::string_view> mitre_tactic(std::string_view tag) noexcept;

}  // namespace saker
