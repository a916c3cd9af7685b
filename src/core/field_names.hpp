#pragma once
// Which names can refer to an alert field: the alert's own keys (rule, priority, ...) and Falco's field classes
// (proc.*, fd.*, k8s.*, plugin classes such as ct.* or okta.*). Templates and rules check names against it so a
// typo is a `saker check` error, not a silently empty value.
#include <string>
#include <string_view>
#include <vector>

namespace saker {

// rule, priority, source, hostname, output, uuid, time, tags.
bool is_alert_key(std::string_view name) noexcept;

// `class.field` or `class.field[arg]` where class is one of Falco's field classes (syscall and plugin sources).
bool is_falco_field(std::string_view name) noexcept;

// The Falco field classes, for "did you mean" messages.
const std::vector<std::string_view>& falco_field_classes();

// The closest of `candidates` to `name` by edit distance, or "" when none is close.
std::string closest_name(std::string_view name, const std::vector<std::string_view>& candidates);

}  // namespace saker
