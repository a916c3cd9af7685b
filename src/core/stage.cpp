#include "core/stage.hpp"

#include <chrono>

#include "core/field_names.hpp"

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

void StageChain::add(std::string name, std::unique_ptr<Stage> stage, Timing& time) {
  stages_.push_back(Entry{std::move(name), std::move(stage), &time});
}

void StageChain::run(Alert& alert) const {
  thread_local std::uint32_t n = 0;
  if (++n % kTimingSample != 0) [[likely]] {
    for (const auto& e : stages_) e.stage->process(alert);
  } else {
    for (const auto& e : stages_) {
      const auto t0 = std::chrono::steady_clock::now();
      e.stage->process(alert);
      e.time->observe_ns(static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count()));
    }
  }
  // The blocks the alert borrowed belong to the stages: the alert keeps them, whatever reload does to the chain.
  if (alert.borrows()) alert.keep(weak_from_this().lock());
}

}  // namespace saker
