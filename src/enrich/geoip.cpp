#include "enrich/geoip.hpp"

#include <maxminddb.h>
#include <netinet/in.h>

#include <cstring>

#include <fmt/format.h>

#include "config/files.hpp"
#include "core/field_picks.hpp"
#include "core/unique_keys.hpp"

namespace saker {

namespace {

// The fields of a City (or Country) record, by their path in the record; names in English.
struct CityField {
  std::string_view suffix;  // after "<field>."
  const char* path[5];
};
constexpr CityField kCityFields[] = {
    {"geo.continent_code", {"continent", "code", nullptr}},
    {"geo.country_iso_code", {"country", "iso_code", nullptr}},
    {"geo.country_name", {"country", "names", "en", nullptr}},
    {"geo.region_iso_code", {"subdivisions", "0", "iso_code", nullptr}},
    {"geo.region_name", {"subdivisions", "0", "names", "en", nullptr}},
    {"geo.city_name", {"city", "names", "en", nullptr}},
    {"geo.postal_code", {"postal", "code", nullptr}},
    {"geo.timezone", {"location", "time_zone", nullptr}},
    {"geo.location.lat", {"location", "latitude", nullptr}},
    {"geo.location.lon", {"location", "longitude", nullptr}},
};
// A record without a country (an anycast or satellite network) still has the country it is registered in.
constexpr CityField kRegisteredCountry[] = {
    {"geo.country_iso_code", {"registered_country", "iso_code", nullptr}},
    {"geo.country_name", {"registered_country", "names", "en", nullptr}},
};
constexpr std::string_view kAsNumber = "as.number", kAsOrganization = "as.organization";
constexpr std::string_view kNetwork = "geo.network";

// A record's value at `path` as a field value (strings are copied by the builder); false when it has none.
bool value_at(const MMDB_s& db, std::uint32_t offset, const char* const* path, Value& out) {
  MMDB_entry_s entry{&db, offset};
  MMDB_entry_data_s data{};
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data) return false;
  switch (data.type) {
    case MMDB_DATA_TYPE_UTF8_STRING:
      if (data.data_size == 0) return false;
      out = Value::string(std::string_view(data.utf8_string, data.data_size));
      return true;
    case MMDB_DATA_TYPE_DOUBLE:
      out = Value();
      out.kind = Value::Kind::Double;
      out.d = data.double_value;
      return true;
    case MMDB_DATA_TYPE_FLOAT:
      out = Value();
      out.kind = Value::Kind::Double;
      out.d = data.float_value;
      return true;
    case MMDB_DATA_TYPE_UINT16: out = Value::integer(data.uint16); return true;
    case MMDB_DATA_TYPE_UINT32: out = Value::integer(data.uint32); return true;
    case MMDB_DATA_TYPE_INT32: out = Value::integer(data.int32); return true;
    default: return false;
  }
}

// Decodes every record the search tree points at, once each: a damaged tree or record is found here, at load,
// rather than by an alert.
Result<bool> verify(const MMDB_s& db) {
  const std::uint32_t nodes = db.metadata.node_count;
  std::vector<bool> seen(static_cast<std::size_t>(db.data_section_size) + 1);
  for (std::uint32_t n = 0; n < nodes; ++n) {
    MMDB_search_node_s node{};
    if (int s = MMDB_read_node(&db, n, &node); s != MMDB_SUCCESS) {
      return make_error("bad_database", fmt::format("search tree node {} cannot be read: {}", n, MMDB_strerror(s)));
    }
    for (int side = 0; side < 2; ++side) {
      const std::uint8_t type = side ? node.right_record_type : node.left_record_type;
      const std::uint64_t record = side ? node.right_record : node.left_record;
      if (type == MMDB_RECORD_TYPE_INVALID) {
        return make_error("bad_database", fmt::format("search tree node {} points outside the tree and its data", n));
      }
      if (type != MMDB_RECORD_TYPE_DATA) continue;
      MMDB_entry_s entry = side ? node.right_record_entry : node.left_record_entry;
      if (entry.offset >= seen.size()) {
        return make_error("bad_database", fmt::format("search tree node {} points past the data section (record {})", n, record));
      }
      if (seen[entry.offset]) continue;
      seen[entry.offset] = true;
      MMDB_entry_data_list_s* list = nullptr;
      const int s = MMDB_get_entry_data_list(&entry, &list);
      MMDB_free_entry_data_list(list);
      if (s != MMDB_SUCCESS) {
        return make_error("bad_database",
                          fmt::format("the record at data offset {} cannot be decoded: {}", entry.offset, MMDB_strerror(s)));
      }
    }
  }
  return true;
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

}  // namespace

MaxmindDb::~MaxmindDb() {
  if (db_) MMDB_close(db_.get());
}

Result<std::shared_ptr<const MaxmindDb>> MaxmindDb::open(const std::string& path, Kind kind) {
  std::shared_ptr<MaxmindDb> db(new MaxmindDb());
  auto mmdb = std::make_unique<MMDB_s>();
  std::memset(mmdb.get(), 0, sizeof(MMDB_s));
  errno = 0;
  if (int s = MMDB_open(path.c_str(), MMDB_MODE_MMAP, mmdb.get()); s != MMDB_SUCCESS) {
    const int err = errno;
    const std::string why = (s == MMDB_IO_ERROR || s == MMDB_FILE_OPEN_ERROR) && err ? fmt::format("{}: {}", MMDB_strerror(s), std::strerror(err))
                                                         : std::string(MMDB_strerror(s));
    return make_error("bad_database", fmt::format("cannot open MaxMind database {}: {}", path, why));
  }
  db->db_ = std::move(mmdb);
  db->kind_ = kind;
  db->type_ = db->db_->metadata.database_type ? db->db_->metadata.database_type : "";
  if (kind == Kind::City && !contains(db->type_, "City") && !contains(db->type_, "Country")) {
    return make_error("wrong_database",
                      fmt::format("{} is a \"{}\" database, not a City or Country one", path, db->type_));
  }
  if (kind == Kind::Asn && !contains(db->type_, "ASN") && !contains(db->type_, "ISP")) {
    return make_error("wrong_database", fmt::format("{} is a \"{}\" database, not an ASN (or ISP) one", path, db->type_));
  }
  if (auto v = verify(*db->db_); !v) {
    return make_error("bad_database", fmt::format("MaxMind database {} is damaged: {}", path, v.error().message));
  }
  return std::shared_ptr<const MaxmindDb>(std::move(db));
}

MaxmindDb::Lookup MaxmindDb::lookup(const IpAddress& in, std::uint32_t& offset) const noexcept {
  const IpAddress ip = in.unmapped();
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  const sockaddr* sa = nullptr;
  if (ip.v4) {
    v4.sin_family = AF_INET;
    std::memcpy(&v4.sin_addr, ip.bytes.data(), 4);
    sa = reinterpret_cast<const sockaddr*>(&v4);
  } else {
    if (db_->metadata.ip_version == 4) return Lookup::NotFound;  // an IPv4 database knows no IPv6 address
    v6.sin6_family = AF_INET6;
    std::memcpy(&v6.sin6_addr, ip.bytes.data(), 16);
    sa = reinterpret_cast<const sockaddr*>(&v6);
  }
  int error = MMDB_SUCCESS;
  const MMDB_lookup_result_s r = MMDB_lookup_sockaddr(db_.get(), sa, &error);
  if (error != MMDB_SUCCESS) return Lookup::Error;
  if (!r.found_entry) return Lookup::NotFound;
  offset = r.entry.offset;
  return Lookup::Found;
}

void MaxmindDb::add_fields(std::uint32_t offset, const std::string& field, FieldBlock::Builder& b) const {
  Value v;
  if (kind_ == Kind::Asn) {
    static const char* const kNumber[] = {"autonomous_system_number", nullptr};
    static const char* const kOrg[] = {"autonomous_system_organization", nullptr};
    if (value_at(*db_, offset, kNumber, v)) b.add(fmt::format("{}.{}", field, kAsNumber), v);
    if (value_at(*db_, offset, kOrg, v)) b.add(fmt::format("{}.{}", field, kAsOrganization), v);
    return;
  }
  bool country = false;
  for (const CityField& f : kCityFields) {
    if (!value_at(*db_, offset, f.path, v)) continue;
    country |= f.suffix == "geo.country_iso_code";
    b.add(fmt::format("{}.{}", field, f.suffix), v);
  }
  if (country) return;
  for (const CityField& f : kRegisteredCountry) {
    if (value_at(*db_, offset, f.path, v)) b.add(fmt::format("{}.{}", field, f.suffix), v);
  }
}

std::vector<std::string> geoip_field_names(const std::string& field) {
  std::vector<std::string> out;
  for (const CityField& f : kCityFields) out.push_back(fmt::format("{}.{}", field, f.suffix));
  out.push_back(fmt::format("{}.{}", field, kAsNumber));
  out.push_back(fmt::format("{}.{}", field, kAsOrganization));
  out.push_back(fmt::format("{}.{}", field, kNetwork));
  return out;
}

GeoipStage::GeoipStage(std::shared_ptr<const GeoipConfig> config, StageContext& ctx)
    : config_(std::move(config)),
      cache_(kCacheEntries),
      hits_(ctx.metrics.counter("saker_enrich_hits_total", "Alerts a stage added at least one field to",
                                {{"stage", ctx.name}})),
      found_(ctx.metrics.counter("saker_enrich_lookups_total", "Lookups a stage made, by what they found",
                                 {{"stage", ctx.name}, {"result", "found"}})),
      not_found_(ctx.metrics.counter("saker_enrich_lookups_total", "Lookups a stage made, by what they found",
                                     {{"stage", ctx.name}, {"result", "not_found"}})),
      not_public_(ctx.metrics.counter("saker_enrich_lookups_total", "Lookups a stage made, by what they found",
                                      {{"stage", ctx.name}, {"result", "not_public"}})),
      errors_(ctx.metrics.counter("saker_enrich_lookups_total", "Lookups a stage made, by what they found",
                                  {{"stage", ctx.name}, {"result", "error"}})) {}

std::unique_ptr<const FieldBlock> GeoipStage::build(const AlertIp& ip, std::uint32_t city, std::uint32_t asn,
                                                    IpScope scope) const {
  FieldBlock::Builder b;
  if (scope != IpScope::Public) {
    b.add(fmt::format("{}.{}", ip.field, kNetwork), Value::string(ip_scope_name(scope)));
  } else {
    if (city != UINT32_MAX) config_->city->add_fields(city, ip.field, b);
    if (asn != UINT32_MAX) config_->asn->add_fields(asn, ip.field, b);
  }
  return b.empty() ? nullptr : b.build();
}

void GeoipStage::process(Alert& alert) const {
  thread_local std::vector<AlertIp> ips;
  thread_local std::string key;
  alert_ips(alert, config_->fields, ips);
  bool added = false;
  for (const AlertIp& ip : ips) {
    const IpScope scope = ip_scope(ip.ip);
    std::uint32_t city = UINT32_MAX, asn = UINT32_MAX;
    if (scope != IpScope::Public) {
      not_public_.inc();
    } else {
      bool error = false;
      const auto look = [&](const std::shared_ptr<const MaxmindDb>& db, std::uint32_t& offset) {
        if (!db) return;
        switch (db->lookup(ip.ip, offset)) {
          case MaxmindDb::Lookup::Found: break;
          case MaxmindDb::Lookup::NotFound: offset = UINT32_MAX; break;
          case MaxmindDb::Lookup::Error: offset = UINT32_MAX, error = true; break;
        }
      };
      look(config_->city, city);
      look(config_->asn, asn);
      if (error) errors_.inc();
      if (city == UINT32_MAX && asn == UINT32_MAX) {
        if (!error) not_found_.inc();
        continue;
      }
      found_.inc();
    }
    // The record(s) and the name: the same block for every address in them.
    key.assign(ip.field);
    key.push_back('\0');
    key.append(reinterpret_cast<const char*>(&city), sizeof city);
    key.append(reinterpret_cast<const char*>(&asn), sizeof asn);
    key.push_back(static_cast<char>(scope));
    const std::uint64_t hash = UniqueKeys::hash(key);
    const BlockCache::Entry* e = cache_.find(hash, key);
    std::unique_ptr<const FieldBlock> own;
    if (!e) {
      own = build(ip, city, asn, scope);
      if (!cache_.full()) e = cache_.remember(hash, key, own);
    }
    const FieldBlock* block = e ? e->block : own.get();
    if (!block) continue;
    const std::size_t skipped = e ? alert.add_block(*block) : alert.copy_block(*block);
    added |= skipped < block->fields().size();
  }
  if (added) hits_.inc();
}

namespace {

bool field_name_ok(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '.' || name.back() == '.') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
          c == '.' || c == '[' || c == ']')) {
      return false;
    }
  }
  return true;
}

}  // namespace

