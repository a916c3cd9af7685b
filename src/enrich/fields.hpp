#pragma once
// `enrich: {fields: {...}}`: falcosidekick's customfields, templatedfields and customtags.
//
//   fields:
//     static:    {env: prod, cluster: eu-1}                     # added as given (strings, numbers, booleans)
//     templated: {summary: "{rule} on {hostname} by {user.name}"}  # rendered per alert; absent values render empty
//     tags:      [pci, tier-1]                                 # appended to the alert's tags
//
// A name the alert already has (from Falco or an earlier stage) is left alone and counted.
#include <deque>
#include <string>
#include <vector>

#include "core/field_block.hpp"
#include "core/stage.hpp"
#include "core/template.hpp"

namespace saker {

struct FieldsConfig {
  std::vector<std::pair<std::string, Value>> fixed;  // Value texts point into `texts`
  std::deque<std::string> texts;  // a deque: growing it never moves a string the views point into
  std::vector<std::pair<AddedName, FieldTemplate>> templated;
  std::vector<std::string> tags;
};

class FieldsStage final : public Stage {
 public:
  FieldsStage(std::shared_ptr<const FieldsConfig> config, StageContext& ctx);
  void process(Alert& alert) const override;

 private:
  std::shared_ptr<const FieldsConfig> config_;
  // The static fields, built once (null when there are none): interned, or (the pool is full) this stage's own,
  // copied into each alert.
  const FieldBlock* static_block_ = nullptr;
  std::unique_ptr<const FieldBlock> own_static_;
  Counter& skipped_;
};

StageBuilder parse_fields_stage(const ConfigReader& r, StageFields& fields);

}  // namespace saker
