#include "enrich/users/stage.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "config/files.hpp"
#include "enrich/users/user_fields.hpp"

namespace saker {

namespace {

// The alert's value of `field` as text: a string as it is, a number in decimal (Falco sends user.uid as one).
bool value_text(const Alert& a, std::string_view field, std::string& out) {
  Value v;
  if (!a.lookup(field, v) || v.is_null()) return false;
  if (v.kind == Value::Kind::String) {
    out.assign(v.text);
  } else if (v.kind == Value::Kind::Int || v.kind == Value::Kind::Uint) {
    out = v.to_text();
  } else {
    return false;
  }
  return !out.empty();
}

}  // namespace

UsersStage::UsersStage(std::shared_ptr<const UsersConfig> config, StageContext& ctx)
    : config_(std::move(config)),
      hits_(ctx.metrics.counter("saker_enrich_hits_total", "Alerts a stage added at least one field to",
                                {{"stage", ctx.name}})),
      misses_(ctx.metrics.counter("saker_enrich_misses_total",
                                  "Alerts a stage had no answer for yet (the lookup runs apart; the alert went on)",
                                  {{"stage", ctx.name}})) {
  if (config_->ldap) {
    std::unique_ptr<UserDirectory> dir =
        config_->directory ? config_->directory() : std::make_unique<LdapDirectory>(config_->ldap_options);
    lookups_ = std::make_unique<UserLookups>(std::move(dir), config_->lookup, ctx.metrics, ctx.name, config_->threads);
    return;
  }
  found_ = &ctx.metrics.counter("saker_enrich_lookups_total", "Lookups a stage made, by what they found",
                                {{"stage", ctx.name}, {"result", "found"}});
  not_found_ = &ctx.metrics.counter("saker_enrich_lookups_total", "Lookups a stage made, by what they found",
                                    {{"stage", ctx.name}, {"result", "not_found"}});
  ctx.metrics.gauge("saker_enrich_table_entries", "Entries in a stage's table", {{"stage", ctx.name}})
      .set(static_cast<std::int64_t>(config_->table->size()));
  blocks_.reserve(config_->table->size());
  for (const UserTable::Entry& e : config_->table->entries()) blocks_.push_back(UserBlock::of(e.record));
}

void UsersStage::process(Alert& alert) const {
  if (lookups_) {
    from_directory(alert);
  } else {
    from_table(alert);
  }
}

void UsersStage::from_table(Alert& alert) const {
  thread_local std::string value;
  const bool by_uid = config_->key == UsersConfig::Key::Uid;
  if (!value_text(alert, by_uid ? "user.uid" : "user.name", value)) return;
  const UserTable& t = *config_->table;
  const UserTable::Entry* e = by_uid ? t.by_uid(value) : t.by_name(value);
  if (!e) {
    not_found_->inc();
    return;
  }
  found_->inc();
  if (blocks_[static_cast<std::size_t>(e - t.entries().data())].add_to(alert)) hits_.inc();
}

void UsersStage::from_directory(Alert& alert) const {
  thread_local std::vector<std::string> values;
  thread_local std::string key;
  const auto& fields = config_->ldap_options.filter.fields();
  values.resize(fields.size());
  key.clear();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (!value_text(alert, fields[i], values[i])) return;  // nothing to ask the directory
    key.append(values[i]);
    key.push_back('\0');
  }
  const UserLookups::Answer a = lookups_->get(key, values);
  switch (a.state) {
    case UserLookups::State::Found:
      if (a.block.add_to(alert)) hits_.inc();
      break;
    case UserLookups::State::NotFound: break;
    case UserLookups::State::Miss: misses_.inc(); break;
  }
}

