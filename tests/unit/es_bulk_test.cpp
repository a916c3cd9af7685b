// Elasticsearch _bulk: index names from the alert's time, the exact NDJSON body, and reading the answer item by item.
#include <gtest/gtest.h>

#include <fstream>

#include "core/time.hpp"
#include "format/json.hpp"
#include "pipeline/config.hpp"
#include "sinks/elasticsearch/bulk_request.hpp"
#include "sinks/elasticsearch/bulk_response.hpp"
#include "sinks/elasticsearch/config.hpp"
#include "test_util.hpp"

using namespace saker;

namespace {

IndexPattern pattern(std::string_view text) {
  auto p = IndexPattern::parse(text);
  if (!p) throw std::runtime_error(p.error().message);
  return std::move(p).value();
}

std::string config_errors(const std::string& sink_yaml) {
  ConfigErrors errors("test.yaml");
  auto cfg = parse_config("sources: []\nsinks:\n  - " + sink_yaml + "\n", errors);
  return cfg ? std::string() : errors.to_string();
}

}  // namespace

TEST(EsIndexPattern, ExpandsFromTheAlertTimeInUtc) {
  const auto p = pattern("falco-%Y.%m.%d");
  EXPECT_EQ(p.expand(*parse_rfc3339_ns("2024-05-07T18:54:19.341081180Z")), "falco-2024.05.07");
  EXPECT_EQ(p.expand(*parse_rfc3339_ns("2024-12-31T23:59:59.999999999Z")), "falco-2024.12.31");
  EXPECT_EQ(p.expand(*parse_rfc3339_ns("2025-01-01T00:00:00Z")), "falco-2025.01.01");
  // An offset in the alert's time moves it to the UTC day.
  EXPECT_EQ(p.expand(*parse_rfc3339_ns("2024-05-08T01:00:00+02:00")), "falco-2024.05.07");
  EXPECT_EQ(pattern("falco-%Y-%j-%H").expand(*parse_rfc3339_ns("2024-02-01T05:00:00Z")), "falco-2024-032-05");
  EXPECT_EQ(pattern("falco-%G.w%V").expand(*parse_rfc3339_ns("2021-01-03T00:00:00Z")), "falco-2020.w53");
  EXPECT_EQ(pattern("logs-falco-default").expand(0), "logs-falco-default");
  EXPECT_FALSE(pattern("logs-falco-default").has_time_fields());
  EXPECT_EQ(pattern("100%%-falco").expand(0), "100%-falco");
}

TEST(EsIndexPattern, RejectsNamesElasticsearchRefuses) {
  EXPECT_FALSE(IndexPattern::parse("Falco-%Y"));
  EXPECT_FALSE(IndexPattern::parse("falco %Y"));
  EXPECT_FALSE(IndexPattern::parse("falco/%Y"));
  EXPECT_FALSE(IndexPattern::parse("falco,x"));
  EXPECT_FALSE(IndexPattern::parse("_falco"));
  EXPECT_FALSE(IndexPattern::parse("-falco"));
  EXPECT_FALSE(IndexPattern::parse(""));
  auto bad = IndexPattern::parse("falco-%Y.%b");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("unknown field \"%b\""), std::string::npos);
  EXPECT_FALSE(IndexPattern::parse("falco-%"));
}

TEST(EsBulkBuilder, ActionAndSourceLinesWithUuidIdsAndDailyIndices) {
  JsonFormatter json;
  const auto p = pattern("falco-%Y.%m.%d");
  BulkBuilder b(p, EsOpType::index, false, json);
  auto a1 = test::decode_ok(R"({"rule":"r1","priority":"Warning","time":"2024-05-07T18:54:19.341Z","uuid":"u-1"})");
  auto a2 = test::decode_ok(R"({"rule":"r2","priority":"Error","time":"2024-05-08T00:00:01Z","uuid":"u-2"})");
  std::string body;
  b.append(*a1, body);
  b.append(*a2, body);
  EXPECT_EQ(body,
            "{\"index\":{\"_index\":\"falco-2024.05.07\",\"_id\":\"u-1\"}}\n"
            "{\"rule\":\"r1\",\"priority\":\"Warning\",\"time\":\"2024-05-07T18:54:19.341Z\",\"uuid\":\"u-1\"}\n"
            "{\"index\":{\"_index\":\"falco-2024.05.08\",\"_id\":\"u-2\"}}\n"
            "{\"rule\":\"r2\",\"priority\":\"Error\",\"time\":\"2024-05-08T00:00:01Z\",\"uuid\":\"u-2\"}\n");
}

