#pragma once
// `enrich: {threat_intel: {...}}`: IOC matching of an alert's addresses, domains, file hashes and process name against
// threat-intel feeds (docs/enrich/threat_intel.md).
//
//   threat_intel:
//     feeds:
//       - {name: abuse-ips, type: list, path: ips.txt}   # list, csv, stix (2.1 bundle), misp (event export)
//     fields: {ip: [...], domain: [...], hash: [...], process: [...]}   # which alert fields are looked up
//
// On a hit: threat.matched: true and threat.indicators: [{type, value, field, feed}, ...] (deduplicated, at most
// max_matches). The feeds are read when the config is (so `saker check` reports a bad feed with its position) into
// one immutable ThreatIntelIndex every decoding thread shares.
#include <memory>
#include <string>
#include <vector>

#include "core/stage.hpp"
#include "enrich/feeds/feed.hpp"
#include "enrich/feeds/host_tokens.hpp"
#include "enrich/feeds/threat_intel_index.hpp"

namespace saker {

struct ThreatIntelConfig {
  struct Feed {
    std::string name;
    FeedFormat format = FeedFormat::List;
    std::string path;  // resolved against the config file's folder
    FeedStats stats;   // what its load added and skipped
  };
  std::vector<Feed> feeds;
  std::vector<std::string> ip_fields;       // read as addresses (enrich/ip_fields.hpp; fd.name as a tuple)
  std::vector<std::string> domain_fields;   // read as text with host names in it (feeds/host_tokens.hpp)
  std::vector<std::string> hash_fields;     // hex MD5, SHA-1 or SHA-256
  std::vector<std::string> process_fields;  // process names
  std::size_t max_matches = 16;
  HostTokenLimits tokens;
  std::shared_ptr<const ThreatIntelIndex> index;
};

class ThreatIntelStage final : public Stage {
 public:
  ThreatIntelStage(std::shared_ptr<const ThreatIntelConfig> config, StageContext& ctx);
  void process(Alert& alert) const override;

 private:
  std::shared_ptr<const ThreatIntelConfig> config_;
  std::shared_ptr<const ThreatIntelIndex> index_;  // immutable: a reload builds another
  AddedName matched_name_, indicators_name_;
  Counter& hits_;
  std::vector<Counter*> feed_hits_;  // by feed index
};

StageBuilder parse_threat_intel_stage(const ConfigReader& r, StageFields& fields);

}  // namespace saker
