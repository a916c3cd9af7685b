#pragma once
// The rules Elastic's Falco ingest pipeline applies to single values, for the `ecs` format: the syscall and
// category tables, the severity scale, the MITRE tag patterns, and Java's split semantics.
#include <string>
#include <string_view>

#include "core/priority.hpp"

namespace saker::ecs_rules {

// ECS event.type of a syscall (evt.type): the pipeline's table; "info" for anything else.
std::string_view event_type(std::string_view syscall);
// ECS event.category of a Falco event category (evt.category); "process" for anything else.
std::string_view event_category(std::string_view category);
// ECS event.severity of a priority, on Elastic's 21/47/73/99 scale.
int severity(Priority p);
// The first match of the pipeline's /T\d{4}/ (sub = false) or /T\d{4}.\d{3}/ (sub = true) in a tag, or "".
std::string_view mitre_match(std::string_view tag, bool sub);
// Appends the JSON strings (comma-separated, no brackets) of `text` split like the pipeline: on each space
// (Painless splitOnToken, keeping empty pieces) or on runs of whitespace (Java split("\\s+")).
void append_split(std::string& out, std::string_view text, bool java_whitespace);

}  // namespace saker::ecs_rules
