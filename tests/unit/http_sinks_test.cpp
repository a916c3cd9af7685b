// The HTTP sinks' wire formats (Splunk HEC events, Loki push bodies) and the retry bookkeeping they share.
#include <gtest/gtest.h>

#include "pipeline/config.hpp"
#include "sinks/http_client.hpp"
#include "sinks/loki.hpp"
#include "sinks/splunk_hec.hpp"
#include "test_util.hpp"

using namespace saker;

namespace {

std::string config_errors(const std::string& sink_yaml) {
  ConfigErrors errors("test.yaml");
  auto cfg = parse_config("sources: []\nsinks:\n  - " + sink_yaml + "\n", errors);
  return cfg ? std::string() : errors.to_string();
}

}  // namespace

TEST(HecEvent, EnvelopeWithMillisecondTimeAndTheAlertAsEvent) {
  auto a = test::decode_ok(
      R"({"rule":"r","priority":"Warning","time":"2024-05-07T18:54:19.341081180Z","hostname":"node-1","uuid":"u"})");
  HecEventFields f;
  f.index = "security";
  std::string out;
  append_hec_event(*a, f, a->json(), out);
  EXPECT_EQ(out, "{\"time\":1715108059.341,\"host\":\"node-1\",\"source\":\"falco\",\"sourcetype\":\"falco\","
                 "\"index\":\"security\",\"event\":" + std::string(a->json()) + "}");
  // Host override, no index, and a non-JSON record goes in as a string.
  f = HecEventFields{};
  f.host = "saker-1";
  f.sourcetype = "falco:alert";
  out.clear();
  append_hec_event(*a, f, "CEF:0|Falco", out);
  EXPECT_EQ(out, "{\"time\":1715108059.341,\"host\":\"saker-1\",\"source\":\"falco\",\"sourcetype\":\"falco:alert\","
                 "\"event\":\"CEF:0|Falco\"}");
}

TEST(HecEvent, NoHostWhenTheAlertHasNoneAndWholeSeconds) {
  auto a = test::decode_ok(R"({"rule":"r","priority":"Warning","time":"2024-05-07T18:54:19Z","uuid":"u"})");
  std::string out;
  append_hec_event(*a, HecEventFields{}, "{}", out);
  EXPECT_EQ(out, "{\"time\":1715108059.000,\"source\":\"falco\",\"sourcetype\":\"falco\",\"event\":{}}");
}

TEST(HecAnswer, CodesAndTheInvalidEvent) {
  auto ok = parse_hec_answer(R"({"text":"Success","code":0})");
  EXPECT_EQ(ok.code, 0);
  EXPECT_EQ(ok.text, "Success");
  auto bad = parse_hec_answer(R"({"text":"Invalid data format","code":6,"invalid-event-number":2})");
  EXPECT_EQ(bad.code, 6);
  ASSERT_TRUE(bad.invalid_event);
  EXPECT_EQ(*bad.invalid_event, 2u);
  EXPECT_EQ(parse_hec_answer("<html>").code, -1);
}

TEST(LokiLabels, NamesAndValuesAreSanitized) {
  EXPECT_EQ(sanitize_loki_label_name("k8s.ns.name"), "k8s_ns_name");
  EXPECT_EQ(sanitize_loki_label_name("1st"), "_1st");
  EXPECT_EQ(sanitize_loki_label_name("proc-name"), "proc_name");
  EXPECT_EQ(sanitize_loki_label_value(std::string(3000, 'x')).size(), 2048u);
  std::string multi(2047, 'x');
  multi += "\xc3\xa9";  // "é" straddles the limit: cut before it
  EXPECT_EQ(sanitize_loki_label_value(multi), std::string(2047, 'x'));
}

