#include "route/filter_parser.hpp"

#include <fmt/format.h>

#include <array>
#include <optional>
#include <utility>

#include "core/field_picks.hpp"
#include "core/time.hpp"
#include "route/filter_lexer.hpp"

namespace saker::filter_impl {
namespace {

using Node = Filter::Node;
using NodePtr = std::unique_ptr<Node>;

struct OpName {
  std::string_view name;
  Op op;
};

constexpr std::array<OpName, 16> kOps{{
    {"=", Op::Eq}, {"==", Op::Eq}, {"!=", Op::Ne}, {"<", Op::Lt}, {"<=", Op::Le}, {">", Op::Gt}, {">=", Op::Ge},
    {"contains", Op::Contains}, {"icontains", Op::IContains}, {"startswith", Op::StartsWith},
    {"endswith", Op::EndsWith}, {"glob", Op::Glob}, {"regex", Op::Regex}, {"in", Op::In},
    {"intersects", Op::Intersects}, {"exists", Op::Exists},
}};

constexpr std::string_view kOperatorList =
    "an operator (=, !=, <, <=, >, >=, contains, icontains, startswith, endswith, glob, regex, in, intersects "
    "or exists)";
constexpr std::string_view kPriorityList =
    "a priority (debug, informational, notice, warning, error, critical, alert or emergency)";

std::optional<Op> find_op(std::string_view name) noexcept {
  for (const auto& o : kOps) {
    if (o.name == name) return o.op;
  }
  return std::nullopt;
}

bool is_keyword(std::string_view w) noexcept {
  return w == "and" || w == "or" || w == "not" || (find_op(w) && w[0] >= 'a');
}

// True for "AND", "Contains", ...: a keyword typed in the wrong case.
bool is_miscased_keyword(std::string_view w) {
  const std::string lower = ascii_lower(w);
  return lower != w && is_keyword(lower);
}

NodePtr make(Node::Kind kind) {
  auto n = std::make_unique<Node>();
  n->kind = kind;
  return n;
}

// Appends `kid` to an and/or node, splicing in a kid of the same kind so "(a and b) and c" is one flat list.
void adopt(Node& parent, NodePtr kid) {
  if (kid->kind == parent.kind) {
    for (auto& k : kid->kids) parent.kids.push_back(std::move(k));
  } else {
    parent.kids.push_back(std::move(kid));
  }
}

class Parser {
 public:
  explicit Parser(std::string_view src) : s_(src) {}

  Result<NodePtr> run() {
    NodePtr root = parse_or();
    if (root) {
      s_.skip_space();
      if (!s_.at_end()) root = expected("\"and\", \"or\" or end of expression", s_.pos());
    }
    if (root) return root;
    if (!error_) fail("filter_syntax", 0, "the filter could not be read");  // unreachable: failures set error_
    return std::move(*error_);
  }

 private:
  NodePtr parse_or() {
    NodePtr first = parse_and();
    if (!first) return nullptr;
    s_.skip_space();
    if (!s_.take_keyword("or")) return first;
    NodePtr node = make(Node::Kind::Or);
    adopt(*node, std::move(first));
    do {
      last_ = "or";
      NodePtr next = parse_and();
      if (!next) return nullptr;
      adopt(*node, std::move(next));
      s_.skip_space();
    } while (s_.take_keyword("or"));
    return node;
  }

  NodePtr parse_and() {
    NodePtr first = parse_unary();
    if (!first) return nullptr;
    s_.skip_space();
    if (!s_.take_keyword("and")) return first;
    NodePtr node = make(Node::Kind::And);
    adopt(*node, std::move(first));
    do {
      last_ = "and";
      NodePtr next = parse_unary();
      if (!next) return nullptr;
      adopt(*node, std::move(next));
      s_.skip_space();
    } while (s_.take_keyword("and"));
    return node;
  }

