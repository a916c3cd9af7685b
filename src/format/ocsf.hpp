#pragma once
#include <string_view>

#include "format/formatter.hpp"

namespace saker {

// The OCSF schema version the `ocsf` format emits (metadata.version).
inline constexpr std::string_view kOcsfVersion = "1.8.0";

// `ocsf`: an OCSF Detection Finding (class_uid 2004, category Findings) per alert: finding_info from the rule,
// evidences (process, container, file, network endpoints), resources (Kubernetes), typed observables, every
// field it did not map under `unmapped`, and the fields stages added as `enrichments`. Mapping:
// docs/formats/ocsf.md.
class OcsfFormatter final : public Formatter {
 public:
  void format(const Alert& alert, std::string& out) const override;
};

}  // namespace saker
