#include "route/router.hpp"

#include <algorithm>

namespace saker {

Router::Router(std::vector<Target> targets, Metrics& metrics)
    : targets_(std::move(targets)),
      unrouted_(metrics.counter("saker_alerts_unrouted_total", "Alerts no sink's route matched")),
      backpressure_(metrics.counter("saker_backpressure_total",
                                    "Batches refused because a matched sink's queue was full (sources retry)")),
      push_failures_(metrics.counter("saker_router_push_failures_total",
                                     "Batches a consumer could not take for a reason other than a full queue")) {
  if (targets_.empty()) {
    floor_ = Priority::Debug;
  } else {
    floor_ = Priority::Emergency;
    for (const auto& t : targets_) floor_ = std::min(floor_, t.route.min_priority);
  }
}

namespace {

// The batch a thread's last submit refused after some consumers took it: which ones hold it already.
struct PartialPush {
  const void* router = nullptr;
  const Alert* first = nullptr;
  std::size_t size = 0;
  std::vector<bool> done;
};

}  // namespace

Router::Outcome Router::submit(std::vector<AlertPtr>& batch) const {
  if (batch.empty()) return Outcome::Taken;
  // Per-thread scratch: one list per consumer, reused across calls so routing allocates nothing in steady state.
  thread_local std::vector<std::vector<AlertPtr>> routed;
  thread_local PartialPush partial;
  if (routed.size() < targets_.size()) routed.resize(targets_.size());
  const bool retry = partial.router == this && partial.first == batch.front().get() && partial.size == batch.size();
  if (!retry) partial.done.assign(targets_.size(), false);
  partial.router = nullptr;

  std::uint64_t unrouted = 0;
  for (const auto& alert : batch) {
    bool any = false;
    for (std::size_t i = 0; i < targets_.size(); ++i) {
      const Target& t = targets_[i];
      if (alert->is_test ? t.takes_tests : t.route.matches(*alert)) {
        if (!partial.done[i]) routed[i].push_back(alert);
        any = true;
      }
    }
    if (!any) ++unrouted;
  }
  auto clear = [&] {
    for (std::size_t i = 0; i < targets_.size(); ++i) routed[i].clear();
  };
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    if (!routed[i].empty() && targets_[i].consumer->refusing()) {
      clear();
      if (retry) partial.router = this;  // still partly pushed: keep the memo for the next retry
      backpressure_.inc();
      return Outcome::Refused;
    }
  }
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    if (routed[i].empty()) continue;
    if (!targets_[i].consumer->push(routed[i])) {
      // Remember who holds it already, so the retry of this batch does not give it to them twice.
      partial.router = this;
      partial.first = batch.front().get();
      partial.size = batch.size();
      clear();
      push_failures_.inc();
      backpressure_.inc();
      return Outcome::Refused;
    }
    partial.done[i] = true;
  }
  if (unrouted) unrouted_.inc(unrouted);
  batch.clear();
  return Outcome::Taken;
}

}  // namespace saker
