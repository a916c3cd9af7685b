#include "enrich/feeds/threat_intel_index.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace saker {

namespace {

using U128 = unsigned __int128;

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;

// One step of the hash, which runs from a text's last byte to its first: every suffix of a domain ("evil.com" of
// "a.evil.com") is hashed on the way, so a parent-domain lookup hashes the name once.
constexpr std::uint64_t step(std::uint64_t h, char c) noexcept { return (h ^ static_cast<unsigned char>(c)) * kFnvPrime; }
constexpr std::uint64_t finish(std::uint64_t h) noexcept {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 33);
}
std::uint64_t text_hash(std::string_view s) noexcept {
  std::uint64_t h = kFnvOffset;
  for (std::size_t i = s.size(); i-- > 0;) h = step(h, s[i]);
  return finish(h);
}

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// A hex hash in lower case into `out` (64 bytes); its length, or 0 when it is not hex of 32, 40 or 64 digits.
std::size_t normalize_hash(std::string_view hex, char* out) noexcept {
  if (hex.size() != 32 && hex.size() != 40 && hex.size() != 64) return 0;
  for (std::size_t i = 0; i < hex.size(); ++i) {
    const char c = lower(hex[i]);
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
    out[i] = c;
  }
  return hex.size();
}

template <typename Key>
constexpr Key host_mask(unsigned len) noexcept {
  constexpr unsigned bits = sizeof(Key) * 8;
  return len >= bits ? Key{0} : static_cast<Key>(~Key{0} >> len);
}

U128 to_u128(const std::uint8_t* b) noexcept {
  U128 v = 0;
  for (int i = 0; i < 16; ++i) v = (v << 8) | b[i];
  return v;
}

bool is_mapped(const std::uint8_t* b) noexcept {
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(b, kMapped, 12) == 0;
}

// The host of a URL ("http://user@host:port/path", "host/path", "[v6]:port"); empty when there is none.
std::string_view url_host(std::string_view url) noexcept {
  if (const auto scheme = url.find("://"); scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  url = url.substr(0, url.find_first_of("/?#"));
  if (const auto at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
  if (!url.empty() && url.front() == '[') {
    const auto close = url.find(']');
    return close == std::string_view::npos ? std::string_view() : url.substr(1, close - 1);
  }
  return url.substr(0, url.find(':'));
}

}  // namespace

std::string_view indicator_type_name(IndicatorType t) noexcept {
  switch (t) {
    case IndicatorType::Ipv4: return "ipv4-addr";
    case IndicatorType::Ipv6: return "ipv6-addr";
    case IndicatorType::Domain: return "domain-name";
    case IndicatorType::File: return "file";
    case IndicatorType::Process: return "process";
  }
  return "file";
}

std::optional<std::string_view> normalize_domain(std::string_view text, char* out) noexcept {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty() || text.size() >= kMaxHostName) return std::nullopt;
  std::size_t label = 0, labels = 1;
  bool numeric = true;  // the label so far is digits only
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = lower(text[i]);
    if (c == '.') {
      if (label == 0) return std::nullopt;
      label = 0;
      numeric = true;
      ++labels;
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
      if (++label > 63) return std::nullopt;
      numeric = numeric && c >= '0' && c <= '9';
    } else {
      return std::nullopt;
    }
    out[i] = c;
  }
  // An all-numeric top-level domain is none (RFC 3696): 999.1.1.1 is a mistyped address, not a domain.
  if (label == 0 || labels < 2 || numeric) return std::nullopt;
  return std::string_view(out, text.size());
}

// --- lookups ---

template <typename Key>
std::uint32_t ThreatIntelIndex::Ranges<Key>::find(Key k, std::size_t lo, std::size_t hi) const noexcept {
  const auto it = std::upper_bound(starts.begin() + static_cast<std::ptrdiff_t>(lo),
                                   starts.begin() + static_cast<std::ptrdiff_t>(hi), k);
  if (it == starts.begin()) return kNone;
  return owner[static_cast<std::size_t>(it - starts.begin()) - 1];
}

std::uint32_t ThreatIntelIndex::TextSet::find(std::uint64_t hash, std::string_view key) const noexcept {
  if (slots.empty()) return kNone;
  const std::size_t mask = slots.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots[i];
    if (s.key == 0) return kNone;
    if (s.hash == hash) {
      const char* k = keys.data() + s.key - 1;
      if (static_cast<unsigned char>(k[0]) == key.size() && std::memcmp(k + 1, key.data(), key.size()) == 0) {
        return s.entry;
      }
    }
  }
}

