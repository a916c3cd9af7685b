#include "format/json.hpp"

namespace saker {

void JsonFormatter::format(const Alert& alert, std::string& out) const { out.append(alert.json()); }

}  // namespace saker