namespace {

bool parse_ldap(const ConfigReader& r, UsersConfig& cfg) {
  const YAML::Node node = r.node["ldap"];
  if (!node.IsMap()) {
    r.errors.add(node, r.key_name("ldap"), "must be a map: {url: ldaps://dc1:636, base_dn: ..., filter: ...}");
    return false;
  }
  const ConfigReader l{node, r.key_name("ldap"), r.errors};
  l.only({"url", "bind_dn", "password", "base_dn", "filter", "ttl", "timeout", "start_tls", "ca_file", "attributes",
          "cache_size", "queue"});
  LdapOptions& o = cfg.ldap_options;
  bool ok = true;
  o.url = l.string("url", {}, true);
  if (!o.url.empty() && !o.url.starts_with("ldap://") && !o.url.starts_with("ldaps://")) {
    r.errors.add(node["url"], l.key_name("url"), "must be an ldap:// or ldaps:// URL, e.g. ldaps://dc1.example.com:636");
    ok = false;
  }
  o.bind_dn = l.string("bind_dn");
  o.password = l.string("password");
  if (!o.password.empty()) r.errors.add_secret(o.password);
  if (!o.password.empty() && o.bind_dn.empty()) {
    r.errors.add(node["password"], l.key_name("password"), "needs bind_dn: the DN to bind as with this password");
    ok = false;
  }
  o.base_dn = l.string("base_dn", {}, true);
  const std::string filter = l.string("filter", "(uidNumber={user.uid})");
  if (auto t = LdapFilterTemplate::parse(filter); t) {
    o.filter = std::move(t).value();
  } else {
    r.errors.add(node["filter"] ? node["filter"] : node, l.key_name("filter"), t.error().message);
    ok = false;
  }
  cfg.lookup.ttl = l.duration("ttl", std::chrono::minutes(10));
  o.timeout = l.duration("timeout", std::chrono::seconds(2));
  if (o.timeout.count() <= 0) {
    r.errors.add(node["timeout"], l.key_name("timeout"), "must be more than 0, e.g. 2s");
    ok = false;
  }
  o.start_tls = l.boolean("start_tls", false);
  if (o.start_tls && o.url.starts_with("ldaps://")) {
    r.errors.add(node["start_tls"], l.key_name("start_tls"), "is for ldap:// URLs: ldaps:// is TLS from the start");
    ok = false;
  }
  if (l.has("ca_file")) {
    o.ca_file = l.path("ca_file");
    if (!o.ca_file.empty()) r.errors.note_loaded_file(o.ca_file, file_digest(o.ca_file));
  }
  cfg.lookup.max_entries = static_cast<std::size_t>(l.integer("cache_size", 100'000, 1, 10'000'000));
  cfg.lookup.queue = static_cast<std::size_t>(l.integer("queue", 1024, 1, 1'000'000));
  o.attributes = default_ldap_attributes();
  if (l.has("attributes")) {
    const YAML::Node m = node["attributes"];
    if (!m.IsMap()) {
      r.errors.add(m, l.key_name("attributes"), "must be a map, e.g. {full_name: displayName, role: [title, employeeType]}");
      return false;
    }
    for (auto it = m.begin(); it != m.end(); ++it) {
      const std::string key = it->first.as<std::string>();
      const auto* at = std::find(std::begin(kUserAttributes), std::end(kUserAttributes), key);
      if (at == std::end(kUserAttributes)) {
        r.errors.add(it->first, l.key_name("attributes"),
                     fmt::format("unknown attribute \"{}\": the stage adds full_name, role, department and email", key));
        ok = false;
        continue;
      }
      std::vector<std::string> names;
      if (it->second.IsScalar()) {
        names.push_back(it->second.Scalar());
      } else if (it->second.IsSequence()) {
        for (const auto& n : it->second) names.push_back(n.IsScalar() ? n.Scalar() : std::string());
      }
      if (names.empty() || std::ranges::any_of(names, [](const std::string& n) {
            return n.empty() || n.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-;.") !=
                                    std::string::npos;
          })) {
        r.errors.add(it->second, l.key_name("attributes"),
                     fmt::format("{}: must be an LDAP attribute name or a list of them, e.g. [displayName, cn]", key));
        ok = false;
        continue;
      }
      o.attributes[static_cast<std::size_t>(at - std::begin(kUserAttributes))] = std::move(names);
    }
  }
  cfg.ldap = true;
  return ok && !o.url.empty() && !o.base_dn.empty();
}

}  // namespace

StageBuilder parse_users_stage(const ConfigReader& r, StageFields& fields) {
  if (!r.node.IsMap()) {
    r.errors.add(r.node, r.ctx, "must be a map: {path: users.csv} or {ldap: {url: ..., base_dn: ..., filter: ...}}");
    return nullptr;
  }
  r.only({"path", "format", "key", "ldap"});
  auto cfg = std::make_shared<UsersConfig>();
  if (r.has("ldap") == r.has("path")) {
    r.errors.add(r.node, r.ctx, "needs either path (a CSV or JSON file) or ldap (a directory), not both");
    return nullptr;
  }
  if (r.has("ldap")) {
    for (const char* k : {"format", "key"}) {
      if (r.has(k)) r.errors.add(r.node[k], r.key_name(k), "is for a file (path:); the LDAP filter names the alert fields");
    }
    if (!parse_ldap(r, *cfg)) return nullptr;
  } else {
    cfg->path = r.path("path", {}, true);
    if (cfg->path.empty()) return nullptr;
    UserTable::Format format = UserTable::Format::Auto;
    if (r.has("format")) {
      const std::string f = r.string("format");
      if (f == "csv") format = UserTable::Format::Csv;
      else if (f == "json") format = UserTable::Format::Json;
      else {
        r.errors.add(r.node["format"], r.key_name("format"), "must be csv or json (default: by the file's extension)");
        return nullptr;
      }
    }
    const std::string key = r.string("key", "uid");
    if (key == "uid") cfg->key = UsersConfig::Key::Uid;
    else if (key == "name") cfg->key = UsersConfig::Key::Name;
    else {
      r.errors.add(r.node["key"], r.key_name("key"), "must be uid (the alert's user.uid) or name (its user.name)");
      return nullptr;
    }
    auto table = UserTable::load(cfg->path, format);
    if (!table) {
      r.errors.add(r.node["path"], r.key_name("path"), table.error().message);
      return nullptr;
    }
    cfg->table = std::move(table).value();
    r.errors.note_loaded_file(cfg->path, file_digest(cfg->path));  // a reload sees a changed file
    spdlog::debug("users: {} entries from {}", cfg->table->size(), cfg->path);
  }
  for (std::size_t i = 0; i < kUserAttributeCount; ++i) fields.add(user_field_name(i));
  return [cfg](StageContext& ctx) { return std::unique_ptr<Stage>(std::make_unique<UsersStage>(cfg, ctx)); };
}

}  // namespace saker
