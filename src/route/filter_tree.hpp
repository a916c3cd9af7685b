#pragma once
// The compiled filter: a tree of and/or/not over predicates whose operands were prepared at compile time.
#include <re2/re2.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/priority.hpp"
#include "route/filter.hpp"
#include "route/filter_glob.hpp"
#include "route/filter_values.hpp"

namespace saker::filter_impl {

enum class Op : std::uint8_t {
  Eq, Ne, Lt, Le, Gt, Ge,
  Contains, IContains, StartsWith, EndsWith, Glob, Regex,
  In, Intersects, Exists,
};

inline bool is_ordering(Op op) noexcept { return op <= Op::Ge; }

// One `field operator operand` test.
struct Predicate {
  std::string field;
  Op op = Op::Exists;
  bool priority_field = false;  // `priority` compares by severity, not by name
  std::string text;             // the operand, unescaped
  Number number;                // the operand as a number, when it is one
  std::string lower;            // icontains: the operand in lower case
  Priority priority{};          // priority with = != < <= > >=
  std::uint32_t priorities = 0; // priority with in/intersects: bit i set for Priority i
  std::optional<Glob> glob;
  std::unique_ptr<RE2> regex;
  std::unique_ptr<ValueSet> set;  // in/intersects on other fields
};

}  // namespace saker::filter_impl

namespace saker {

struct Filter::Node {
  enum class Kind : std::uint8_t { And, Or, Not, Test };
  Kind kind = Kind::Test;
  std::vector<std::unique_ptr<Node>> kids;  // And/Or: two or more; Not: one
  filter_impl::Predicate test;              // Test only
};

}  // namespace saker
