// Fuzz target: any bytes as a threat-intel feed. The first byte picks the format ('0' list, '1' csv, '2' stix,
// '3' misp: its value mod 4), the rest is the feed. Whatever loads is built into an index and looked up with pieces
// of the input, and the input is also read as a command line for host names.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "enrich/feeds/feed.hpp"
#include "enrich/feeds/host_tokens.hpp"
#include "enrich/feeds/threat_intel_index.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto format = static_cast<saker::FeedFormat>(data[0] % 4);
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  saker::ThreatIntelIndex::Builder b;
  saker::FeedInput in;
  in.text = text;
  in.file = "fuzz";
  in.feed = b.add_feed("fuzz");
  in.limits.max_indicators = 10000;
  in.now_ns = 1'700'000'000'000'000'000;
  auto stats = saker::parse_feed(format, in, b);
  const auto index = b.build();
  if (stats && stats.value().added > in.limits.max_indicators) __builtin_trap();  // the limit holds

  saker::HostTokenLimits limits;
  saker::for_each_host(text, limits, [&](const saker::HostToken& t) {
    if (t.host.empty()) __builtin_trap();
    (void)index->find_domain(t.host);
    (void)saker::looks_like_domain(t.host);
  });
  for (std::size_t at = 0; at + 4 <= text.size() && at < 256; at += 4) {
    std::uint32_t a;
    std::memcpy(&a, text.data() + at, 4);
    (void)index->find_ipv4(a);
  }
  if (text.size() >= 16) {
    std::uint8_t v6[16];
    std::memcpy(v6, text.data(), 16);
    (void)index->find_ipv6(v6);
  }
  (void)index->find_hash(text.substr(0, 64));
  (void)index->find_process(text.substr(0, 32));
  return 0;
}
