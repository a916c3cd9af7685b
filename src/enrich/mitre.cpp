#include "enrich/mitre.hpp"

#include <algorithm>
#include <array>

namespace saker {

namespace {

struct Tactic {
  std::string_view tag, id, name;
};

// The 14 tactics of ATT&CK Enterprise, by the tag Falco's rules use (mitre_<name with underscores>).
constexpr std::array<Tactic, 15> kTactics{{
    {"mitre_reconnaissance", "TA0043", "Reconnaissance"},
    {"mitre_resource_development", "TA0042", "Resource Development"},
    {"mitre_initial_access", "TA0001", "Initial Access"},
    {"mitre_execution", "TA0002", "Execution"},
    {"mitre_persistence", "TA0003", "Persistence"},
    {"mitre_privilege_escalation", "TA0004", "Privilege Escalation"},
    {"mitre_defense_evasion", "TA0005", "Defense Evasion"},
    {"mitre_credential_access", "TA0006", "Credential Access"},
    {"mitre_discovery", "TA0007", "Discovery"},
    {"mitre_lateral_movement", "TA0008", "Lateral Movement"},
    {"mitre_collection", "TA0009", "Collection"},
    {"mitre_command_and_control", "TA0011", "Command and Control"},
    {"mitre_exfiltration", "TA0010", "Exfiltration"},
    {"mitre_impact", "TA0040", "Impact"},
    // Older Falco rules' spellings.
    {"mitre_remote_service", "TA0008", "Lateral Movement"},
}};

bool digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void push_unique(std::vector<std::string_view>& v, std::string_view s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

}  // namespace

std::pair<std::string_view, std::string_view> mitre_tactic(std::string_view tag) noexcept {
  for (const auto& t : kTactics) {
    if (t.tag == tag) return {t.id, t.name};
  }
  return {};
}

MitreStage::MitreStage(StageContext& ctx)
    : tagged_(ctx.metrics.counter("saker_enrich_hits_total", "Alerts a stage added at least one field to",
                                  {{"stage", ctx.name}})) {}

void MitreStage::process(Alert& alert) const {
  thread_local std::vector<std::string_view> techniques, subs, tactic_ids, tactic_names;
  techniques.clear();
  subs.clear();
  tactic_ids.clear();
  tactic_names.clear();
  for (std::string_view tag : alert.tags) {
    // T1059 or T1059.004, as the whole tag (Falco's rules tag techniques that way).
    if (tag.size() >= 5 && tag[0] == 'T' && digits(tag.substr(1, 4))) {
      if (tag.size() == 5) {
        push_unique(techniques, tag);
      } else if (tag.size() == 9 && tag[5] == '.' && digits(tag.substr(6, 3))) {
        push_unique(subs, tag);
        push_unique(techniques, tag.substr(0, 5));
      }
      continue;
    }
    if (auto [id, name] = mitre_tactic(tag); !id.empty()) {
      push_unique(tactic_ids, id);
      push_unique(tactic_names, name);
    }
  }
  // Views into tags: copied by add_list before anything could move them.
  bool any = false;
  if (!techniques.empty()) any |= alert.add_list("threat.technique.id", techniques) == Alert::AddResult::Added;
  if (!subs.empty()) any |= alert.add_list("threat.technique.subtechnique.id", subs) == Alert::AddResult::Added;
  if (!tactic_ids.empty()) {
    any |= alert.add_list("threat.tactic.id", tactic_ids) == Alert::AddResult::Added;
    alert.add_list("threat.tactic.name", tactic_names);
  }
  if (any) tagged_.inc();
}

StageBuilder parse_mitre_stage(const ConfigReader& r, StageFields& fields) {
  if (!r.node.IsScalar() || (r.node.Scalar() != "true" && r.node.Scalar() != "false")) {
    r.errors.add(r.node, r.ctx, "must be true or false");
    return nullptr;
  }
  if (r.node.Scalar() == "false") return nullptr;
  for (const char* n : {"threat.technique.id", "threat.technique.subtechnique.id", "threat.tactic.id", "threat.tactic.name"}) {
    fields.names.insert(n);
  }
  return [](StageContext& ctx) { return std::unique_ptr<Stage>(std::make_unique<MitreStage>(ctx)); };
}

}  // namespace saker
