// PLACEHOLDER: the filter language is being written; this version accepts only the empty expression.
#include "route/filter.hpp"

namespace saker {

struct Filter::Node {};

Filter::Filter(std::unique_ptr<Node> root) : root_(std::move(root)) {}
Filter::~Filter() = default;

Result<std::shared_ptr<const Filter>> Filter::compile(std::string_view expression) {
  if (!expression.empty()) {
    Error e = make_error("filter_syntax", "filters are not implemented yet");
    e.column = 1;
    return e;
  }
  return std::make_shared<const Filter>(std::make_unique<Node>());
}

bool Filter::matches(const Alert&) const { return true; }

}  // namespace saker