  NodePtr parse_unary() {
    s_.skip_space();
    const std::size_t at = s_.pos();
    if (s_.take_keyword("not")) {
      if (!enter(at)) return nullptr;
      last_ = "not";
      NodePtr kid = parse_unary();
      if (!kid) return nullptr;
      --depth_;
      NodePtr node = make(Node::Kind::Not);
      node->kids.push_back(std::move(kid));
      return node;
    }
    if (s_.take('(')) {
      if (!enter(at)) return nullptr;
      last_ = "(";
      NodePtr inner = parse_or();
      if (!inner) return nullptr;
      s_.skip_space();
      if (!s_.take(')')) {
        return expected(fmt::format("\"and\", \"or\" or \")\" to close the \"(\" at column {}", s_.column(at)),
                        s_.pos());
      }
      --depth_;
      last_ = ")";
      return inner;
    }
    return parse_test();
  }

  NodePtr parse_test() {
    const std::size_t field_at = s_.pos();
    const std::string_view field = s_.field();
    if (field.empty() || is_keyword(field)) return expected("a field name, \"not\" or \"(\"", field_at);
    last_ = field;

    s_.skip_space();
    const std::size_t op_at = s_.pos();
    std::string_view op_text = s_.comparison();
    if (op_text.empty()) op_text = s_.word();
    const std::optional<Op> op = find_op(op_text);
    // The operator must end there: "containsx" or "in2" is not an operator.
    if (!op || (Scanner::is_field_char(s_.peek()) && op_text[0] >= 'a')) return expected(kOperatorList, op_at);
    last_ = op_text;
    op_text_ = op_text;

    NodePtr node = make(Node::Kind::Test);
    Predicate& t = node->test;
    t.field = field;
    FieldPicks::want(field);  // decode picks its value: testing it needs no field table
    t.op = *op;
    t.priority_field = field == "priority";
    if (t.op == Op::Exists) return node;
    if (t.op == Op::In || t.op == Op::Intersects) return parse_list(t) ? std::move(node) : nullptr;

    s_.skip_space();
    const std::size_t value_at = s_.pos();
    std::string text;
    if (!read_value(text, true)) return nullptr;
    return prepare(t, std::move(text), value_at) ? std::move(node) : nullptr;
  }

  // `single`: the value stands alone, so a bare and/or/not is a forgotten operand rather than a value.
  bool read_value(std::string& out, bool single) {
    s_.skip_space();
    const std::size_t at = s_.pos();
    switch (s_.value(out)) {
      case Scanner::ValueStatus::None: expected("a value", at); return false;
      case Scanner::ValueStatus::Unterminated:
        fail("filter_syntax", at,
             fmt::format("expected a closing {} for the string that starts here but found end of expression",
                         s_.src()[at]));
        return false;
      case Scanner::ValueStatus::Ok: break;
    }
    const std::string_view raw = s_.src().substr(at, s_.pos() - at);
    if (single && (raw == "and" || raw == "or" || raw == "not")) {
      fail("filter_syntax", at,
           fmt::format("expected a value{} but found \"{}\" (write \"{}\" in quotes to compare with the word)",
                       after(), raw, raw));
      return false;
    }
    last_ = raw;
    return true;
  }

  bool parse_list(Predicate& t) {
    s_.skip_space();
    if (!s_.take('(')) {
      expected("\"(\" and a list of values", s_.pos());
      return false;
    }
    last_ = "(";
    auto set = std::make_unique<ValueSet>();
    s_.skip_space();
    if (!s_.take(')')) {
      for (std::size_t count = 0;; ++count) {
        s_.skip_space();
        const std::size_t at = s_.pos();
        if (count == kMaxListItems) {
          fail("filter_limit", at, fmt::format("expected at most {} values in one list but found more", kMaxListItems));
          return false;
        }
        std::string text;
        if (!read_value(text, false)) return false;
        if (t.priority_field) {
          const auto p = parse_priority(text);
          if (!p) {
            fail("filter_priority", at, fmt::format("expected {} in the list but found {}", kPriorityList,
                                                    s_.describe(at)));
            return false;
          }
          t.priorities |= 1U << static_cast<unsigned>(*p);
        } else {
          set->add(std::move(text));
        }
        s_.skip_space();
        if (s_.take(',')) {
          last_ = ",";
          continue;
        }
        if (s_.take(')')) break;
        expected("\",\" or \")\"", s_.pos());
        return false;
      }
    }
    last_ = ")";
    set->freeze();
    t.set = std::move(set);
    return true;
  }

