#pragma once
#include <string>
#include <string_view>

#include "format/formatter.hpp"

namespace saker {

// `cef`: ArcSight Common Event Format, one line per alert:
//   CEF:0|Falcosecurity|Falco|<saker version>|<rule>|<rule>|<severity 0-10>|rt=... dvchost=... cs1=... ...
// Well-known fields go to CEF dictionary keys and cs1..cs6; every other field follows under its own name, and the
// fields stages added under custom keys (sakerEnv, sakerThreatTechniqueId, ...).
// Escaping is exactly CEF's; mapping and severity table: docs/formats/cef.md.
class CefFormatter final : public Formatter {
 public:
  void format(const Alert& alert, std::string& out) const override;
};

// CEF severity (0-10) of a Falco priority.
int cef_severity(Priority p) noexcept;

// CEF escaping, also used by tests: a header field (`\` and `|`) and an extension value (`\`, `=`, CR, LF).
// Other control characters, which CEF cannot carry, become U+FFFD; so do CR/LF in a header.
void append_cef_header(std::string& out, std::string_view s);
void append_cef_value(std::string& out, std::string_view s);

}  // namespace saker