TEST(LokiPush, OneStreamPerLabelSetSortedByTime) {
  auto a = test::decode_ok(R"({"rule":"Shell","priority":"Warning","time":"2024-05-07T18:00:02Z","hostname":"h1","source":"syscall","uuid":"a","output_fields":{"k8s.ns.name":"prod"}})");
  auto b = test::decode_ok(R"({"rule":"Shell","priority":"Warning","time":"2024-05-07T18:00:01Z","hostname":"h1","source":"syscall","uuid":"b","output_fields":{"k8s.ns.name":"prod"}})");
  auto c = test::decode_ok(R"({"rule":"Read \"x\"","priority":"Error","time":"2024-05-07T18:00:00Z","uuid":"c"})");
  const std::vector<LokiLabel> labels = {{"rule", "rule"}, {"priority", "priority"}, {"hostname", "hostname"},
                                         {"k8s_ns_name", "k8s.ns.name"}};
  const std::vector<std::pair<std::string, std::string>> fixed = {{"job", "falco"}};
  const std::string line_a = "line a", line_b = "line \"b\"", line_c = "{\"c\":1}";
  const std::vector<LokiEntry> entries = {{a.get(), line_a}, {c.get(), line_c}, {b.get(), line_b}};
  EXPECT_EQ(build_loki_push(entries, labels, fixed),
            "{\"streams\":["
            "{\"stream\":{\"hostname\":\"h1\",\"job\":\"falco\",\"k8s_ns_name\":\"prod\",\"priority\":\"Warning\",\"rule\":\"Shell\"},"
            "\"values\":[[\"1715104801000000000\",\"line \\\"b\\\"\"],[\"1715104802000000000\",\"line a\"]]},"
            "{\"stream\":{\"job\":\"falco\",\"priority\":\"Error\",\"rule\":\"Read \\\"x\\\"\"},"
            "\"values\":[[\"1715104800000000000\",\"{\\\"c\\\":1}\"]]}]}");
}

TEST(LokiPush, AnAlertWithoutLabelsGetsJob) {
  auto a = test::decode_ok(R"({"rule":"r","priority":"Notice","time":"2024-05-07T18:00:00Z","uuid":"a"})");
  const std::vector<LokiLabel> labels = {{"hostname", "hostname"}};
  const std::string line = "x";
  const std::vector<LokiEntry> entries = {{a.get(), line}};
  EXPECT_EQ(build_loki_push(entries, labels, {}),
            "{\"streams\":[{\"stream\":{\"job\":\"falco\"},\"values\":[[\"1715104800000000000\",\"x\"]]}]}");
}

TEST(HttpSinkConfig, KeysAndErrors) {
  EXPECT_EQ(config_errors("{type: webhook, url: \"https://h/x\", batch_format: ndjson, headers: {X-A: b}, auth: {bearer: t}}"), "");
  EXPECT_NE(config_errors("{type: webhook, url: \"https://h/x\", method: GET}").find("POST or PUT"), std::string::npos);
  EXPECT_NE(config_errors("{type: webhook, url: \"https://h/x\", batch_format: xml}").find("json_array"), std::string::npos);
  EXPECT_NE(config_errors("{type: webhook, url: \"https://h/x\", auth: {api_key: k}}").find("unknown key"), std::string::npos);
  EXPECT_NE(config_errors("{type: webhook, url: \"https://h/x\", compression: br}").find("none or gzip"), std::string::npos);
  EXPECT_EQ(config_errors("{type: splunk_hec, url: \"https://splunk:8088\", token: abc, index: main}"), "");
  EXPECT_NE(config_errors("{type: splunk_hec, url: \"https://splunk:8088\"}").find("token: is required"), std::string::npos);
  EXPECT_NE(config_errors("{type: splunk_hec, url: \"https://s\", token: t, auth: {bearer: x}}").find("`token`"),
            std::string::npos);
  EXPECT_EQ(config_errors("{type: loki, url: \"http://loki:3100\", labels: {rule: rule, k8s.ns.name: k8s.ns.name}, "
                          "static_labels: {job: falco}, tenant: t1}"),
            "");
  EXPECT_NE(config_errors("{type: loki, url: \"http://l\", labels: {__name__: rule}}").find("reserved"), std::string::npos);
  EXPECT_NE(config_errors("{type: loki, url: \"http://l\", labels: {a.b: rule, a_b: priority}}").find("both the label"),
            std::string::npos);
}

