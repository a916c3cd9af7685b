#include "enrich/mitre.hpp"

#include <algorithm>
#include <array>

#include "core/unique_keys.hpp"

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

namespace {

// The fields Falco's tags say: built into a block (null when there is nothing to add).
std::unique_ptr<const FieldBlock> build_block(std::span<const std::string_view> tags) {
  thread_local std::vector<std::string_view> techniques, subs, tactic_ids, tactic_names;
  techniques.clear();
  subs.clear();
  tactic_ids.clear();
  tactic_names.clear();
  for (std::string_view tag : tags) {
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
  FieldBlock::Builder b;
  if (!techniques.empty()) b.add_list("threat.technique.id", techniques);
  if (!subs.empty()) b.add_list("threat.technique.subtechnique.id", subs);
  if (!tactic_ids.empty()) {
    b.add_list("threat.tactic.id", tactic_ids);
    b.add_list("threat.tactic.name", tactic_names);
  }
  return b.empty() ? nullptr : b.build();
}

}  // namespace

MitreStage::TagsKey MitreStage::key_of(std::span<const std::string_view> tags, std::string& scratch) {
  // decode stores an alert's tags back to back: their bytes are one view then, and one hash and one comparison
  // cover them all. The lengths go into the hash and the comparison, so ["ab","c"] and ["a","bc"] differ.
  bool adjacent = true;
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    bytes += tags[i].size();
    if (i > 0 && tags[i].data() != tags[i - 1].data() + tags[i - 1].size()) adjacent = false;
  }
  TagsKey k;
  if (adjacent) {
    k.bytes = tags.empty() ? std::string_view() : std::string_view(tags.front().data(), bytes);
  } else {
    scratch.clear();
    for (auto t : tags) scratch.append(t);
    k.bytes = scratch;
  }
  std::uint64_t h = UniqueKeys::hash(k.bytes) ^ (tags.size() * 0x9E3779B97F4A7C15ULL);
  for (auto t : tags) h = (h ^ t.size()) * 0xBF58476D1CE4E5B9ULL;
  k.hash = h ^ (h >> 31);
  return k;
}

bool MitreStage::Set::same(const TagsKey& k, std::span<const std::string_view> tags) const noexcept {
  if (hash != k.hash || lengths.size() != tags.size() || bytes != k.bytes) return false;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    if (lengths[i] != tags[i].size()) return false;
  }
  return true;
}

const MitreStage::Set* MitreStage::find(const TagsKey& k, std::span<const std::string_view> tags) const noexcept {
  for (std::size_t i = 0; i < kProbes; ++i) {
    const Set* s = slots_[(k.hash + i) & (kSlots - 1)].load(std::memory_order_acquire);
    if (!s) return nullptr;
    if (s->same(k, tags)) return s;
  }
  return nullptr;
}

const MitreStage::Set* MitreStage::remember(const TagsKey& k, std::span<const std::string_view> tags,
                                            std::unique_ptr<const FieldBlock>& block) const {
  std::lock_guard lock(mu_);
  if (const Set* s = find(k, tags)) return s;  // another thread was first
  if (sets_.size() >= kMaxSets) {
    full_.store(true, std::memory_order_relaxed);  // from now on no alert takes the lock to try
    return nullptr;
  }
  for (std::size_t i = 0; i < kProbes; ++i) {
    auto& slot = slots_[(k.hash + i) & (kSlots - 1)];
    if (slot.load(std::memory_order_relaxed)) continue;
    const FieldBlock* interned = nullptr;
    if (block && !(interned = FieldBlock::intern(block))) {
      full_.store(true, std::memory_order_relaxed);  // the process's pool of blocks is full: copy from now on
      return nullptr;
    }
    auto s = std::make_unique<Set>();
    s->hash = k.hash;
    s->bytes.assign(k.bytes);
    for (auto t : tags) s->lengths.push_back(t.size());
    s->block = interned;
    slot.store(s.get(), std::memory_order_release);
    sets_.push_back(std::move(s));
    return sets_.back().get();
  }
  return nullptr;  // its probe run is full
}

void MitreStage::process(Alert& alert) const {
  if (alert.tags.empty()) return;
  thread_local std::string scratch;
  const std::span<const std::string_view> tags = alert.tag_span();
  const TagsKey k = key_of(tags, scratch);
  const Set* set = find(k, tags);
  std::unique_ptr<const FieldBlock> own;
  if (!set) {
    own = build_block(tags);
    // remember() takes `own` when it keeps it; otherwise (the table is full) it stays this alert's.
    if (!full_.load(std::memory_order_relaxed)) set = remember(k, tags, own);
  }
  const FieldBlock* block = set ? set->block : own.get();
  if (!block) return;
  // A remembered block is interned (it lives as long as the process); the alert's own is copied.
  const std::size_t skipped = set ? alert.add_block(*block) : alert.copy_block(*block);
  if (skipped < block->fields().size()) tagged_.inc();
}

StageBuilder parse_mitre_stage(const ConfigReader& r, StageFields& fields) {
  if (!r.node.IsScalar() || (r.node.Scalar() != "true" && r.node.Scalar() != "false")) {
    r.errors.add(r.node, r.ctx, "must be true or false");
    return nullptr;
  }
  if (r.node.Scalar() == "false") return nullptr;
  for (const char* n : {"threat.technique.id", "threat.technique.subtechnique.id", "threat.tactic.id", "threat.tactic.name"}) {
    fields.add(n);
  }
  return [](StageContext& ctx) { return std::unique_ptr<Stage>(std::make_unique<MitreStage>(ctx)); };
}

}  // namespace saker
