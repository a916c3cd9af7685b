#pragma once
// `enrich: {geoip: {...}}`: where the alert's IP addresses are, and whose network they are in, from MaxMind
// databases (libmaxminddb): a City (or Country) database and an ASN database, either or both.
//
//   geoip:
//     city_database: GeoLite2-City.mmdb
//     asn_database: GeoLite2-ASN.mmdb
//     fields: [fd.sip, fd.cip, fd.rip, fd.lip, fd.name]   # the default; fd.name gives its two ends as fd.cip, fd.sip
//
// For each address field F it adds F.geo.continent_code, F.geo.country_iso_code, F.geo.country_name,
// F.geo.region_iso_code, F.geo.region_name, F.geo.city_name, F.geo.postal_code, F.geo.timezone,
// F.geo.location.lat, F.geo.location.lon (what the City record has), F.as.number, F.as.organization (ASN). An
// address that is not public (private, loopback, link-local, multicast, ...) is not looked up: it gets
// F.geo.network with its scope ("private", ...).
//
// A database is checked whole when it is opened (every record of its search tree decoded once): a damaged one is
// refused with the reason, never read. The fields of each record are built once per field name, as a FieldBlock,
// and borrowed by every alert whose address falls in it (enrich/block_cache.hpp).
#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/stage.hpp"
#include "enrich/block_cache.hpp"
#include "enrich/ip_fields.hpp"

struct MMDB_s;

namespace saker {

// One MaxMind database, opened (memory-mapped) and verified; lookups are thread-safe.
class MaxmindDb {
 public:
  enum class Kind { City, Asn };
  // Opens and verifies `path`; an error says what is wrong with it (not found, not a MaxMind database, damaged,
  // not a City/Country or ASN database as `kind` asks).
  static Result<std::shared_ptr<const MaxmindDb>> open(const std::string& path, Kind kind);
  ~MaxmindDb();
  MaxmindDb(const MaxmindDb&) = delete;
  MaxmindDb& operator=(const MaxmindDb&) = delete;

  enum class Lookup { Found, NotFound, Error };
  // The record `ip` falls in: its offset in the data section (a record's identity) when found.
  Lookup lookup(const IpAddress& ip, std::uint32_t& offset) const noexcept;
  // Adds the fields of the record at `offset` for address field `field` (e.g. "fd.sip") to `b`.
  void add_fields(std::uint32_t offset, const std::string& field, FieldBlock::Builder& b) const;
  const std::string& type() const noexcept { return type_; }
  Kind kind() const noexcept { return kind_; }

 private:
  MaxmindDb() = default;
  std::unique_ptr<MMDB_s> db_;
  std::string type_;  // the metadata's database_type, e.g. "GeoLite2-City"
  Kind kind_ = Kind::City;
};

struct GeoipConfig {
  std::shared_ptr<const MaxmindDb> city, asn;
  std::vector<std::string> fields;  // the address fields read (alert_ips)
  std::vector<std::string> named;   // the names the fields are added under (fd.name gives fd.cip and fd.sip)
};

class GeoipStage final : public Stage {
 public:
  GeoipStage(std::shared_ptr<const GeoipConfig> config, StageContext& ctx);
  void process(Alert& alert) const override;

  static constexpr std::size_t kCacheEntries = 1 << 16;

 private:
  std::unique_ptr<const FieldBlock> build(const AlertIp& ip, std::uint32_t city, std::uint32_t asn, IpScope scope) const;
  std::shared_ptr<const GeoipConfig> config_;
  mutable BlockCache cache_;
  Counter &hits_, &found_, &not_found_, &not_public_, &errors_;
};

// The names the stage adds for address field `field` (F.geo.*, F.as.*).
std::vector<std::string> geoip_field_names(const std::string& field);

StageBuilder parse_geoip_stage(const ConfigReader& r, StageFields& fields);

}  // namespace saker