StageBuilder parse_geoip_stage(const ConfigReader& r, StageFields& fields) {
  if (!r.node.IsMap()) {
    r.errors.add(r.node, r.ctx, "must be a map: {city_database: GeoLite2-City.mmdb, asn_database: GeoLite2-ASN.mmdb}");
    return nullptr;
  }
  r.only({"city_database", "asn_database", "fields"});
  auto cfg = std::make_shared<GeoipConfig>();
  bool ok = true;
  const auto open = [&](const char* key, MaxmindDb::Kind kind, std::shared_ptr<const MaxmindDb>& to) {
    if (!r.has(key)) return;
    const std::string path = r.path(key);
    if (path.empty()) {
      r.errors.add(r.node[key], r.key_name(key), "must name a MaxMind database file (.mmdb)");
      ok = false;
      return;
    }
    auto db = MaxmindDb::open(path, kind);
    if (!db) {
      r.errors.add(r.node[key], r.key_name(key), db.error().message);
      ok = false;
      return;
    }
    to = std::move(db).value();
    // A reload sees a new database at the same path as a change (the stage's text carries the digest).
    r.errors.note_loaded_file(path, file_digest(path));
  };
  open("city_database", MaxmindDb::Kind::City, cfg->city);
  open("asn_database", MaxmindDb::Kind::Asn, cfg->asn);
  if (ok && !cfg->city && !cfg->asn) {
    r.errors.add(r.node, r.ctx, "needs city_database, asn_database or both");
    ok = false;
  }
  if (r.has("fields")) {
    const YAML::Node list = r.node["fields"];
    if (!list.IsSequence() || list.size() == 0) {
      r.errors.add(list, r.key_name("fields"), "must be a list of address fields, e.g. [fd.sip, fd.rip]");
      ok = false;
    } else {
      for (const auto& n : list) {
        const std::string name = n.IsScalar() ? n.Scalar() : std::string();
        if (!field_name_ok(name)) {
          r.errors.add(n, r.key_name("fields"), fmt::format("\"{}\" is not a field name", name));
          ok = false;
        } else if (std::find(cfg->fields.begin(), cfg->fields.end(), name) != cfg->fields.end()) {
          r.errors.add(n, r.key_name("fields"), fmt::format("\"{}\" is given twice", name));
          ok = false;
        } else {
          cfg->fields.push_back(name);
        }
      }
    }
  } else {
    cfg->fields = default_ip_fields();
  }
  if (!ok) return nullptr;
  const auto name = [&cfg](const std::string& n) {
    if (std::find(cfg->named.begin(), cfg->named.end(), n) == cfg->named.end()) cfg->named.push_back(n);
  };
  for (const std::string& f : cfg->fields) {
    if (f == "fd.name") {
      name("fd.cip");
      name("fd.sip");
    } else {
      name(f);
    }
  }
  for (const std::string& f : cfg->named) {
    for (const std::string& n : geoip_field_names(f)) fields.add(n);
  }
  // Decode picks the address fields: reading them is one probe, not the alert's field table.
  for (const std::string& f : cfg->fields) FieldPicks::want(f);
  for (const std::string& f : cfg->named) FieldPicks::want(f);
  return [cfg](StageContext& ctx) { return std::unique_ptr<Stage>(std::make_unique<GeoipStage>(cfg, ctx)); };
}

}  // namespace saker
