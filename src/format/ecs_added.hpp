#pragma once
// Where the `ecs` format puts the fields stages added: ECS's own threat fields (the mitre stage's lists), labels for
// every other field (docs/formats/ecs.md, "Added fields").
#include <string>
#include <string_view>
#include <vector>

#include "core/alert.hpp"

namespace saker::ecs_added {

// The added fields that are ECS fields themselves.
inline constexpr std::string_view kThreatFields[] = {"threat.tactic.id", "threat.tactic.name", "threat.technique.id",
                                                     "threat.technique.subtechnique.id"};

// The ECS field an added field fills itself, or "": the geoip stage's fields of the endpoints the format maps
// (fd.cip, fd.sip, fd.lip, fd.rip: client, server, source, destination), e.g. fd.sip.geo.city_name ->
// server.geo.city_name, fd.rip.as.organization -> destination.as.organization.name.
std::string_view ecs_path(std::string_view name);
// The users stage's user.full_name and user.email fill the same ECS fields; user.role fills user.roles, an array:
// ecs_path() gives kEcsArrayPath for it, and a string there is written as a list of one.
inline constexpr std::string_view kEcsArrayPath = "user.roles";

// The threat_intel stage's matches (its threat.indicators list) as ECS's threat.enrichments array, appended to
// `out`: [{"indicator": {"type", "provider", "ip" | "url": {"domain"} | "file": {"hash": {...}} | "description"},
// "matched": {"field", "atomic", "type": "indicator_match_rule"}}]. False (and nothing appended) when there is none.
bool append_threat_enrichments(std::string& out, const Alert& a);

// True when `f` fills its ECS threat field: one of kThreatFields holding a non-empty string or a list of strings.
bool is_threat_field(const Field& f);

// Appends to `ids` the values of threat field `path`: for the technique ids, the first tag the pipeline's pattern
// matches; then the added field's, each id once. Returns true when the added field gave one.
bool threat_ids(const Alert& a, std::string_view path, std::vector<std::string_view>& ids);

// True when some added field is a label: not null and not a threat field.
bool has_labels(const Alert& a);

// Appends the `labels` object: ECS labels are flat keyword key/values, so '.' in a name becomes '_', numbers and
// booleans are strings, a list of strings stays a list, other lists and objects are their JSON text. Of two names
// that give the same key ("a.b", "a_b"), the first one's value is kept.
void append_labels(std::string& out, const Alert& a);

}  // namespace saker::ecs_added
