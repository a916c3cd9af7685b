#pragma once
// Recursive-descent parser for the filter language; prepares every operand (numbers, priorities, globs,
// regexes, lists) so that evaluation never parses or allocates.
#include <memory>
#include <string_view>

#include "core/result.hpp"
#include "route/filter_tree.hpp"

namespace saker::filter_impl {

inline constexpr std::size_t kMaxExpressionBytes = 64 * 1024;
inline constexpr std::size_t kMaxDepth = 100;         // nested "(" and "not"
inline constexpr std::size_t kMaxListItems = 100000;  // values in one in/intersects list

// Error codes: filter_syntax, filter_regex, filter_priority, filter_limit; Error::column is 1-based.
Result<std::unique_ptr<Filter::Node>> parse(std::string_view expression);

}  // namespace saker::filter_impl