std::uint32_t ThreatIntelIndex::TextSet::insert(std::uint64_t hash, std::string_view key, std::uint32_t entry) {
  if (const std::uint32_t e = find(hash, key); e != kNone) return e;
  if ((used + 1) * 10 > slots.size() * 7) {
    std::vector<Slot> old(std::max<std::size_t>(16, slots.size() * 2));
    old.swap(slots);
    const std::size_t mask = slots.size() - 1;
    for (const Slot& s : old) {
      if (s.key == 0) continue;
      std::size_t i = s.hash & mask;
      while (slots[i].key != 0) i = (i + 1) & mask;
      slots[i] = s;
    }
  }
  const std::size_t mask = slots.size() - 1;
  std::size_t i = hash & mask;
  while (slots[i].key != 0) i = (i + 1) & mask;
  slots[i] = Slot{hash, static_cast<std::uint32_t>(keys.size() + 1), entry};
  keys.push_back(static_cast<char>(key.size()));
  keys.insert(keys.end(), key.begin(), key.end());
  ++used;
  return kNone;
}

const Indicator* ThreatIntelIndex::find_ipv4(std::uint32_t address) const noexcept {
  if (v4_.starts.empty()) return nullptr;
  const std::uint32_t top = address >> 16;
  const std::uint32_t e = v4_.find(address, v4_index_[top], v4_index_[top + 1]);
  return e == kNone ? nullptr : &entries_[e];
}

const Indicator* ThreatIntelIndex::find_ipv6(const std::uint8_t (&address)[16]) const noexcept {
  if (is_mapped(address)) {
    return find_ipv4(static_cast<std::uint32_t>(address[12]) << 24 | static_cast<std::uint32_t>(address[13]) << 16 |
                     static_cast<std::uint32_t>(address[14]) << 8 | address[15]);
  }
  if (v6_.starts.empty()) return nullptr;
  const std::uint32_t e = v6_.find(to_u128(address), 0, v6_.starts.size());
  return e == kNone ? nullptr : &entries_[e];
}

const Indicator* ThreatIntelIndex::find_domain(std::string_view host) const noexcept {
  if (domains_.used == 0) return nullptr;
  char buf[kMaxHostName];
  const auto d = normalize_domain(host, buf);
  if (!d) return nullptr;
  // From the top-level domain down: each longer suffix found is more specific than the one before.
  std::uint32_t best = kNone;
  std::uint64_t h = kFnvOffset;
  bool dot = false;
  for (std::size_t i = d->size(); i-- > 0;) {
    h = step(h, (*d)[i]);
    if ((*d)[i] == '.') dot = true;
    if (dot && (i == 0 || (*d)[i - 1] == '.')) {
      if (const std::uint32_t e = domains_.find(finish(h), d->substr(i)); e != kNone) best = e;
    }
  }
  return best == kNone ? nullptr : &entries_[best];
}

const Indicator* ThreatIntelIndex::find_hash(std::string_view hex) const noexcept {
  char buf[64];
  const std::size_t n = normalize_hash(hex, buf);
  if (n == 0 || hashes_.used == 0) return nullptr;
  const std::string_view key(buf, n);
  const std::uint32_t e = hashes_.find(text_hash(key), key);
  return e == kNone ? nullptr : &entries_[e];
}

const Indicator* ThreatIntelIndex::find_process(std::string_view name) const noexcept {
  if (processes_.used == 0 || name.empty() || name.size() > 255) return nullptr;
  const std::uint32_t e = processes_.find(text_hash(name), name);
  return e == kNone ? nullptr : &entries_[e];
}

std::uint64_t ThreatIntelIndex::count(std::uint16_t feed, IndicatorType t) const noexcept {
  return feed < counts_.size() ? counts_[feed][static_cast<std::size_t>(t)] : 0;
}

std::size_t ThreatIntelIndex::memory_bytes() const noexcept {
  auto text = [](const TextSet& s) { return s.slots.capacity() * sizeof(TextSet::Slot) + s.keys.capacity(); };
  return v4_.starts.capacity() * 4 + v4_.owner.capacity() * 4 + v4_index_.capacity() * 4 +
         v6_.starts.capacity() * 16 + v6_.owner.capacity() * 4 + text(domains_) + text(hashes_) + text(processes_) +
         entries_.capacity() * sizeof(Indicator) + values_.capacity();
}

// --- building ---

