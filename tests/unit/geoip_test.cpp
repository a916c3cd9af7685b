// Given MaxMind's own test databases, the geoip stage adds where an alert's addresses are and whose network they are
// in, tags the addresses that are not public, and refuses a damaged database at load.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "core/decode.hpp"
#include "enrich/geoip.hpp"
#include "enrich/ip_fields.hpp"
#include "format/json.hpp"
#include "pipeline/config.hpp"
#include "test_util.hpp"

using namespace saker;
using saker::test::text_of;

namespace {

const std::string kDir = std::string(SAKER_SOURCE_DIR) + "/tests/data/geoip/";

std::shared_ptr<Alert> fresh(std::string_view json) {
  static thread_local Decoder d;
  d.set_stages(true);
  auto r = d.decode(json);
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(r).value();
}

// A chain of the config's stages.
struct Chain {
  Metrics metrics;
  StageChain chain;
  std::shared_ptr<const PipelineConfig> cfg;
  explicit Chain(const std::string& enrich) {
    ConfigErrors errors("test.yaml");
    cfg = parse_config("enrich:\n" + enrich + "\nsinks: [{name: out, type: stdout}]\n", errors, ConfigUse::replay);
    if (!cfg) throw std::runtime_error(errors.to_string());
    for (const auto& s : cfg->stages) {
      StageContext ctx{s.name, metrics, "/tmp"};
      chain.add(s.name, s.build(ctx), metrics.timing("t", "t", {{"stage", s.name}}));
    }
  }
};

std::string both() {
  return fmt::format("  geoip: {{city_database: {0}GeoIP2-City-Test.mmdb, asn_database: {0}GeoLite2-ASN-Test.mmdb}}", kDir);
}

std::string config_error(const std::string& enrich) {
  ConfigErrors errors("test.yaml");
  auto cfg = parse_config("enrich:\n" + enrich + "\nsinks: [{name: out, type: stdout}]\n", errors, ConfigUse::replay);
  EXPECT_FALSE(cfg) << "expected a config error for " << enrich;
  return errors.to_string();
}

}  // namespace

TEST(IpFields, ParsesAddressesAndTuplesAsFalcoWritesThem) {
  EXPECT_TRUE(parse_ip("81.2.69.142"));
  EXPECT_TRUE(parse_ip("2001:db8::1"));
  EXPECT_TRUE(parse_ip("[2001:db8::1]"));
  EXPECT_TRUE(parse_ip("fe80::1%eth0"));
  EXPECT_FALSE(parse_ip("81.2.69"));
  EXPECT_FALSE(parse_ip("81.2.69.142:80"));
  EXPECT_FALSE(parse_ip(" 81.2.69.142"));
  EXPECT_FALSE(parse_ip("host.example.com"));
  EXPECT_FALSE(parse_ip(std::string(1 << 20, '1')));
  auto t = parse_ip_tuple("10.0.0.1:40000->81.2.69.142:443");
  ASSERT_TRUE(t.client && t.server);
  EXPECT_EQ(t.client_text, "10.0.0.1");
  EXPECT_EQ(t.server_text, "81.2.69.142");
  t = parse_ip_tuple("2001:db8::1:40000->2001:db8::2:443");
  ASSERT_TRUE(t.client && t.server);
  EXPECT_EQ(t.client->to_string(), "2001:db8::1");
  EXPECT_EQ(t.server->to_string(), "2001:db8::2");
  t = parse_ip_tuple("[2001:db8::1]:40000->[2001:db8::2]:443");
  ASSERT_TRUE(t.client && t.server);
  EXPECT_EQ(t.server->to_string(), "2001:db8::2");
  t = parse_ip_tuple("/etc/shadow");
  EXPECT_FALSE(t.client || t.server);
  EXPECT_EQ(ip_scope(*parse_ip("10.1.2.3")), IpScope::Private);
  EXPECT_EQ(ip_scope(*parse_ip("172.31.0.1")), IpScope::Private);
  EXPECT_EQ(ip_scope(*parse_ip("172.32.0.1")), IpScope::Public);
  EXPECT_EQ(ip_scope(*parse_ip("192.168.0.1")), IpScope::Private);
  EXPECT_EQ(ip_scope(*parse_ip("127.0.0.1")), IpScope::Loopback);
  EXPECT_EQ(ip_scope(*parse_ip("169.254.169.254")), IpScope::LinkLocal);
  EXPECT_EQ(ip_scope(*parse_ip("::1")), IpScope::Loopback);
  EXPECT_EQ(ip_scope(*parse_ip("fd00::1")), IpScope::Private);
  EXPECT_EQ(ip_scope(*parse_ip("fe80::1")), IpScope::LinkLocal);
  EXPECT_EQ(ip_scope(*parse_ip("::ffff:10.0.0.1")), IpScope::Private);
  EXPECT_EQ(ip_scope(*parse_ip("0.0.0.0")), IpScope::Unspecified);
  EXPECT_EQ(ip_scope(*parse_ip("224.0.0.1")), IpScope::Multicast);
  EXPECT_EQ(ip_scope(*parse_ip("8.8.8.8")), IpScope::Public);
}

