// Fuzz target: any bytes through the decoder, then through every accessor a filter or formatter uses.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/decode.hpp"
#include "core/field_names.hpp"
#include "core/field_picks.hpp"
#include "core/time.hpp"
#include "format/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static saker::Decoder decoder(saker::DecodeLimits{64 * 1024, 16, 256});
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto r = decoder.decode(input);
  // With a floor, the priority is first read without a parse (json_scan): an alert the full decode accepts
  // at or above the floor is never dropped by that read.
  static saker::Decoder floored(saker::DecodeLimits{64 * 1024, 16, 256});
  floored.set_floor(saker::Priority::Warning);
  auto f = floored.decode(input);
  if (r && r.value()->priority >= saker::Priority::Warning && (!f || !f.value())) __builtin_trap();
  if (!r) return 0;
  const saker::Alert& a = *r.value();
  // Decode with stages on finds the splice points by position: an added field and tag land where the json format
  // documents them, and everything else reads back unchanged.
  static saker::Decoder staged(saker::DecodeLimits{64 * 1024, 16, 256});
  staged.set_stages(true);  // cheap: a flag
  auto s = staged.decode(input);
  if (!s) __builtin_trap();
  saker::Alert& b = *s.value();
  const bool added = b.add_field("saker.fuzz", saker::Value::string("x")) == saker::Alert::AddResult::Added;
  b.add_tag("saker-fuzz-tag");
  std::string spliced;
  saker::JsonFormatter().format(b, spliced);
  static saker::Decoder reread(saker::DecodeLimits{128 * 1024, 16, 512});
  auto c = reread.decode(spliced);
  if (!c) __builtin_trap();
  const saker::Alert& back = *c.value();
  if (back.rule != a.rule || back.priority_text != a.priority_text || back.fields().size() != a.fields().size() + added)
    __builtin_trap();
  saker::Value got;
  if (added && (!back.lookup("saker.fuzz", got) || got.to_text() != "x")) __builtin_trap();
  bool tagged = false;
  for (auto t : back.tags) tagged |= t == "saker-fuzz-tag";
  if (!tagged) __builtin_trap();
  std::string out;
  saker::JsonFormatter().format(a, out);
  // The re-emitted record must itself decode: the json format never produces invalid JSON.
  static saker::Decoder again(saker::DecodeLimits{128 * 1024, 16, 512});
  if (!again.decode(out)) __builtin_trap();
  // An accepted alert names each field once: a filter and a format can never find different values for one name.
  const auto& fields = a.fields();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    for (std::size_t j = i + 1; j < fields.size(); ++j) {  // at most 256 fields (the limits above)
      if (fields[i].name == fields[j].name) __builtin_trap();
    }
  }
  // Event times are whole int64 nanoseconds that format and parse back to themselves.
  if (saker::parse_rfc3339_ns(saker::format_rfc3339_ns(a.time_ns)) != a.time_ns) __builtin_trap();
  // Picked fields (core/field_picks.hpp): the first names seen are registered, so later alerts have them picked at
  // decode; a lookup through a pick must say what the field table says.
  static int registered = 0;
  for (const auto& f : a.fields()) {
    if (registered < 64) saker::FieldPicks::want(f.name), ++registered;
  }
  saker::Value v;
  for (const auto& f : a.fields()) {
    if (!a.lookup(f.name, v)) __builtin_trap();
    // (A field named like one of the alert's own keys, such as output_fields.hostname, is shadowed by that key.)
    if (!saker::is_alert_key(f.name) && (v.kind != f.value.kind || v.to_text() != f.value.to_text())) __builtin_trap();
    out = v.to_text();
    v.append_json(out);
    if (v.kind == saker::Value::Kind::Array) {
      for (const auto& item : a.items(v)) item.append_json(out);
    }
  }
  for (const char* name : {"rule", "priority", "source", "hostname", "output", "uuid", "time", "tags"}) {
    if (!a.lookup(name, v)) __builtin_trap();
  }
  return 0;
}
