#include "format/ecs_added.hpp"

#include <algorithm>

#include "core/json_text.hpp"
#include "format/ecs_rules.hpp"
#include "format/indicators.hpp"

namespace saker::ecs_added {
namespace {

using std::string_view;

bool keyword_list(const Value& v) {
  return (v.kind == Value::Kind::String && !v.text.empty()) || (v.kind == Value::Kind::Array && v.added_list);
}

constexpr string_view kIndicators = kIndicatorsField;

bool is_label(const Field& f) {
  return !f.value.is_null() && !is_threat_field(f) && ecs_path(f.name).empty() &&
         !(f.name == kIndicators && f.value.kind == Value::Kind::Array);
}

bool same_label(string_view a, string_view b) {
  return a.size() == b.size() &&
         std::ranges::equal(a, b, [](char x, char y) { return (x == '.' ? '_' : x) == (y == '.' ? '_' : y); });
}

// Added field name -> ECS path, for every endpoint and every field of the geoip stage that ECS has.
const std::vector<std::pair<std::string, std::string>>& ecs_paths() {
  static const auto table = [] {
    std::vector<std::pair<std::string, std::string>> t;
    static constexpr std::pair<string_view, string_view> kEnds[] = {
        {"fd.cip", "client"}, {"fd.sip", "server"}, {"fd.lip", "source"}, {"fd.rip", "destination"}};
    static constexpr std::pair<string_view, string_view> kFields[] = {
        {"geo.continent_code", "geo.continent_code"}, {"geo.country_iso_code", "geo.country_iso_code"},
        {"geo.country_name", "geo.country_name"},     {"geo.region_iso_code", "geo.region_iso_code"},
        {"geo.region_name", "geo.region_name"},       {"geo.city_name", "geo.city_name"},
        {"geo.postal_code", "geo.postal_code"},       {"geo.timezone", "geo.timezone"},
        {"geo.location.lat", "geo.location.lat"},     {"geo.location.lon", "geo.location.lon"},
        {"as.number", "as.number"},                   {"as.organization", "as.organization.name"}};
    for (const auto& [falco, ecs] : kEnds) {
      for (const auto& [from, to] : kFields) t.emplace_back(std::string(falco) + "." + std::string(from), std::string(ecs) + "." + std::string(to));
    }
    return t;
  }();
  return table;
}

}  // namespace

string_view ecs_path(string_view name) {
  // The users stage's fields that ECS has (user.department stays a label).
  if (name.starts_with("user.")) {
    if (name == "user.full_name") return "user.full_name";
    if (name == "user.email") return "user.email";
    if (name == "user.role") return "user.roles";
    return {};
  }
  // Only names that start like an endpoint's are looked for.
  if (name.size() < 12 || name.substr(0, 3) != "fd." || name[6] != '.') return {};
  for (const auto& [from, to] : ecs_paths()) {
    if (from == name) return to;
  }
  return {};
}

bool append_threat_enrichments(std::string& out, const Alert& a) {
  const std::size_t start = out.size();
  out.push_back('[');
  bool any = false;
  const bool found = for_each_indicator(a, [&](const IndicatorMatch& m) {
    if (any) out.push_back(',');
    any = true;
    out.append(R"({"indicator":{"type":)");
    append_json_string(out, m.type);
    if (!m.feed.empty()) {
      out.append(R"(,"provider":)");
      append_json_string(out, m.feed);
    }
    const string_view value = m.value;
    if (m.type == "ipv4-addr" || m.type == "ipv6-addr") {
      out.append(R"(,"ip":)");
      append_json_string(out, value);
    } else if (m.type == "domain-name") {
      out.append(R"(,"url":{"domain":)");
      append_json_string(out, value);
      out.push_back('}');
    } else if (m.type == "file" && (value.size() == 32 || value.size() == 40 || value.size() == 64)) {
      out.append(R"(,"file":{"hash":{")").append(value.size() == 32 ? "md5" : value.size() == 40 ? "sha1" : "sha256").append(R"(":)");
      append_json_string(out, value);
      out.append("}}");
    } else {
      out.append(R"(,"description":)");
      append_json_string(out, value);
    }
    out.append(R"(},"matched":{"field":)");
    append_json_string(out, m.field);
    // The alert's value that matched: the field's own value, but for a token found inside a longer one (a command
    // line), which is the indicator itself.
    Value v;
    out.append(R"(,"atomic":)");
    if (m.field != "proc.cmdline" && a.lookup(m.field, v) && v.kind == Value::Kind::String) {
      append_json_string(out, v.text);
    } else {
      append_json_string(out, value);
    }
    out.append(R"(,"type":"indicator_match_rule"}})");
  });
  if (!found || !any) {
    out.resize(start);
    return false;
  }
  out.push_back(']');
  return true;
}

bool is_threat_field(const Field& f) {
  return keyword_list(f.value) && std::ranges::find(kThreatFields, f.name) != std::end(kThreatFields);
}

bool threat_ids(const Alert& a, string_view path, std::vector<string_view>& ids) {
  const std::size_t first = ids.size();
  const bool sub = path == "threat.technique.subtechnique.id";
  if (sub || path == "threat.technique.id") {
    for (string_view tag : a.tags) {
      if (string_view m = ecs_rules::mitre_match(tag, sub); !m.empty()) {
        ids.push_back(m);
        break;
      }
    }
  }
  const Field* f = a.has_additions() ? a.find_added(path) : nullptr;
  if (!f || !keyword_list(f->value)) return false;
  bool added = false;
  auto push = [&](string_view id) {
    if (id.empty() || std::find(ids.begin() + static_cast<std::ptrdiff_t>(first), ids.end(), id) != ids.end()) return;
    ids.push_back(id);
    added = true;
  };
  if (f->value.kind == Value::Kind::String) {
    push(f->value.text);
  } else {
    for (const Value& item : a.items(f->value)) push(item.text);
  }
  return added;
}

bool has_labels(const Alert& a) { return std::ranges::any_of(a.added(), is_label); }

void append_labels(std::string& out, const Alert& a) {
  out.push_back('{');
  bool comma = false;
  const auto added = a.added();
  for (auto it = added.begin(); it != added.end(); ++it) {
    const Field f = *it;
    if (!is_label(f) || std::any_of(added.begin(), it, [&](const Field& g) { return is_label(g) && same_label(g.name, f.name); })) {
      continue;
    }
    if (comma) out.push_back(',');
    comma = true;
    const std::size_t key = out.size();
    append_json_string(out, f.name);
    std::replace(out.begin() + static_cast<std::ptrdiff_t>(key), out.end(), '.', '_');  // no JSON escape has a '.'
    out.push_back(':');
    const Value& v = f.value;
    switch (v.kind) {
      case Value::Kind::String: append_json_string(out, v.text); break;
      case Value::Kind::Bool:
      case Value::Kind::Int:
      case Value::Kind::Uint:
      case Value::Kind::Double:
        out.push_back('"');
        v.append_json(out);  // no character of a number or boolean needs escaping
        out.push_back('"');
        break;
      case Value::Kind::Array:
        if (v.added_list) {
          out.push_back('[');
          const auto items = a.items(v);
          for (std::size_t k = 0; k < items.size(); ++k) {
            if (k) out.push_back(',');
            append_json_string(out, items[k].text);
          }
          out.push_back(']');
          break;
        }
        [[fallthrough]];
      case Value::Kind::Object: append_json_string(out, v.text); break;
      case Value::Kind::Null: break;
    }
  }
  out.push_back('}');
}

}  // namespace saker::ecs_added
