#pragma once
#include "format/formatter.hpp"

namespace saker {

// The two switches of Elastic's integration (its input tags); both off is the integration's default.
struct EcsOptions {
  // `event.original`: the alert as received (tag `preserve_original_event`).
  bool preserve_original = false;
  // Keep `falco.rule` and the `falco.output_fields` that were copied to ECS fields (tag `preserve_falco_fields`).
  bool preserve_falco_fields = false;
};

// `ecs`: the Elastic Common Schema document that Elastic's own Falco integration (its ingest pipeline) makes of
// the alert, so it can be indexed into Elasticsearch directly; fields stages added go to ECS's threat fields and
// `labels` (ecs_added.hpp). Mapping and differences: docs/formats/ecs.md.
class EcsFormatter final : public Formatter {
 public:
  explicit EcsFormatter(EcsOptions options = {}) : opt_(options) {}
  void format(const Alert& alert, std::string& out) const override;

 private:
  EcsOptions opt_;
};

}  // namespace saker
