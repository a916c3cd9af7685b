#include "sinks/elasticsearch/bulk_response.hpp"

#include <simdjson.h>

#include <fmt/format.h>

namespace saker {
namespace {

std::string str(simdjson::dom::element e, const char* key) {
  std::string_view s;
  if (e[key].get(s) != simdjson::SUCCESS) return {};
  return std::string(s);
}

// "type: reason (caused by: type: reason …)", following caused_by a few levels down.
std::string error_text(simdjson::dom::element err) {
  std::string_view text;
  if (err.get(text) == simdjson::SUCCESS) return std::string(text);
  std::string out;
  std::size_t opened = 0;
  simdjson::dom::element cur = err;
  for (int depth = 0; depth < 4; ++depth) {
    const std::string type = str(cur, "type"), reason = str(cur, "reason");
    if (type.empty() && reason.empty()) break;
    if (depth > 0) {
      out += " (caused by: ";
      ++opened;
    }
    out += reason.empty() ? type : (type.empty() ? reason : type + ": " + reason);
    simdjson::dom::element next;
    if (cur["caused_by"].get(next) != simdjson::SUCCESS || !next.is_object()) break;
    cur = next;
  }
  out.append(opened, ')');
  return out;
}

}  // namespace

Result<BulkResponse> parse_bulk_response(std::string_view body) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(body.data(), body.size()).get(doc); err) {
    return make_error("bad_response", fmt::format("the _bulk answer is not JSON ({})", simdjson::error_message(err)));
  }
  simdjson::dom::array items;
  if (doc["items"].get(items) != simdjson::SUCCESS) {
    return make_error("bad_response", "the _bulk answer has no \"items\" array");
  }
  BulkResponse out;
  bool errors = false;
  if (doc["errors"].get(errors) == simdjson::SUCCESS) out.errors = errors;
  for (simdjson::dom::element item : items) {
    simdjson::dom::object obj;
    if (item.get(obj) != simdjson::SUCCESS || obj.size() != 1) {
      return make_error("bad_response", "a _bulk answer item is not {\"<action>\":{…}}");
    }
    BulkItemResult r;
    const auto field = *obj.begin();
    r.action = std::string(field.key);
    simdjson::dom::element v = field.value;
    r.index = str(v, "_index");
    r.id = str(v, "_id");
    std::int64_t status = 0;
    if (v["status"].get(status) != simdjson::SUCCESS) {
      return make_error("bad_response", "a _bulk answer item has no \"status\"");
    }
    r.status = static_cast<long>(status);
    r.result = str(v, "result");
    simdjson::dom::element err;
    if (v["error"].get(err) == simdjson::SUCCESS) {
      r.error_type = err.is_object() ? str(err, "type") : std::string();
      r.reason = error_text(err);
    }
    out.items.push_back(std::move(r));
  }
  return out;
}

std::string parse_es_error(std::string_view body) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc, err;
  if (parser.parse(body.data(), body.size()).get(doc) == simdjson::SUCCESS &&
      doc["error"].get(err) == simdjson::SUCCESS) {
    return error_text(err);
  }
  std::string text(body.substr(0, 300));
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

EsItemOutcome classify_item(const BulkItemResult& item, EsOpType op) {
  if (item.status >= 200 && item.status < 300) {
    return item.status == 201 || item.result == "created" ? EsItemOutcome::created : EsItemOutcome::updated;
  }
  // create with an _id that exists: this alert (same uuid) was indexed by an earlier attempt.
  if (item.status == 409 && op == EsOpType::create) return EsItemOutcome::duplicate;
  if (item.status == 429 || item.status >= 500 || item.status == 408) return EsItemOutcome::retry;
  return EsItemOutcome::dead_letter;
}

std::string describe_item_error(const BulkItemResult& item) {
  if (item.reason.empty()) return fmt::format("{} {}", item.status, item.error_type);
  if (item.error_type.empty() || item.reason.starts_with(item.error_type)) {
    return fmt::format("{} {}", item.status, item.reason);
  }
  return fmt::format("{} {}: {}", item.status, item.error_type, item.reason);
}

}  // namespace saker
