#pragma once
#include <string>
#include <string_view>

namespace saker {

// A deterministic RFC 9562 version-8 UUID from the alert's identity (rule, time, hostname, output), so a
// re-delivered alert is the same document downstream. Hash: XXH3-128 (stable across xxHash >= 0.8).
std::string alert_uuid(std::string_view rule, std::string_view time, std::string_view hostname,
                       std::string_view output);

}  // namespace saker
