#include "format/indicators.hpp"

#include <simdjson.h>

namespace saker {

bool for_each_indicator(const Alert& a, const std::function<void(const IndicatorMatch&)>& fn) {
  const Field* f = a.has_fields_added() ? a.find_added(kIndicatorsField) : nullptr;
  if (!f || f->value.kind != Value::Kind::Array || f->value.text.empty()) return false;
  thread_local simdjson::dom::parser parser;
  simdjson::dom::array list;
  if (parser.parse(f->value.text.data(), f->value.text.size()).get(list)) return false;
  bool any = false;
  for (simdjson::dom::element e : list) {
    IndicatorMatch m;
    if (e["type"].get(m.type) || e["value"].get(m.value) || e["field"].get(m.field)) continue;
    if (e["feed"].get(m.feed)) m.feed = {};
    any = true;
    fn(m);
  }
  return any;
}

}  // namespace saker
