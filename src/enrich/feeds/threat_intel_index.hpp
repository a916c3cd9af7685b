#pragma once
// The indicators of every threat-intel feed a stage loaded, in lookup structures built once and never changed:
// IPv4 and IPv6 addresses and CIDRs as sorted disjoint ranges (longest prefix wins), domains by exact and parent
// match, file hashes (MD5, SHA-1, SHA-256) and process names by exact match. Shared by every decoding thread
// through a std::shared_ptr<const ThreatIntelIndex>, so a later reload can build a new one and swap it in.
//
// Lookups allocate nothing: they normalize into stack buffers and probe flat arrays.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace saker {

// What an indicator is, as threat.indicators says it (`type`).
enum class IndicatorType : std::uint8_t { Ipv4, Ipv6, Domain, File, Process };
inline constexpr std::size_t kIndicatorTypes = 5;
// "ipv4-addr", "ipv6-addr", "domain-name", "file", "process" (STIX 2.1's object names).
std::string_view indicator_type_name(IndicatorType t) noexcept;

// What a feed says a value is; Infer: whatever it looks like (an address, a CIDR, a hash, else a domain).
enum class ValueKind : std::uint8_t { Infer, Ip, Domain, Url, Md5, Sha1, Sha256, AnyHash, Process };

// One indicator as the feed wrote it and which feed.
struct Indicator {
  IndicatorType type;
  std::string_view value;  // as written in the feed (the CIDR, the URL, the hash in its case)
  std::uint16_t feed;      // index into ThreatIntelIndex::feeds()
};

// The longest host name a lookup considers (RFC 1035's 253 characters, plus a trailing dot).
inline constexpr std::size_t kMaxHostName = 254;

// A domain as the index keys it: lower case, without a trailing dot, labels of [a-z0-9_-] (1..63 characters), at
// least two labels, the last not all digits; nullopt otherwise. `out` must hold kMaxHostName characters.
std::optional<std::string_view> normalize_domain(std::string_view text, char* out) noexcept;

class ThreatIntelIndex {
 public:
  class Builder;

  // The indicator the address falls in, the most specific (longest prefix) when several do; IPv4-mapped IPv6
  // addresses (::ffff:a.b.c.d) are looked up as IPv4. Null when none.
  const Indicator* find_ipv4(std::uint32_t address) const noexcept;  // host byte order
  const Indicator* find_ipv6(const std::uint8_t (&address)[16]) const noexcept;
  // The indicator of the host name or of its nearest parent domain (evil.com for a.b.evil.com), case-insensitive,
  // a trailing dot ignored. Null when none (or `host` is no domain).
  const Indicator* find_domain(std::string_view host) const noexcept;
  // A hex MD5, SHA-1 or SHA-256, any case.
  const Indicator* find_hash(std::string_view hex) const noexcept;
  // A process name, exactly.
  const Indicator* find_process(std::string_view name) const noexcept;

  std::span<const std::string> feeds() const noexcept { return feeds_; }
  std::size_t size() const noexcept { return entries_.size(); }
  // Indicators held per feed and type (duplicates counted once, under the feed that gave them first).
  std::uint64_t count(std::uint16_t feed, IndicatorType t) const noexcept;
  // Bytes held by the lookup structures (an estimate of the index's memory).
  std::size_t memory_bytes() const noexcept;

 private:
  friend class Builder;
  // Sorted disjoint ranges: starts_[i] begins a range owned by entry owner_[i] (kNone: no indicator) up to the
  // next start.
  template <typename Key>
  struct Ranges {
    std::vector<Key> starts;
    std::vector<std::uint32_t> owner;
    std::uint32_t find(Key k, std::size_t lo, std::size_t hi) const noexcept;
  };
  // Exact-match strings: open addressing over hashes, keys in one arena (a length byte, then the bytes).
  struct TextSet {
    struct Slot {
      std::uint64_t hash = 0;
      std::uint32_t key = 0;  // offset in `keys` + 1; 0: empty
      std::uint32_t entry = 0;
    };
    std::vector<Slot> slots;  // a power of two, at most ~70% full
    std::vector<char> keys;
    std::uint32_t find(std::uint64_t hash, std::string_view key) const noexcept;
    // kNone when added; the entry that has the key already otherwise.
    std::uint32_t insert(std::uint64_t hash, std::string_view key, std::uint32_t entry);
    std::size_t used = 0;
  };
  static constexpr std::uint32_t kNone = 0xffffffffu;

  Ranges<std::uint32_t> v4_;
  std::vector<std::uint32_t> v4_index_;  // by the top 16 bits: the first range of each /16 (65,537 of them)
  Ranges<unsigned __int128> v6_;
  TextSet domains_, hashes_, processes_;
  std::vector<Indicator> entries_;
  std::vector<char> values_;  // the texts entries_ view
  std::vector<std::string> feeds_;
  std::vector<std::array<std::uint64_t, kIndicatorTypes>> counts_;  // per feed
};

// Collects indicators from the feed parsers, then builds the index (once).
class ThreatIntelIndex::Builder {
 public:
  enum class Added : std::uint8_t { Added, Duplicate, Invalid };
  // Starts a feed's indicators; returns its index for add().
  std::uint16_t add_feed(std::string name);
  // Adds `value` as `kind` says (Url: its host, an address or a domain; Infer: see ValueKind); `shown` is what
  // threat.indicators says of it (default: `value`). Invalid: the value is not one (not an address, a hash of the
  // wrong length, ...), nothing is added.
  Added add(ValueKind kind, std::string_view value, std::uint16_t feed, std::string_view shown = {});
  std::size_t size() const noexcept { return pending_; }
  // The index; the builder is empty afterwards.
  std::shared_ptr<const ThreatIntelIndex> build();

 private:
  Added add_ip(std::string_view text, std::string_view shown, std::uint16_t feed);
  Added add_text(TextSet& set, std::string_view key, IndicatorType t, std::string_view shown, std::uint16_t feed);
  std::uint32_t add_entry(IndicatorType t, std::string_view shown, std::uint16_t feed);
  struct Prefix4 {
    std::uint32_t start;
    std::uint8_t len;
    std::uint32_t entry;
  };
  struct Prefix6 {
    unsigned __int128 start;
    std::uint8_t len;
    std::uint32_t entry;
  };
  std::unique_ptr<ThreatIntelIndex> index_ = std::make_unique<ThreatIntelIndex>();
  std::vector<Prefix4> v4_;
  std::vector<Prefix6> v6_;
  std::vector<std::uint32_t> value_at_, value_len_;  // each entry's text in values_
  std::size_t pending_ = 0;
};

}  // namespace saker
