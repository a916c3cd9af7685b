#pragma once
// Which alerts a sink takes: its `min_priority` and optional `filter`.
#include <memory>

#include "core/alert.hpp"
#include "route/filter.hpp"

namespace saker {

struct Route {
  Priority min_priority = Priority::Debug;
  std::shared_ptr<const Filter> filter;  // null: no filter

  bool matches(const Alert& alert) const {
    return alert.priority >= min_priority && (!filter || filter->matches(alert));
  }
};

}  // namespace saker
