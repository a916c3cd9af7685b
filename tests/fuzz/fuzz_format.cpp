// Fuzz target: any bytes that decode, with a few added fields made of their text, go through every registered
// output format, and each record must keep its format's promises: one line; JSON formats valid JSON (ecs/ocsf
// with unique keys); CEF/LEEF headers with their exact field count and extension keys that parse as keys, each
// once. The raw input also goes through the log's escaper (append_json_string replacing what is not UTF-8).
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/decode.hpp"
#include "core/field_block.hpp"
#include "core/json_text.hpp"
#include "format/formatter.hpp"

namespace {

using std::string_view;

[[noreturn]] void fail() { __builtin_trap(); }
void check(bool ok) {
  if (!ok) fail();
}

// The registry names its formats in the error for an unknown one: "...; known formats: json, ecs, ...".
std::vector<std::pair<std::string, std::shared_ptr<const saker::Formatter>>> all_formats() {
  const std::string msg = saker::make_formatter("").error().message;
  const string_view marker = "known formats: ";
  std::vector<std::pair<std::string, std::shared_ptr<const saker::Formatter>>> out;
  for (string_view rest = string_view(msg).substr(msg.find(marker) + marker.size()); !rest.empty();) {
    const std::size_t e = rest.find(", ");
    const std::string name(rest.substr(0, e));
    out.emplace_back(name, saker::make_formatter(name).value());
    rest = e == string_view::npos ? string_view() : rest.substr(e + 2);
  }
  check(out.size() >= 5);
  return out;
}

bool key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

bool unique_keys(simdjson::dom::element e) {
  if (e.is_array()) {
    for (auto v : simdjson::dom::array(e.get_array().value_unsafe())) {
      if (!unique_keys(v)) return false;
    }
  } else if (e.is_object()) {
    std::set<string_view> seen;
    for (auto [k, v] : simdjson::dom::object(e.get_object().value_unsafe())) {
      if (!seen.insert(k).second || !unique_keys(v)) return false;
    }
  }
  return true;
}

// Valid JSON, an object, and (`keys_unique`) no repeated key: saker adds none, though a list or object value it
// copies from the alert keeps whatever the alert had.
void check_json(string_view out, bool keys_unique) {
  static simdjson::dom::parser parser;
  simdjson::dom::element doc;
  check(!parser.parse(out.data(), out.size()).get(doc));
  check(doc.is_object());
  if (keys_unique) check(unique_keys(doc));
}

void check_cef(string_view out) {
  check(out.starts_with("CEF:0|"));
  std::size_t i = 4, pipes = 0;
  for (; i < out.size() && pipes < 7; ++i) {
    if (out[i] == '\\') {
      check(i + 1 < out.size() && (out[i + 1] == '\\' || out[i + 1] == '|'));
      ++i;
    } else if (out[i] == '|') {
      ++pipes;
    }
  }
  check(pipes == 7);
  const string_view ext = out.substr(i);
  check(ext.starts_with("rt="));
  std::set<string_view> keys;
  for (std::size_t p = 0; p < ext.size(); ++p) {
    if (ext[p] == '\\') {
      check(p + 1 < ext.size() && string_view("\\=nr").find(ext[p + 1]) != string_view::npos);
      ++p;
    } else if (ext[p] == '=') {
      std::size_t b = p;
      while (b > 0 && ext[b - 1] != ' ') --b;
      const string_view key = ext.substr(b, p - b);
      check(!key.empty());
      for (char c : key) check(key_char(c));
      check(keys.insert(key).second);
    }
  }
}

void check_leef(string_view out) {
  check(out.starts_with("LEEF:2.0|Falcosecurity|Falco|"));
  std::size_t i = 0;
  for (int n = 0; n < 6; ++n) {
    const std::size_t e = out.find('|', i);
    check(e != string_view::npos);
    if (n == 5) check(out.substr(i, e - i) == "0x09");
    i = e + 1;
  }
  std::set<string_view> keys;
  for (string_view rest = out.substr(i);;) {
    const std::size_t e = rest.find('\t');
    const string_view attr = rest.substr(0, e);
    const std::size_t eq = attr.find('=');
    check(eq != string_view::npos && eq > 0);
    for (char c : attr.substr(0, eq)) check(key_char(c));
    check(keys.insert(attr.substr(0, eq)).second);
    if (e == string_view::npos) break;
    rest.remove_prefix(e + 1);
  }
}

// The raw bytes as saker's JSON log writes a message: always one valid JSON string, the input itself when it was
// UTF-8 (then exactly what the formats' escaper writes too).
void check_log_escaping(string_view raw) {
  static simdjson::dom::parser parser;
  std::string out;
  saker::append_json_string(out, raw, saker::InvalidUtf8::Replace);
  string_view back;
  check(!parser.parse(out).get(back));
  if (simdjson::validate_utf8(raw.data(), raw.size())) {
    check(back == raw);
    std::string kept;
    saker::append_json_string(kept, raw);
    check(kept == out);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static saker::Decoder decoder(saker::DecodeLimits{64 * 1024, 16, 256});
  static const auto formats = all_formats();
  check_log_escaping(string_view(reinterpret_cast<const char*>(data), size));
  // Half the inputs are decoded as when stages run (name filter, room for additions in the alert).
  static saker::Decoder staged(saker::DecodeLimits{64 * 1024, 16, 256});
  staged.set_stages(true);
  std::unique_ptr<const saker::FieldBlock> block;  // outlives the alert, as a stage's block does
  auto r = (size & 1 ? staged : decoder).decode(string_view(reinterpret_cast<const char*>(data), size));
  if (!r) return 0;
  saker::Alert& alert = *r.value();
  // Added fields as stages add them (a templated field, the mitre stage's lists, a tag), from the alert's own
  // fuzzed text, so every format also places hostile added names and values.
  alert.add_field(alert.rule, saker::Value::string(alert.output));
  alert.add_list("threat.tactic.id", alert.tag_span());
  alert.add_field("n", saker::Value::integer(static_cast<std::int64_t>(size)));
  if (!alert.hostname.empty()) alert.add_tag(alert.hostname);
  // A block, as the static fields and the mitre stage add them, with names and values from the fuzzed text.
  saker::FieldBlock::Builder builder;
  builder.add(std::string("blk.") + std::string(alert.source.substr(0, 16)), saker::Value::string(alert.hostname));
  builder.add_list("blk.tags", alert.tag_span());
  builder.add(alert.uuid, saker::Value::integer(-1));
  block = builder.build();
  alert.add_block(*block);
  static simdjson::dom::parser input_parser;
  simdjson::dom::element input;
  check(!input_parser.parse(alert.json().data(), alert.json().size(), true).get(input));
  const bool input_unique = unique_keys(input);
  std::string out;
  for (const auto& [name, formatter] : formats) {
    out.clear();
    formatter->format(alert, out);
    check(!out.empty());
    for (char c : out) {
      const auto u = static_cast<unsigned char>(c);
      check(u >= 0x20 || c == '\t');  // one line, no NUL or other control bytes
    }
    if (name == "cef") {
      check_cef(out);
    } else if (name == "leef") {
      check_leef(out);
    } else {
      check_json(out, name != "json" && input_unique);
    }
  }
  return 0;
}
