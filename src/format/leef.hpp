#pragma once
#include <string>
#include <string_view>

#include "format/formatter.hpp"

namespace saker {

// `leef`: IBM QRadar Log Event Extended Format 2.0, one line per alert:
//   LEEF:2.0|Falcosecurity|Falco|<saker version>|<rule>|0x09|devTime=...<TAB>devTimeFormat=...<TAB>sev=...
// Predefined LEEF keys where one fits (devTime, sev, cat, usrName, src, dst, ...), every other field, and those
// stages added, under its own name. LEEF defines no escape sequences; what cannot be carried is replaced
// (docs/formats/leef.md).
class LeefFormatter final : public Formatter {
 public:
  // `delimiter`: the attribute separator, named in the header by its hex code: a tab, or '^' (the two the LEEF
  // guide uses); anything else means a tab.
  explicit LeefFormatter(char delimiter = '\t');
  void format(const Alert& alert, std::string& out) const override;

 private:
  char delim_;
};

// LEEF sev (1-10) of a Falco priority.
int leef_severity(Priority p) noexcept;

}  // namespace saker
