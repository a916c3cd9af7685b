// Evaluation of a compiled filter. Runs per alert per sink, so it only reads what compile() prepared:
// no parsing, no allocation, string compares on views.
#include "route/filter.hpp"

#include "route/filter_parser.hpp"
#include "route/filter_tree.hpp"

namespace saker {
namespace {

using filter_impl::Op;
using filter_impl::Predicate;

bool holds(Op op, std::partial_ordering o) noexcept {
  switch (op) {
    case Op::Eq: return o == 0;
    case Op::Ne: return o != 0;
    case Op::Lt: return o < 0;
    case Op::Le: return o <= 0;
    case Op::Gt: return o > 0;
    case Op::Ge: return o >= 0;
    default: return false;
  }
}

// One scalar value (or one array element) against the test's operand.
bool test_value(const Predicate& t, Op op, const Value& v) noexcept {
  filter_impl::TextBuf buf;
  switch (op) {
    case Op::Eq:
    case Op::Ne:
    case Op::Lt:
    case Op::Le:
    case Op::Gt:
    case Op::Ge:
      if (v.is_number() && t.number.kind != filter_impl::Number::Kind::None) {
        return holds(op, filter_impl::compare(filter_impl::number_of(v), t.number));
      }
      return holds(op, filter_impl::text_of(v, buf) <=> std::string_view(t.text));
    case Op::Contains: return filter_impl::text_of(v, buf).find(t.text) != std::string_view::npos;
    case Op::IContains: return filter_impl::icontains(filter_impl::text_of(v, buf), t.lower);
    case Op::StartsWith: return filter_impl::text_of(v, buf).starts_with(t.text);
    case Op::EndsWith: return filter_impl::text_of(v, buf).ends_with(t.text);
    case Op::Glob: return t.glob->match(filter_impl::text_of(v, buf));
    case Op::Regex: return RE2::PartialMatch(filter_impl::text_of(v, buf), *t.regex);
    case Op::In:
    case Op::Intersects: return t.set->contains(v);
    case Op::Exists: return true;
  }
  return false;
}

bool test_priority(const Predicate& t, const Alert& a) noexcept {
  if (filter_impl::is_ordering(t.op)) return holds(t.op, a.priority <=> t.priority);
  switch (t.op) {
    case Op::In:
    case Op::Intersects: return (t.priorities >> static_cast<unsigned>(a.priority)) & 1U;
    case Op::Exists: return true;
    default: return test_value(t, t.op, Value::string(to_string(a.priority)));  // text operators see "Warning"
  }
}

bool test(const Predicate& t, const Alert& a) noexcept {
  if (t.priority_field) return test_priority(t, a);
  Value v;
  // A missing or null field fails every test, `exists` included (as Falco treats a field it cannot extract).
  if (!a.lookup(t.field, v) || v.is_null()) return false;
  if (t.op == Op::Exists) return true;
  if (v.kind != Value::Kind::Array) return test_value(t, t.op, v);
  // Arrays: a test holds when any element passes it; `!=` holds when no element equals the operand.
  const Op each = t.op == Op::Ne ? Op::Eq : t.op;
  bool any = false;
  for (const Value& item : a.items(v)) {
    if (!item.is_null() && test_value(t, each, item)) {
      any = true;
      break;
    }
  }
  return t.op == Op::Ne ? !any : any;
}

bool eval(const Filter::Node& n, const Alert& a) noexcept {
  switch (n.kind) {
    case Filter::Node::Kind::And:
      for (const auto& k : n.kids) {
        if (!eval(*k, a)) return false;
      }
      return true;
    case Filter::Node::Kind::Or:
      for (const auto& k : n.kids) {
        if (eval(*k, a)) return true;
      }
      return false;
    case Filter::Node::Kind::Not: return !eval(*n.kids.front(), a);
    case Filter::Node::Kind::Test: return test(n.test, a);
  }
  return false;
}

}  // namespace

Filter::Filter(std::unique_ptr<Node> root) : root_(std::move(root)) {}
Filter::~Filter() = default;

Result<std::shared_ptr<const Filter>> Filter::compile(std::string_view expression) {
  auto root = filter_impl::parse(expression);
  if (!root) return root.error();
  return std::shared_ptr<const Filter>(std::make_shared<const Filter>(std::move(root).value()));
}

bool Filter::matches(const Alert& alert) const { return eval(*root_, alert); }

}  // namespace saker
