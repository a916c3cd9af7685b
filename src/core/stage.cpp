#include "core/stage.hpp"

#include <chrono>

#include "core/field_names.hpp"
#include "core/field_picks.hpp"

namespace saker {

bool StageFields::known(std::string_view name) const {
  if (is_alert_key(name) || is_falco_field(name)) return true;
  if (names.count(name)) return true;
  // A field the stages add with an argument or a deeper path, e.g. asset.<attribute>.
  for (const auto& n : names) {
    if (n.ends_with(".*") && name.starts_with(std::string_view(n).substr(0, n.size() - 1))) return true;
  }
  return false;
}

void StageFields::add(const std::string& name) {
  names.insert(name);
  if (!name.ends_with(".*")) FieldPicks::want(name);
}

void StageChain::add(std::string name, std::unique_ptr<Stage> stage, Timing& time) {
  const StageId id = stage_id(name);
  stages_.push_back(Entry{std::move(name), std::move(stage), &time, id});
}

void StageChain::run(Alert& alert) const {
  // The alert stamps what each stage adds with the stage set here; a chain run from inside a stage (nested) leaves
  // the running stage's stamp. Reset when the outermost run ends, however it ends.
  struct Stamp {
    Alert& a;
    const bool outer = !a.in_chain_;
    Stamp(Alert& alert) : a(alert) { a.in_chain_ = true; }
    ~Stamp() {
      if (outer) a.in_chain_ = false, a.stage_ = kUnknownStage;
    }
    void set(StageId id) noexcept {
      if (outer) a.stage_ = id;
    }
  } stamp(alert);
  thread_local std::uint32_t n = 0;
  if (++n % kTimingSample != 0) [[likely]] {
    for (const auto& e : stages_) {
      stamp.set(e.id);
      e.stage->process(alert);
    }
  } else {
    for (const auto& e : stages_) {
      stamp.set(e.id);
      const auto t0 = std::chrono::steady_clock::now();
      e.stage->process(alert);
      e.time->observe_ns(static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count()));
    }
  }
}

}  // namespace saker
