#pragma once
// Reading `_bulk` answers: {"took":…,"errors":…,"items":[{"index":{"_index":…,"_id":…,"status":201,
// "result":"created"}}, {"create":{…,"status":400,"error":{"type":…,"reason":…,"caused_by":{…}}}}]} —
// one item per action, in request order — and deciding what each item means for delivery.
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "sinks/elasticsearch/bulk_request.hpp"

namespace saker {

struct BulkItemResult {
  std::string action;  // index, create, update, delete
  std::string index;
  std::string id;
  long status = 0;
  std::string result;      // on success: created, updated, noop, …
  std::string error_type;  // on failure: mapper_parsing_exception, es_rejected_execution_exception, …
  std::string reason;      // the server's reason, with its caused_by chain
};

struct BulkResponse {
  bool errors = false;
  std::vector<BulkItemResult> items;
};

Result<BulkResponse> parse_bulk_response(std::string_view body);

// The server's reason in an error answer: {"error":{"type":…,"reason":…},"status":…} (or {"error":"text"});
// otherwise the start of the body.
std::string parse_es_error(std::string_view body);

enum class EsItemOutcome {
  created,      // 201
  updated,      // 200 (index over an existing _id: a re-delivery)
  duplicate,    // 409 version conflict on create: the _id is already there, delivered before
  retry,        // 429, 5xx: try again later
  dead_letter,  // any other 4xx: the document itself is rejected (mapping, parsing, …)
};
EsItemOutcome classify_item(const BulkItemResult& item, EsOpType op);

// "400 mapper_parsing_exception: failed to parse field [x] … (caused by: …)".
std::string describe_item_error(const BulkItemResult& item);

}  // namespace saker
