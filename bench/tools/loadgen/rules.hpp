#pragma once
// The Falco rule table the load generator draws from: name, priority, tags and output template of
// every rule in Falco's stable, incubating and sandbox rule files (bench/data/falco_rules.tsv).
#include <cstddef>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/priority.hpp"

namespace saker::loadgen {

// bench/data/falco_rules.tsv as a string literal, regenerated together with the TSV.
inline constexpr std::string_view kEmbeddedRulesTsv =
#include "../../data/falco_rules.inc"
    ;

// One piece of a rule's output template: literal text, or a field reference such as %proc.cmdline.
struct TemplatePiece {
  bool is_field = false;
  std::string text;  // the literal, or the field name without '%'
};

struct FalcoRule {
  std::string name;
  Priority priority = Priority::Notice;
  std::vector<std::string> tags;
  std::string output_template;
  std::vector<TemplatePiece> pieces;
  std::vector<std::string> fields;  // distinct field names referenced by the template, in order
};

inline bool is_field_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

// Splits "file=%fd.name cmd=%proc.cmdline" into literals and field references ("%%" is a literal %).
inline std::vector<TemplatePiece> parse_output_template(std::string_view tpl) {
  std::vector<TemplatePiece> pieces;
  std::string literal;
  std::size_t i = 0;
  while (i < tpl.size()) {
    if (tpl[i] != '%') {
      literal += tpl[i++];
      continue;
    }
    if (i + 1 < tpl.size() && tpl[i + 1] == '%') {
      literal += '%';
      i += 2;
      continue;
    }
    std::size_t j = i + 1;
    while (j < tpl.size() && is_field_char(tpl[j])) ++j;
    if (j < tpl.size() && tpl[j] == '[') {  // indexed field: %proc.aname[2]
      std::size_t close = tpl.find(']', j);
      if (close != std::string_view::npos) j = close + 1;
    }
    while (j > i + 1 && tpl[j - 1] == '.') --j;  // a sentence's full stop is not part of the name
    if (j == i + 1) {
      literal += tpl[i++];
      continue;
    }
    if (!literal.empty()) pieces.push_back({false, std::move(literal)});
    literal.clear();
    pieces.push_back({true, std::string(tpl.substr(i + 1, j - i - 1))});
    i = j;
  }
  if (!literal.empty()) pieces.push_back({false, std::move(literal)});
  return pieces;
}

inline std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Parses the TSV (header line first: rule, priority, tags, file, output). Throws on a malformed line.
inline std::vector<FalcoRule> parse_rules_tsv(std::string_view tsv) {
  std::vector<FalcoRule> rules;
  std::size_t line_no = 0;
  for (const std::string& line : split(tsv, '\n')) {
    ++line_no;
    if (line.empty() || line_no == 1) continue;
    std::vector<std::string> cols = split(line, '\t');
    if (cols.size() < 5) throw std::runtime_error("rules TSV line " + std::to_string(line_no) + ": expected 5 columns");
    FalcoRule rule;
    rule.name = cols[0];
    auto prio = parse_priority(cols[1]);
    if (!prio) throw std::runtime_error("rules TSV line " + std::to_string(line_no) + ": unknown priority " + cols[1]);
    rule.priority = *prio;
    if (!cols[2].empty()) rule.tags = split(cols[2], ',');
    rule.output_template = cols[4];
    rule.pieces = parse_output_template(rule.output_template);
    for (const TemplatePiece& p : rule.pieces) {
      if (!p.is_field) continue;
      bool seen = false;
      for (const std::string& f : rule.fields) seen = seen || f == p.text;
      if (!seen) rule.fields.push_back(p.text);
    }
    rules.push_back(std::move(rule));
  }
  if (rules.empty()) throw std::runtime_error("rules TSV holds no rule");
  return rules;
}

inline std::vector<FalcoRule> load_rules(const std::string& path) {
  if (path.empty()) return parse_rules_tsv(kEmbeddedRulesTsv);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read rules TSV " + path + " (pass a file made by bench/data/extract_falco_rules.py)");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_rules_tsv(ss.str());
}

}  // namespace saker::loadgen