  // Turns the operand text into what evaluation needs, reporting bad priorities, globs and regexes at `at`.
  bool prepare(Predicate& t, std::string text, std::size_t at) {
    if (t.priority_field && is_ordering(t.op)) {
      const auto p = parse_priority(text);
      if (!p) {
        fail("filter_priority", at,
             fmt::format("expected {}{} but found {}", kPriorityList, after_op(), s_.describe(at)));
        return false;
      }
      t.priority = *p;
    }
    t.number = parse_number(text);
    // `time` is nanoseconds; an RFC 3339 operand saves the user converting by hand.
    if (t.field == "time" && t.number.kind == Number::Kind::None) {
      if (auto ns = parse_rfc3339_ns(text)) t.number = Number::of_int(*ns);
    }
    if (t.op == Op::IContains) t.lower = ascii_lower(text);
    if (t.op == Op::Glob) {
      auto g = Glob::compile(text);
      if (!g) {
        fail("filter_syntax", at, fmt::format("expected a glob pattern{} but found {}: {}", after_op(),
                                              s_.describe(at), g.error().message));
        return false;
      }
      t.glob = std::move(g).value();
    }
    if (t.op == Op::Regex) {
      RE2::Options options;
      options.set_log_errors(false);  // the error goes back to the caller, not to stderr
      t.regex = std::make_unique<RE2>(text, options);
      if (!t.regex->ok()) {
        fail("filter_regex", at, fmt::format("expected an RE2 regular expression{} but found {}: {}", after_op(),
                                             s_.describe(at), t.regex->error()));
        return false;
      }
    }
    t.text = std::move(text);
    return true;
  }

  bool enter(std::size_t at) {
    if (++depth_ <= kMaxDepth) return true;
    fail("filter_limit", at,
         fmt::format("expected at most {} nested \"(\" and \"not\" but found more", kMaxDepth));
    return false;
  }

  // " after "x"" naming the last piece read, so messages say where the parser was.
  std::string after() const {
    if (last_.empty()) return {};
    if (last_[0] == '"' || last_[0] == '\'') return " after " + Scanner::shorten(last_);
    return " after \"" + Scanner::shorten(last_) + "\"";
  }
  // Operand errors name the operator rather than the operand itself.
  std::string after_op() const { return " after \"" + std::string(op_text_) + "\""; }

  NodePtr expected(std::string_view what, std::size_t at) {
    std::string found = s_.describe(at);
    Scanner probe(s_.src().substr(at));
    if (is_miscased_keyword(probe.word()) && !Scanner::is_field_char(probe.peek())) {
      found += " (keywords are lower-case)";
    }
    fail("filter_syntax", at, fmt::format("expected {}{} but found {}", what, after(), found));
    return nullptr;
  }

  void fail(std::string code, std::size_t at, std::string message) {
    if (error_) return;
    Error e = make_error(std::move(code), std::move(message));
    e.column = s_.column(at);
    error_ = std::move(e);
  }

  Scanner s_;
  std::string_view last_;     // the last piece read, for "after ..." in messages
  std::string_view op_text_;  // the operator of the test being read
  std::optional<Error> error_;
  std::size_t depth_ = 0;
};

}  // namespace

Result<std::unique_ptr<Filter::Node>> parse(std::string_view expression) {
  if (expression.size() > kMaxExpressionBytes) {
    Error e = make_error("filter_limit", fmt::format("expected a filter of at most {} bytes but found {} bytes",
                                                     kMaxExpressionBytes, expression.size()));
    e.column = 1;
    return e;
  }
  return Parser(expression).run();
}

}  // namespace saker::filter_impl
