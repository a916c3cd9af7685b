// Fuzz target: any bytes through the decoder, then through every accessor a filter or formatter uses.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/decode.hpp"
#include "core/time.hpp"
#include "format/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static saker::Decoder decoder(saker::DecodeLimits{64 * 1024, 16, 256});
  auto r = decoder.decode(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!r) return 0;
  const saker::Alert& a = *r.value();
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
  saker::Value v;
  for (const auto& f : a.fields()) {
    if (!a.lookup(f.name, v)) __builtin_trap();
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
