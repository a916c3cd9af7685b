#include "format/json.hpp"

#include <simdjson.h>

#include <cstring>

#include "core/json_text.hpp"

namespace saker {

namespace {

// [begin, end) of the value of top-level `key` in a valid one-line JSON object, matching the key's raw bytes.
bool find_member(std::string_view obj, std::string_view key, std::size_t& begin, std::size_t& end) {
  int depth = 0;
  bool in_string = false;
  bool expect_key = false;
  std::size_t key_start = 0;
  for (std::size_t i = 0; i < obj.size(); ++i) {
    const char c = obj[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
        if (depth == 1 && expect_key) {
          expect_key = false;
          if (obj.substr(key_start, i - key_start) == key) {
            std::size_t v = obj.find(':', i) + 1;
            while (obj[v] == ' ') ++v;
            begin = v;
            // The value ends where depth comes back to 1 at a ',' or the closing '}'.
            int d = 0;
            bool s = false;
            for (std::size_t j = v; j < obj.size(); ++j) {
              const char x = obj[j];
              if (s) {
                if (x == '\\') {
                  ++j;
                } else if (x == '"') {
                  s = false;
                }
              } else if (x == '"') {
                s = true;
              } else if (x == '{' || x == '[') {
                ++d;
              } else if (x == '}' || x == ']') {
                if (d == 0) {
                  end = j;
                  while (end > v && obj[end - 1] == ' ') --end;
                  return true;
                }
                --d;
              } else if (x == ',' && d == 0) {
                end = j;
                while (end > v && obj[end - 1] == ' ') --end;
                return true;
              }
            }
            return false;
          }
        }
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        key_start = i + 1;
        break;
      case '{':
      case '[':
        ++depth;
        expect_key = depth == 1 && c == '{';
        break;
      case '}':
      case ']': --depth; break;
      case ',': expect_key = depth == 1; break;
      default: break;
    }
  }
  return false;
}

void append_added_members(const Alert& a, std::string& out, bool first) {
  for (const Field& f : a.added()) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, f.name);
    out.push_back(':');
    f.value.append_json(out);
  }
}

void append_added_tags(const Alert& a, std::string& out, bool first) {
  for (auto t : a.added_tags()) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, t);
  }
}

// Whether a JSON value text is an empty object or list.
bool empty_container(std::string_view v) {
  for (std::size_t i = 1; i < v.size(); ++i) {
    if (v[i] != ' ') return v[i] == '}' || v[i] == ']';
  }
  return true;
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
    if (key == "output_fields" && val.is_object() && !a.added().empty()) {
      had_fields = true;
      out.push_back('{');
      bool f1 = true;
      for (auto [k, v] : val.get_object().value_unsafe()) {
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
  if (!had_fields && !a.added().empty()) append_added_members(a, out, first), first = false;
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
  const std::string& j = alert.json();
  const std::string_view text(j);
  // Falco's keys are plain; a key written with escapes ("\u0074ags") could hide from the raw scan.
  if (text.find("\\u") != std::string_view::npos) {
    format_rebuilt(alert, out);
    return;
  }
  // Added fields go inside output_fields (as falcosidekick's customfields do), or at the top level for the
  // flattened shape; added tags at the end of `tags`.
  std::size_t fb = 0, fe = 0, tb = 0, te = 0;
  const bool in_fields = !alert.added().empty() && alert.has_output_fields && find_member(text, "output_fields", fb, fe) &&
                         text[fb] == '{';
  const bool in_tags = !alert.added_tags().empty() && find_member(text, "tags", tb, te) && text[tb] == '[';
  if ((alert.has_output_fields && !alert.added().empty() && !in_fields) ||
      (!alert.added_tags().empty() && !in_tags && alert.added_tags().size() != alert.tags.size())) {
    format_rebuilt(alert, out);
    return;
  }
  struct Splice {
    std::size_t at;  // insert before this byte (a closing '}' or ']')
    int what;        // 0: fields, 1: tags
    bool first;
  };
  Splice splices[3];
  int n = 0;
  if (in_fields) splices[n++] = {fe - 1, 0, empty_container(text.substr(fb, fe - fb))};
  if (in_tags) splices[n++] = {te - 1, 1, empty_container(text.substr(tb, te - tb))};
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
  if (!in_fields && !alert.added().empty()) append_added_members(alert, out, false);
  if (!in_tags && !alert.added_tags().empty()) {
    out.append(",\"tags\":[");
    append_added_tags(alert, out, true);
    out.push_back(']');
  }
  out.push_back('}');
}

}  // namespace saker