std::uint16_t ThreatIntelIndex::Builder::add_feed(std::string name) {
  index_->feeds_.push_back(std::move(name));
  index_->counts_.emplace_back();
  return static_cast<std::uint16_t>(index_->feeds_.size() - 1);
}

std::uint32_t ThreatIntelIndex::Builder::add_entry(IndicatorType t, std::string_view shown, std::uint16_t feed) {
  auto& ix = *index_;
  // The view is set in build(), once values_ stops growing.
  value_at_.push_back(static_cast<std::uint32_t>(ix.values_.size()));
  ix.values_.insert(ix.values_.end(), shown.begin(), shown.end());
  ix.entries_.push_back(Indicator{t, std::string_view(), feed});
  value_len_.push_back(static_cast<std::uint32_t>(shown.size()));
  ++ix.counts_[feed][static_cast<std::size_t>(t)];
  ++pending_;
  return static_cast<std::uint32_t>(ix.entries_.size() - 1);
}

ThreatIntelIndex::Builder::Added ThreatIntelIndex::Builder::add_text(TextSet& set, std::string_view key, IndicatorType t,
                                                                     std::string_view shown, std::uint16_t feed) {
  const std::uint64_t h = text_hash(key);
  if (set.find(h, key) != kNone) return Added::Duplicate;
  set.insert(h, key, add_entry(t, shown, feed));
  return Added::Added;
}

ThreatIntelIndex::Builder::Added ThreatIntelIndex::Builder::add_ip(std::string_view text, std::string_view shown,
                                                                   std::uint16_t feed) {
  std::string_view addr = text;
  int len = -1;
  if (const auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    const std::string_view digits = text.substr(slash + 1);
    const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
    if (ec != std::errc() || p != digits.data() + digits.size() || digits.empty() || digits.size() > 3) {
      return Added::Invalid;
    }
  }
  if (addr.empty() || addr.size() > 45) return Added::Invalid;
  char buf[46];
  std::memcpy(buf, addr.data(), addr.size());
  buf[addr.size()] = '\0';
  std::uint8_t bytes[16] = {};
  if (addr.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, bytes) != 1 || len > 32) return Added::Invalid;
    const std::uint32_t a = static_cast<std::uint32_t>(bytes[0]) << 24 | static_cast<std::uint32_t>(bytes[1]) << 16 |
                            static_cast<std::uint32_t>(bytes[2]) << 8 | bytes[3];
    const unsigned l = len < 0 ? 32 : static_cast<unsigned>(len);
    v4_.push_back({a & ~host_mask<std::uint32_t>(l), static_cast<std::uint8_t>(l), add_entry(IndicatorType::Ipv4, shown, feed)});
    return Added::Added;
  }
  if (inet_pton(AF_INET6, buf, bytes) != 1 || len > 128) return Added::Invalid;
  const unsigned l = len < 0 ? 128 : static_cast<unsigned>(len);
  const std::uint32_t entry = add_entry(IndicatorType::Ipv6, shown, feed);
  if (is_mapped(bytes) && l >= 96) {  // ::ffff:a.b.c.d/n is the IPv4 range a.b.c.d/(n-96): alerts look it up so
    const std::uint32_t a = static_cast<std::uint32_t>(bytes[12]) << 24 | static_cast<std::uint32_t>(bytes[13]) << 16 |
                            static_cast<std::uint32_t>(bytes[14]) << 8 | bytes[15];
    v4_.push_back({a & ~host_mask<std::uint32_t>(l - 96), static_cast<std::uint8_t>(l - 96), entry});
    return Added::Added;
  }
  v6_.push_back({to_u128(bytes) & ~host_mask<U128>(l), static_cast<std::uint8_t>(l), entry});
  return Added::Added;
}