TEST(Geoip, AddsCityCountryAndAsnAsMaxMindsSourceDataSays) {
  Chain c(both());
  auto a = fresh(R"({"rule":"r","priority":"Warning","output_fields":{"fd.sip":"81.2.69.142","fd.rip":"216.160.83.56","fd.cip":"1.128.0.1"}})");
  c.chain.run(*a);
  EXPECT_EQ(text_of(*a, "fd.sip.geo.country_iso_code"), "GB");
  EXPECT_EQ(text_of(*a, "fd.sip.geo.country_name"), "United Kingdom");
  EXPECT_EQ(text_of(*a, "fd.sip.geo.city_name"), "London");
  EXPECT_EQ(text_of(*a, "fd.sip.geo.continent_code"), "EU");
  EXPECT_EQ(text_of(*a, "fd.rip.geo.country_iso_code"), "US");
  EXPECT_EQ(text_of(*a, "fd.rip.geo.city_name"), "Milton");
  EXPECT_EQ(text_of(*a, "fd.rip.geo.region_iso_code"), "WA");
  EXPECT_EQ(text_of(*a, "fd.rip.geo.postal_code"), "98354");
  EXPECT_EQ(text_of(*a, "fd.rip.as.number"), "209");
  EXPECT_EQ(text_of(*a, "fd.cip.as.number"), "1221");
  EXPECT_EQ(text_of(*a, "fd.cip.as.organization"), "Telstra Pty Ltd");
  Value lat;
  ASSERT_TRUE(a->lookup("fd.rip.geo.location.lat", lat));
  EXPECT_EQ(lat.kind, Value::Kind::Double);
  EXPECT_NEAR(lat.d, 47.2513, 1e-4);
  // Falco's own fields are untouched, and the json format carries the added ones.
  EXPECT_EQ(text_of(*a, "fd.sip"), "81.2.69.142");
  std::string out;
  JsonFormatter().format(*a, out);
  EXPECT_NE(out.find(R"("fd.sip.geo.city_name":"London")"), std::string::npos) << out;
  EXPECT_EQ(c.metrics.counter_value("saker_enrich_hits_total", {{"stage", "geoip"}}), 1u);
  EXPECT_EQ(c.metrics.counter_value("saker_enrich_lookups_total", {{"stage", "geoip"}, {"result", "found"}}), 3u);
}

