#pragma once
// The threat_intel stage's matches as the formats read them: its `threat.indicators` field, a JSON list of
// {type, value, field, feed} (docs/enrich/threat_intel.md).
#include <functional>
#include <string_view>

#include "core/alert.hpp"

namespace saker {

struct IndicatorMatch {
  std::string_view type;   // ipv4-addr, ipv6-addr, domain-name, file, process
  std::string_view value;  // the indicator as the feed wrote it
  std::string_view field;  // the alert field it matched in
  std::string_view feed;   // may be empty
};

inline constexpr std::string_view kIndicatorsField = "threat.indicators";

// Calls `fn` for each match the alert carries, in order; false when it carries none (or the field is not the
// stage's list).
bool for_each_indicator(const Alert& a, const std::function<void(const IndicatorMatch&)>& fn);

}  // namespace saker
