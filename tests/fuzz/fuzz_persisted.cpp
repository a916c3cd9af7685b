// Fuzz target: the persisted form (disk buffer, dead letters). Any bytes read back in the persisted mode must not
// crash; an accepted alert with fields and tags added from the input must persist and read back to the same alert,
// and the json format of it must stay one valid alert.
#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/decode.hpp"
#include "format/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  static saker::Decoder persisted(saker::DecodeLimits{64 * 1024, 16, 256});
  if (auto r = persisted.decode(in, saker::Decoder::Mode::Persisted)) {
    std::string again;
    r.value()->append_persisted(again);  // whatever it restored persists again
  }
  static saker::Decoder received(saker::DecodeLimits{64 * 1024, 16, 256});
  auto r = received.decode(in);
  if (!r) return 0;
  saker::Alert& a = *r.value();
  // Names and values from the input itself: hostile text in every position.
  const std::string_view tail = in.substr(size / 2);
  a.add_field(std::string("x.") + std::string(tail.substr(0, 8)), saker::Value::string(tail));
  a.add_field("n", saker::Value::integer(static_cast<std::int64_t>(size)));
  const std::string_view items[] = {tail.substr(0, 3), a.rule, tail};
  a.add_list("threat.technique.id", items);
  a.add_tag(tail.substr(0, 16));
  const std::string p = a.persisted();
  static saker::Decoder back_decoder(saker::DecodeLimits{1024 * 1024, 16, 4096});
  auto back = back_decoder.decode(p, saker::Decoder::Mode::Persisted);
  if (!back) {
    std::fprintf(stderr, "persisted form refused: %s: %s\n%s\n", back.error().code.c_str(), back.error().message.c_str(),
                 p.c_str());
    __builtin_trap();
  }
  const saker::Alert& b = *back.value();
  if (b.json() != a.json() || b.added().size() != a.added().size() || b.persisted() != p) __builtin_trap();
  std::string out;
  saker::JsonFormatter().format(a, out);
  static saker::Decoder check(saker::DecodeLimits{1024 * 1024, 16, 4096});
  auto json = check.decode(out);
  // Only a duplicate name (an added field equal to a Falco key written with escapes) may make it refuse.
  if (!json && json.error().code != "duplicate_key") __builtin_trap();
  return 0;
}
