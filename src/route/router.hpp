#pragma once
// The router: decoded (and staged) alerts -> every consumer whose route takes them. A consumer is a sink's runner
// today; the correlation engine and the playbook runner are consumers too, each with its own queue and threads,
// and correlation incidents come back through the router as new alerts.
//
// A batch is taken whole or not at all: first every matched consumer is asked whether it refuses work now (a full
// queue that blocks), and only when none does is the batch pushed to each; a push after that is never refused for
// being full. A consumer that fails to take its part for another reason (a disk buffer that cannot be written) makes
// the batch refused; on the retry of the same batch from the same thread the consumers that already hold it are
// skipped, so a retry does not duplicate alerts into them.
#include <memory>
#include <string>
#include <vector>

#include "core/alert.hpp"
#include "observe/metrics.hpp"
#include "route/route.hpp"

namespace saker {

class Consumer {
 public:
  virtual ~Consumer() = default;
  // Would a push now be refused because the consumer's queue is full and blocks? Cheap and approximate.
  virtual bool refusing() const noexcept = 0;
  // Takes every alert of `alerts` (leaving it empty) and returns true; false only when it cannot take them for a
  // reason other than being full (the router asked refusing() first), leaving `alerts` as it was.
  virtual bool push(std::vector<AlertPtr>& alerts) = 0;
};

class Router {
 public:
  struct Target {
    std::string name;
    Route route;
    Consumer* consumer;
    bool takes_tests = true;  // POST /test alerts reach it, whatever its route
  };
  Router(std::vector<Target> targets, Metrics& metrics);

  enum class Outcome { Taken, Refused };
  // On Taken the batch is left empty. On Refused it is left as it was: retry it later.
  Outcome submit(std::vector<AlertPtr>& batch) const;

  const std::vector<Target>& targets() const noexcept { return targets_; }
  // The lowest min_priority of any route (what a source may skip building at all).
  Priority floor() const noexcept { return floor_; }

 private:
  std::vector<Target> targets_;
  Priority floor_ = Priority::Debug;
  Counter& unrouted_;
  Counter& backpressure_;
  Counter& push_failures_;
};

}  // namespace saker