TEST(EsBulkBuilder, CreateActionsAndAddedTimestamp) {
  JsonFormatter json;
  const auto p = pattern("logs-falco-default");
  BulkBuilder b(p, EsOpType::create, true, json);
  auto a = test::decode_ok(R"({"rule":"r","priority":"Notice","time":"2024-05-07T18:54:19.341081180Z","uuid":"x"})");
  std::string body;
  b.append(*a, body);
  EXPECT_EQ(body,
            "{\"create\":{\"_index\":\"logs-falco-default\",\"_id\":\"x\"}}\n"
            "{\"@timestamp\":\"2024-05-07T18:54:19.341Z\",\"rule\":\"r\",\"priority\":\"Notice\","
            "\"time\":\"2024-05-07T18:54:19.341081180Z\",\"uuid\":\"x\"}\n");
}

TEST(EsBulkBuilder, GeneratedUuidBecomesTheId) {
  JsonFormatter json;
  const auto p = pattern("falco");
  BulkBuilder b(p, EsOpType::index, false, json);
  auto a = test::decode_ok(R"({"rule":"r","priority":"Notice","time":"2024-05-07T18:54:19Z","output":"o"})");
  ASSERT_TRUE(a->uuid_generated);
  std::string body;
  b.append(*a, body);
  EXPECT_EQ(body.substr(0, body.find('\n')), "{\"index\":{\"_index\":\"falco\",\"_id\":\"" + std::string(a->uuid) + "\"}}");
}

TEST(EsTimestamp, AddedOnlyToObjectsWithoutOne) {
  std::string doc = "{\"a\":1}";
  add_es_timestamp(doc, 0);
  EXPECT_EQ(doc, "{\"@timestamp\":\"1970-01-01T00:00:00.000Z\",\"a\":1}");
  doc = "{}";
  add_es_timestamp(doc, 0);
  EXPECT_EQ(doc, "{\"@timestamp\":\"1970-01-01T00:00:00.000Z\"}");
  doc = "{\"@timestamp\":\"x\",\"a\":1}";
  add_es_timestamp(doc, 0);
  EXPECT_EQ(doc, "{\"@timestamp\":\"x\",\"a\":1}");
  // The key quoted inside a string value does not count as the key.
  doc = "{\"output\":\"\\\"@timestamp\\\": x\"}";
  add_es_timestamp(doc, 0);
  EXPECT_EQ(doc.rfind("{\"@timestamp\":\"1970", 0), 0u);
  doc = "CEF:0|x";
  add_es_timestamp(doc, 0);
  EXPECT_EQ(doc, "CEF:0|x");
}

TEST(EsBulkResponse, ItemsInOrderWithReasons) {
  const std::string body = R"json({"took":30,"errors":true,"items":[
    {"index":{"_index":"falco-2024.05.07","_id":"a","_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":0,"_primary_term":1,"status":201}},
    {"index":{"_index":"falco-2024.05.07","_id":"b","_version":2,"result":"updated","status":200}},
    {"index":{"_index":"falco-2024.05.07","_id":"c","status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation"}}},
    {"index":{"_index":"falco-2024.05.07","_id":"d","status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [output_fields.fd.sport] of type [long] in document with id 'd'. Preview of field's value: 'http'","caused_by":{"type":"illegal_argument_exception","reason":"For input string: \"http\""}}}},
    {"create":{"_index":"falco-2024.05.07","_id":"e","status":409,"error":{"type":"version_conflict_engine_exception","reason":"[e]: version conflict, document already exists (current version [1])"}}},
    {"index":{"_index":"falco-2024.05.07","_id":"f","status":503,"error":{"type":"unavailable_shards_exception","reason":"primary shard is not active"}}}
  ]})json";
  auto r = parse_bulk_response(body);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->items.size(), 6u);
  EXPECT_TRUE(r->errors);
  const auto& it = r->items;
  EXPECT_EQ(it[0].id, "a");
  EXPECT_EQ(classify_item(it[0], EsOpType::index), EsItemOutcome::created);
  EXPECT_EQ(classify_item(it[1], EsOpType::index), EsItemOutcome::updated);
  EXPECT_EQ(classify_item(it[2], EsOpType::index), EsItemOutcome::retry);
  EXPECT_EQ(classify_item(it[3], EsOpType::index), EsItemOutcome::dead_letter);
  EXPECT_EQ(describe_item_error(it[3]),
            "400 mapper_parsing_exception: failed to parse field [output_fields.fd.sport] of type [long] in document "
            "with id 'd'. Preview of field's value: 'http' (caused by: illegal_argument_exception: For input string: "
            "\"http\")");
  EXPECT_EQ(it[4].action, "create");
  EXPECT_EQ(classify_item(it[4], EsOpType::create), EsItemOutcome::duplicate);
  EXPECT_EQ(classify_item(it[4], EsOpType::index), EsItemOutcome::dead_letter);
  EXPECT_EQ(classify_item(it[5], EsOpType::index), EsItemOutcome::retry);
  EXPECT_EQ(describe_item_error(it[2]), "429 es_rejected_execution_exception: rejected execution of coordinating operation");
}

