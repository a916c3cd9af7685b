#include "format/json.hpp"

#include <simdjson.h>


#include "core/json_scan.hpp"
#include "core/json_text.hpp"

namespace saker {

namespace {

void append_added_members(const Alert& a, std::string& out, bool first) {
  if (!a.has_fields_added()) return;
  if (!first) out.push_back(',');
  a.append_added_json(out);
}

void append_added_tags(const Alert& a, std::string& out, bool first) {
  for (auto t : a.added_tags()) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, t);
  }
}

// The general path, for texts whose keys the raw scan cannot trust (escaped key names): rebuilt from a parse.
void format_rebuilt(const Alert& a, std::string& out) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (parser.parse(a.json()).get(root)) {  // cannot happen: the text was validated at decode
    out.append(a.json());
    return;
  }
  out.push_back('{');
  bool first = true, had_tags = false, had_fields = false;
  for (auto [key, val] : root) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, key);
    out.push_back(':');
    if (key == "output_fields" && val.is_object() && a.has_fields_added()) {
      had_fields = true;
      out.push_back('{');
      bool f1 = true;
      const simdjson::dom::object fields = val.get_object().value_unsafe();
      for (auto [k, v] : fields) {
        if (!f1) out.push_back(',');
        f1 = false;
        append_json_string(out, k);
        out.push_back(':');
        out.append(simdjson::minify(v));
      }
      append_added_members(a, out, f1);
      out.push_back('}');
    } else if (key == "tags" && val.is_array() && !a.added_tags().empty()) {
      had_tags = true;
      std::string list = simdjson::minify(val);
      list.pop_back();
      out.append(list);
      append_added_tags(a, out, list.size() == 1);
      out.push_back(']');
    } else {
      out.append(simdjson::minify(val));
    }
  }
  if (!had_fields && a.has_fields_added()) append_added_members(a, out, first), first = false;
  if (!had_tags && !a.added_tags().empty()) {
    out.append(first ? "\"tags\":[" : ",\"tags\":[");
    append_added_tags(a, out, true);
    out.push_back(']');
  }
  out.push_back('}');
}

}  // namespace

void JsonFormatter::format(const Alert& alert, std::string& out) const {
  if (!alert.has_additions()) [[likely]] {
    out.append(alert.json());
    return;
  }
  const std::string_view text = alert.json();
  // Decode found the splice points by the members' positions; a raw scan reads key names, and a key written with
  // escapes ("\u0074ags") could hide from it.
  const SplicePoints* known = alert.splice_points();
  if (!known && text.find("\\u") != std::string_view::npos) {
    format_rebuilt(alert, out);
    return;
  }
  // Added fields go inside output_fields (as falcosidekick's customfields do), or at the top level for the
  // flattened shape; added tags at the end of `tags`.
  const SplicePoints sp = known ? *known : scan_splice_points(text);
  const bool in_fields = alert.has_fields_added() && sp.fields_close != std::string_view::npos;
  const bool in_tags = !alert.added_tags().empty() && sp.tags_close != std::string_view::npos;
  if ((alert.has_output_fields && alert.has_fields_added() && !in_fields) ||
      (!alert.added_tags().empty() && !in_tags && alert.added_tags().size() != alert.tags.size())) {
    format_rebuilt(alert, out);
    return;
  }
  struct Splice {
    std::size_t at;  // insert before this byte (a closing '}' or ']')
    int what;        // 0: fields, 1: tags
    bool first;
  };
  Splice splices[2];
  int n = 0;
  if (in_fields) splices[n++] = {sp.fields_close, 0, sp.fields_empty};
  if (in_tags) splices[n++] = {sp.tags_close, 1, sp.tags_empty};
  if (n == 2 && splices[1].at < splices[0].at) std::swap(splices[0], splices[1]);
  std::size_t from = 0;
  for (int i = 0; i < n; ++i) {
    out.append(text.substr(from, splices[i].at - from));
    if (splices[i].what == 0) {
      append_added_members(alert, out, splices[i].first);
    } else {
      append_added_tags(alert, out, splices[i].first);
    }
    from = splices[i].at;
  }
  // What has no place inside: at the top level, before the closing '}'.
  const std::size_t close = text.size() - 1;
  out.append(text.substr(from, close - from));
  if (!in_fields && alert.has_fields_added()) append_added_members(alert, out, false);
  if (!in_tags && !alert.added_tags().empty()) {
    out.append(",\"tags\":[");
    append_added_tags(alert, out, true);
    out.push_back(']');
  }
  out.push_back('}');
}

}  // namespace saker