TEST(Geoip, AddressesThatAreNotPublicAreTaggedNotLookedUp) {
  Chain c(both());
  auto a = fresh(R"({"rule":"r","priority":"Warning","output_fields":{"fd.sip":"10.0.0.7","fd.cip":"::1","fd.rip":"fe80::1","fd.lip":"192.168.1.1"}})");
  c.chain.run(*a);
  EXPECT_EQ(text_of(*a, "fd.sip.geo.network"), "private");
  EXPECT_EQ(text_of(*a, "fd.cip.geo.network"), "loopback");
  EXPECT_EQ(text_of(*a, "fd.rip.geo.network"), "link_local");
  EXPECT_EQ(text_of(*a, "fd.lip.geo.network"), "private");
  Value v;
  EXPECT_FALSE(a->lookup("fd.sip.geo.country_iso_code", v));
  EXPECT_EQ(c.metrics.counter_value("saker_enrich_lookups_total", {{"stage", "geoip"}, {"result", "not_public"}}), 4u);
}

TEST(Geoip, ReadsBothEndsOfFdNameAndIpv6) {
  Chain c(both());
  // No fd.sip/fd.cip of its own: fd.name's ends are named as Falco names them.
  auto a = fresh(R"({"rule":"r","priority":"Warning","output_fields":{"fd.name":"1.128.0.1:40000->81.2.69.142:443"}})");
  c.chain.run(*a);
  EXPECT_EQ(text_of(*a, "fd.cip.as.number"), "1221");
  EXPECT_EQ(text_of(*a, "fd.sip.geo.city_name"), "London");
  // IPv6 (2001:218::/32 is Japan in the City test database) and an IPv4-mapped address.
  auto b = fresh(R"({"rule":"r","priority":"Warning","output_fields":{"fd.sip":"2001:218::1","fd.rip":"::ffff:81.2.69.142"}})");
  c.chain.run(*b);
  EXPECT_EQ(text_of(*b, "fd.sip.geo.country_iso_code"), "JP");
  EXPECT_EQ(text_of(*b, "fd.rip.geo.city_name"), "London");
  // Falco's fd.sip wins over fd.name's server end: the field the alert has is the one enriched.
  auto d = fresh(R"({"rule":"r","priority":"Warning","output_fields":{"fd.sip":"216.160.83.56","fd.name":"1.128.0.1:1->81.2.69.142:2"}})");
  c.chain.run(*d);
  EXPECT_EQ(text_of(*d, "fd.sip.geo.city_name"), "Milton");
}

TEST(Geoip, AddressesNotInTheDatabaseAndNonAddressesAddNothing) {
  Chain c(both());
  auto a = fresh(R"({"rule":"r","priority":"Warning","output_fields":{"fd.sip":"8.8.8.8","fd.rip":"not an address","fd.cip":12345}})");
  c.chain.run(*a);
  EXPECT_FALSE(a->has_fields_added());
  EXPECT_EQ(c.metrics.counter_value("saker_enrich_lookups_total", {{"stage", "geoip"}, {"result", "not_found"}}), 1u);
  EXPECT_EQ(c.metrics.counter_value("saker_enrich_hits_total", {{"stage", "geoip"}}), 0u);
}

TEST(Geoip, FalcosOwnFieldOfTheSameNameIsNeverReplaced) {
  Chain c(both());
  auto a = fresh(R"({"rule":"r","priority":"Warning","output_fields":{"fd.sip":"81.2.69.142","fd.sip.geo.city_name":"Falco says"}})");
  c.chain.run(*a);
  EXPECT_EQ(text_of(*a, "fd.sip.geo.city_name"), "Falco says");
  EXPECT_EQ(text_of(*a, "fd.sip.geo.country_iso_code"), "GB");
}