ThreatIntelIndex::Builder::Added ThreatIntelIndex::Builder::add(ValueKind kind, std::string_view value,
                                                                std::uint16_t feed, std::string_view shown) {
  if (shown.empty()) shown = value;
  if (value.empty() || value.size() > 2048 || shown.size() > 2048) return Added::Invalid;
  auto& ix = *index_;
  char buf[kMaxHostName];
  auto hash = [&](std::size_t want) {
    const std::size_t n = normalize_hash(value, buf);
    if (n == 0 || (want != 0 && n != want)) return Added::Invalid;
    return add_text(ix.hashes_, std::string_view(buf, n), IndicatorType::File, shown, feed);
  };
  auto domain = [&](std::string_view host) {
    const auto d = normalize_domain(host, buf);
    return d ? add_text(ix.domains_, *d, IndicatorType::Domain, shown, feed) : Added::Invalid;
  };
  switch (kind) {
    case ValueKind::Ip: return add_ip(value, shown, feed);
    case ValueKind::Domain: return domain(value);
    case ValueKind::Md5: return hash(32);
    case ValueKind::Sha1: return hash(40);
    case ValueKind::Sha256: return hash(64);
    case ValueKind::AnyHash: return hash(0);
    case ValueKind::Process:
      if (value.size() > 255) return Added::Invalid;
      return add_text(ix.processes_, value, IndicatorType::Process, shown, feed);
    case ValueKind::Url: {
      const std::string_view host = url_host(value);
      if (host.empty()) return Added::Invalid;
      if (const Added a = add_ip(host, shown, feed); a != Added::Invalid) return a;
      return domain(host);
    }
    case ValueKind::Infer:
      if (const Added a = add_ip(value, shown, feed); a != Added::Invalid) return a;
      if (const Added a = hash(0); a != Added::Invalid) return a;
      if (value.find("://") != std::string_view::npos) return add(ValueKind::Url, value, feed, shown);
      return domain(value);
  }
  return Added::Invalid;
}

namespace {

// Sorted prefixes (CIDRs nest or are disjoint) into disjoint ranges, each owned by the longest prefix covering it.
template <typename Key, typename Prefix, typename Ranges>
void sweep(std::vector<Prefix>& prefixes, Ranges& out, std::vector<Indicator>& entries,
           std::vector<std::array<std::uint64_t, kIndicatorTypes>>& counts, std::uint32_t none) {
  std::stable_sort(prefixes.begin(), prefixes.end(),
                   [](const Prefix& a, const Prefix& b) { return a.start != b.start ? a.start < b.start : a.len < b.len; });
  auto emit = [&](Key pos, std::uint32_t owner) {
    if (!out.starts.empty() && out.starts.back() == pos) {
      out.owner.back() = owner;
    } else if (out.owner.empty() ? owner != none : out.owner.back() != owner) {
      out.starts.push_back(pos);
      out.owner.push_back(owner);
    }
  };
  struct Open {
    Key end;
    std::uint32_t entry;
  };
  std::vector<Open> open;
  const Prefix* prev = nullptr;
  for (const Prefix& p : prefixes) {
    if (prev && prev->start == p.start && prev->len == p.len) {  // the same range again: the first feed's stays
      const Indicator& dup = entries[p.entry];
      --counts[dup.feed][static_cast<std::size_t>(dup.type)];
      continue;
    }
    prev = &p;
    while (!open.empty() && open.back().end < p.start) {
      const Open o = open.back();
      open.pop_back();
      emit(o.end + 1, open.empty() ? none : open.back().entry);
    }
    emit(p.start, p.entry);
    open.push_back({static_cast<Key>(p.start | host_mask<Key>(p.len)), p.entry});
  }
  while (!open.empty()) {
    const Open o = open.back();
    open.pop_back();
    if (o.end != static_cast<Key>(~Key{0}))  // numeric_limits knows no __int128 in strict mode
      emit(o.end + 1, open.empty() ? none : open.back().entry);
  }
  out.starts.shrink_to_fit();
  out.owner.shrink_to_fit();
}

}  // namespace

std::shared_ptr<const ThreatIntelIndex> ThreatIntelIndex::Builder::build() {
  auto& ix = *index_;
  sweep<std::uint32_t>(v4_, ix.v4_, ix.entries_, ix.counts_, kNone);
  sweep<U128>(v6_, ix.v6_, ix.entries_, ix.counts_, kNone);
  ix.v4_index_.resize(65537);
  for (std::uint32_t top = 0; top <= 65536; ++top) {
    const std::uint64_t at = static_cast<std::uint64_t>(top) << 16;
    ix.v4_index_[top] = static_cast<std::uint32_t>(
        std::lower_bound(ix.v4_.starts.begin(), ix.v4_.starts.end(), at,
                         [](std::uint32_t s, std::uint64_t v) { return s < v; }) -
        ix.v4_.starts.begin());
  }
  ix.values_.shrink_to_fit();
  for (std::size_t i = 0; i < ix.entries_.size(); ++i) {
    ix.entries_[i].value = std::string_view(ix.values_.data() + value_at_[i], value_len_[i]);
  }
  value_at_ = {};
  value_len_ = {};
  v4_ = {};
  v6_ = {};
  pending_ = 0;
  std::shared_ptr<const ThreatIntelIndex> out(std::move(index_));
  index_ = std::make_unique<ThreatIntelIndex>();
  return out;
}

}  // namespace saker