TEST(EsBulkResponse, MalformedAnswersAreErrors) {
  EXPECT_FALSE(parse_bulk_response("<html>502 Bad Gateway</html>"));
  EXPECT_FALSE(parse_bulk_response(R"({"took":1,"errors":false})"));
  EXPECT_FALSE(parse_bulk_response(R"({"items":[{"index":{"_id":"a"}}]})"));
  EXPECT_FALSE(parse_bulk_response(R"({"items":[{"index":{"status":201},"create":{"status":201}}]})"));
  auto empty = parse_bulk_response(R"({"took":0,"errors":false,"items":[]})");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->items.empty());
}

TEST(EsErrorBody, ReasonFromEitherShape) {
  EXPECT_EQ(parse_es_error(R"({"error":{"root_cause":[{"type":"security_exception","reason":"missing authentication credentials for REST request [/_bulk]"}],"type":"security_exception","reason":"missing authentication credentials for REST request [/_bulk]"},"status":401})"),
            "security_exception: missing authentication credentials for REST request [/_bulk]");
  EXPECT_EQ(parse_es_error(R"({"error":"Content-Type header [text/plain] is not supported","status":406})"),
            "Content-Type header [text/plain] is not supported");
  EXPECT_EQ(parse_es_error("Bad Gateway\n"), "Bad Gateway ");
}

TEST(EsConfig, DefaultsAndErrors) {
  EXPECT_EQ(config_errors("{type: elasticsearch, url: \"http://127.0.0.1:9200\"}"), "");
  EXPECT_EQ(config_errors("{type: elasticsearch, url: [\"http://a:9200\", \"http://b:9200\"], op_type: create, "
                          "index: logs-falco-default, auth: {api_key: abc}, compression: gzip}"),
            "");
  EXPECT_NE(config_errors("{type: elasticsearch}").find("sinks[0].url: is required"), std::string::npos);
  EXPECT_NE(config_errors("{type: elasticsearch, url: \"http://u:p@h:9200\"}").find("credentials"), std::string::npos);
  EXPECT_NE(config_errors("{type: elasticsearch, url: \"ftp://h\"}").find("http or https"), std::string::npos);
  EXPECT_NE(config_errors("{type: elasticsearch, url: \"http://h\", op_type: upsert}").find("op_type"), std::string::npos);
  EXPECT_NE(config_errors("{type: elasticsearch, url: \"http://h\", index: Falco}").find("lowercase"), std::string::npos);
  EXPECT_NE(config_errors("{type: elasticsearch, url: \"http://h\", tls: {verify: false}}").find("use https://"),
            std::string::npos);
  EXPECT_NE(config_errors("{type: elasticsearch, url: \"http://h\", auth: {user: u, password: p, bearer: t}}")
                .find("exactly one"),
            std::string::npos);
  EXPECT_NE(config_errors("{type: elasticsearch, url: \"http://h\", template: {name: t, body_file: /nonexistent.json}}")
                .find("cannot read /nonexistent.json"),
            std::string::npos);
  EXPECT_NE(config_errors("{type: elasticsearch, url: \"http://h\", indx: x}").find("did you mean \"index\""),
            std::string::npos);
}

TEST(EsConfig, PoliciesAreReadAndCheckedAtConfigTimeAndPutBeforeTheTemplate) {
  const std::string dir = ::testing::TempDir();
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
    return dir + "/" + name;
  };
  const std::string ilm = write("ilm.json", R"({"policy":{"phases":{"delete":{"min_age":"30d","actions":{"delete":{}}}}}})");
  const std::string no_policy = write("bad-ilm.json", R"({"phases":{}})");
  const std::string tmpl = write("tmpl.json", R"({"index_patterns":["falco-*"]})");
  EXPECT_EQ(config_errors("{type: elasticsearch, url: \"http://h\", template: {name: t, body_file: " + tmpl +
                          "}, ilm_policy: {name: \"falco 30d\", body_file: " + ilm + "}}"),
            "");
  const std::string err = config_errors("{type: elasticsearch, url: \"http://h\", ism_policy: {name: p, body_file: " +
                                        no_policy + "}}");
  EXPECT_NE(err.find("sinks[0].ism_policy.body_file"), std::string::npos) << err;
  EXPECT_NE(err.find("_plugins/_ism/policies/<name>"), std::string::npos) << err;

  EsSetup s;
  s.kind = EsSetup::Kind::ilm_policy;
  s.name = "falco 30d";
  EXPECT_EQ(s.path(), "/_ilm/policy/falco%2030d");
  s.kind = EsSetup::Kind::ism_policy;
  EXPECT_EQ(s.path(), "/_plugins/_ism/policies/falco%2030d");
  s.kind = EsSetup::Kind::index_template;
  EXPECT_EQ(s.kind_name(), "index_template");
  EXPECT_EQ(s.path(), "/_index_template/falco%2030d");
}