TEST(Geoip, TheConfiguredFieldsAreTheOnlyOnesRead) {
  Chain c(fmt::format("  geoip: {{asn_database: {}GeoLite2-ASN-Test.mmdb, fields: [fd.rip, k8s.pod.ip]}}", kDir));
  auto a = fresh(R"({"rule":"r","priority":"Warning","output_fields":{"fd.sip":"1.128.0.1","fd.rip":"1.128.0.1","k8s.pod.ip":"216.160.83.56"}})");
  c.chain.run(*a);
  Value v;
  EXPECT_FALSE(a->lookup("fd.sip.as.number", v));
  EXPECT_EQ(text_of(*a, "fd.rip.as.number"), "1221");
  EXPECT_EQ(text_of(*a, "k8s.pod.ip.as.number"), "209");
  EXPECT_FALSE(a->lookup("fd.rip.geo.country_iso_code", v));  // no City database
}

TEST(Geoip, ManyAlertsOfOneNetworkShareOneBlockAndGiveTheSameFields) {
  Chain c(both());
  std::string first;
  for (int i = 0; i < 200; ++i) {
    auto a = fresh(fmt::format(R"({{"rule":"r","priority":"Warning","output_fields":{{"fd.sip":"81.2.69.{}"}}}})", 142 + i % 2));
    c.chain.run(*a);
    std::string out;
    JsonFormatter().format(*a, out);
    const auto at = out.find("fd.sip.geo");
    ASSERT_NE(at, std::string::npos);
    if (first.empty()) first = out.substr(at);
    EXPECT_EQ(out.substr(at), first);
  }
}

TEST(Geoip, DamagedWrongAndMissingDatabasesAreRefusedAtLoad) {
  std::string e = config_error(fmt::format("  geoip: {{city_database: {}GeoIP2-City-Test-Broken-Double-Format.mmdb}}", kDir));
  EXPECT_NE(e.find("is damaged"), std::string::npos) << e;
  EXPECT_NE(e.find("test.yaml:2:"), std::string::npos) << e;
  e = config_error(fmt::format("  geoip: {{city_database: {}GeoIP2-City-Test-Invalid-Node-Count.mmdb}}", kDir));
  EXPECT_NE(e.find("invalid metadata"), std::string::npos) << e;
  e = config_error(fmt::format("  geoip: {{city_database: {}GeoLite2-ASN-Test.mmdb}}", kDir));
  EXPECT_NE(e.find("not a City or Country one"), std::string::npos) << e;
  e = config_error(fmt::format("  geoip: {{asn_database: {}GeoLite2-City-Test.mmdb}}", kDir));
  EXPECT_NE(e.find("not an ASN"), std::string::npos) << e;
  e = config_error(fmt::format("  geoip: {{city_database: {}missing.mmdb}}", kDir));
  EXPECT_NE(e.find("No such file or directory"), std::string::npos) << e;
  e = config_error(fmt::format("  geoip: {{city_database: {}SOURCES.md}}", kDir));
  EXPECT_NE(e.find("cannot open MaxMind database"), std::string::npos) << e;
  e = config_error("  geoip: {fields: [fd.sip]}");
  EXPECT_NE(e.find("needs city_database, asn_database or both"), std::string::npos) << e;
  e = config_error(fmt::format("  geoip: {{asn_database: {}GeoLite2-ASN-Test.mmdb, fields: [fd.sip, fd.sip]}}", kDir));
  EXPECT_NE(e.find("given twice"), std::string::npos) << e;
  e = config_error(fmt::format("  geoip: {{asn_database: {}GeoLite2-ASN-Test.mmdb, databse: x}}", kDir));
  EXPECT_NE(e.find("databse"), std::string::npos) << e;
}

TEST(Geoip, ACountryDatabaseGivesTheCountry) {
  Chain c(fmt::format("  geoip: {{city_database: {}GeoLite2-Country-Test.mmdb}}", kDir));
  auto a = fresh(R"({"rule":"r","priority":"Warning","output_fields":{"fd.sip":"81.2.69.142"}})");
  c.chain.run(*a);
  EXPECT_EQ(text_of(*a, "fd.sip.geo.country_iso_code"), "GB");
  Value v;
  EXPECT_FALSE(a->lookup("fd.sip.geo.city_name", v));
}
