// Fuzz target: any bytes as an asset inventory. The first byte picks the format (its value mod 3: YAML, JSON, CSV),
// the rest is the inventory. Whatever loads is matched against alerts whose hostname and pod labels come from the
// input, and every attribute of the entry found must build into a block of fields.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/decode.hpp"
#include "core/json_text.hpp"
#include "enrich/feeds/inventory.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr saker::Inventory::Format kFormats[] = {saker::Inventory::Format::Yaml, saker::Inventory::Format::Json,
                                                           saker::Inventory::Format::Csv};
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  saker::InventoryLimits limits;
  limits.max_entries = 2000;
  auto inv = saker::Inventory::parse(text, kFormats[data[0] % 3], "fuzz", limits);
  if (!inv) {
    if (inv.error().message.empty()) __builtin_trap();  // a refusal says why
    return 0;
  }
  if (inv.value()->size() > limits.max_entries) __builtin_trap();  // the limit holds
  static saker::Decoder decoder;
  for (std::size_t at = 0; at < text.size() && at < 64; at += 16) {
    std::string host(text.substr(at, 16));
    if (!saker::valid_utf8(host)) continue;
    std::string json = "{\"rule\":\"r\",\"priority\":\"Warning\",\"hostname\":";
    saker::append_json_string(json, host);
    json += ",\"output_fields\":{\"k8s.pod.labels\":[";
    saker::append_json_string(json, "app:" + host);
    json += "],\"k8s.ns.name\":";
    saker::append_json_string(json, host);
    json += "}}";
    auto a = decoder.decode(json);
    if (!a) continue;
    if (const saker::Inventory::Entry* e = inv.value()->match(*a.value())) {
      if (e->conditions.empty()) __builtin_trap();  // an entry without conditions never loads
    }
  }
  return 0;
}