TEST(HttpHelpers, GzipBase64AndUrls) {
  const std::string text(10000, 'a');
  EXPECT_EQ(gunzip(gzip_compress(text)), text);
  EXPECT_LT(gzip_compress(text).size(), 200u);
  EXPECT_EQ(base64_encode("elastic:changeme"), "ZWxhc3RpYzpjaGFuZ2VtZQ==");
  EXPECT_EQ(url_with_path("http://l:3100", "/loki/api/v1/push"), "http://l:3100/loki/api/v1/push");
  EXPECT_EQ(url_with_path("http://l:3100/loki/api/v1/push", "/loki/api/v1/push"), "http://l:3100/loki/api/v1/push");
  EXPECT_EQ(url_encode("a b/ç"), "a%20b%2F%C3%A7");
  EXPECT_EQ(http_status_summary(HttpResponse{400, "entry out of order\nfor stream\n"}), "HTTP 400: entry out of order for stream");
}

TEST(BatchProgress, ARetryOfTheSameBatchKeepsWhatWasSettled) {
  std::vector<AlertPtr> batch = {test::decode_ok(R"({"rule":"a","priority":"Notice"})"),
                                 test::decode_ok(R"({"rule":"b","priority":"Notice"})"),
                                 test::decode_ok(R"({"rule":"c","priority":"Notice"})")};
  BatchProgress p;
  p.begin(batch);
  EXPECT_EQ(p.pending(), (std::vector<std::size_t>{0, 1, 2}));
  p.settle(0);
  p.settle(2);
  p.begin(batch);  // the runner's retry
  EXPECT_EQ(p.pending(), (std::vector<std::size_t>{1}));
  std::vector<AlertPtr> other = {batch[1], batch[0], batch[2]};
  p.begin(other);  // a different batch starts afresh
  EXPECT_EQ(p.pending().size(), 3u);
}

TEST(SendRanges, SplitsBySizeHalvesOn413AndStopsAtRetry) {
  const std::vector<std::size_t> offsets = {0, 10, 20, 30, 40, 50};
  auto ranges = split_by_bytes(offsets, 25);
  ASSERT_EQ(ranges.size(), 3u);
  EXPECT_EQ(ranges[0].begin, 0u);
  EXPECT_EQ(ranges[0].end, 2u);
  EXPECT_EQ(ranges[2].end, 5u);
  EXPECT_EQ(split_by_bytes(offsets, 0).size(), 1u);
  EXPECT_EQ(split_by_bytes(offsets, 5).size(), 5u);  // a record larger than the limit goes alone

  // The server takes at most 2 records and never record 4: the 5 are halved until they fit, 4 is rejected alone.
  std::vector<std::pair<std::size_t, std::size_t>> sent;
  std::vector<std::size_t> rejected;
  auto r = send_ranges(
      {{0, 5}},
      [&](Range rg) {
        if (rg.size() > 2 || (rg.begin <= 4 && rg.end > 4)) return RangeOutcome{RangeOutcome::too_large, {}, {}};
        sent.emplace_back(rg.begin, rg.end);
        return RangeOutcome{};
      },
      [&](std::size_t pos) { rejected.push_back(pos); });
  ASSERT_TRUE(r);
  EXPECT_EQ(sent, (std::vector<std::pair<std::size_t, std::size_t>>{{0, 2}, {2, 3}, {3, 4}}));
  EXPECT_EQ(rejected, std::vector<std::size_t>{4});

  int calls = 0;
  auto stop = send_ranges({{0, 1}, {1, 2}}, [&](Range) {
    ++calls;
    return RangeOutcome{RangeOutcome::retry, make_error("busy", "HTTP 503"), {}};
  }, [](std::size_t) {});
  ASSERT_FALSE(stop);
  EXPECT_EQ(stop.error().message, "HTTP 503");
  EXPECT_EQ(calls, 1);
}
