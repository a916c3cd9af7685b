// The kafka sink against librdkafka's in-process mock cluster: what arrives (topic, key, headers, value), which
// errors are retried and which dead-letter an alert, and what the config accepts.
#include <gtest/gtest.h>

// rdkafka_mock.h needs rdkafka.h first.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <librdkafka/rdkafkacpp.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sinks/kafka.hpp"
#include "sinks/kafka/producer.hpp"
#include "test_util.hpp"

using namespace saker;
using namespace std::chrono_literals;

namespace {

constexpr int kProduceApi = 0;  // Kafka ApiKey of Produce (not in librdkafka's public headers)

// The mock belongs to the producer that creates it: `owner` must outlive every client of the cluster.
struct MockCluster {
  std::unique_ptr<RdKafka::Producer> owner;
  rd_kafka_mock_cluster_t* mc = nullptr;
  std::string bootstraps;

  MockCluster() {
    std::string err;
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    conf->set("test.mock.num.brokers", "3", err);
    conf->set("log_level", "0", err);
    owner.reset(RdKafka::Producer::create(conf.get(), err));
    mc = rd_kafka_handle_mock_cluster(owner->c_ptr());
    bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
    rd_kafka_mock_topic_create(mc, "alerts", 3, 3);
  }
  void all_brokers(bool up) {
    for (int id = 1; id <= 3; ++id) up ? rd_kafka_mock_broker_set_up(mc, id) : rd_kafka_mock_broker_set_down(mc, id);
  }
};

struct Received {
  std::string topic;
  std::string key;
  bool has_key = false;
  std::map<std::string, std::string> headers;
  std::string value;
};

// Reads every partition of `topic` from the start until `n` messages arrived (and a little longer, to see
// duplicates) or the timeout passed. assign() rather than subscribe(): no consumer-group join delay.
std::vector<Received> consume(const std::string& bootstraps, const std::string& topic, int partitions, std::size_t n,
                              std::chrono::milliseconds timeout = 10s) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstraps, err);
  conf->set("group.id", "kafka-sink-test", err);
  conf->set("enable.auto.commit", "false", err);
  conf->set("log_level", "0", err);
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  std::vector<RdKafka::TopicPartition*> parts;
  for (int p = 0; p < partitions; ++p) parts.push_back(RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_BEGINNING));
  c->assign(parts);
  RdKafka::TopicPartition::destroy(parts);
  std::vector<Received> out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool extra = false;
  while (std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(c->consume(100));
    if (m->err() == RdKafka::ERR_NO_ERROR) {
      Received r;
      r.topic = m->topic_name();
      r.has_key = m->key() != nullptr;
      if (m->key()) r.key = *m->key();
      r.value.assign(static_cast<const char*>(m->payload()), m->len());
      if (RdKafka::Headers* h = m->headers()) {
        for (const auto& hd : h->get_all()) r.headers[hd.key()] = std::string(hd.value_string(), hd.value_size());
      }
      out.push_back(std::move(r));
    }
    if (out.size() >= n && !extra) {
      extra = true;
      deadline = std::min(deadline, std::chrono::steady_clock::now() + 300ms);
    }
  }
  c->close();
  return out;
}

AlertPtr alert(const std::string& rule, const std::string& host, const std::string& uuid, const std::string& proc = "bash",
               const std::string& output = "o") {
  return test::decode_ok(R"({"rule":")" + rule + R"(","priority":"Warning","hostname":")" + host + R"(","uuid":")" + uuid +
                         R"(","output":")" + output + R"(","output_fields":{"proc.name":")" + proc + R"("}})");
}

class KafkaSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("saker-kafka-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    dead_ = std::make_unique<DeadLetterFile>(dir_.string(), "k", metrics_);
    ctx_ = std::make_unique<SinkContext>(SinkContext{"k", metrics_, dir_.string(), make_formatter("json").value(), *dead_});
  }
  void TearDown() override {
    sink_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A sink for the mock cluster; `extra` adds or replaces keys of the sink's config (a YAML flow map's body).
  Sink& make(const std::string& extra = "") {
    YAML::Node node = YAML::Load("{type: kafka, brokers: \"" + mock_.bootstraps + "\", topic: alerts, flush_timeout: 3s}");
    for (const auto& kv : YAML::Load("{" + extra + "}")) node[kv.first.Scalar()] = kv.second;
    ConfigErrors errors;
    auto build = parse_kafka_sink(ConfigReader{node, "sinks[0]", errors});
    EXPECT_TRUE(errors.empty()) << errors.to_string();
    SinkContext ctx = *ctx_;  // like the runner's, the context dies right after the build
    sink_ = build(ctx);
    EXPECT_TRUE(sink_->open());
    return *sink_;
  }
  // The first write connects and gets a producer id, which can outlast a short flush_timeout on a busy machine:
  // the sink reports it as a retriable error and the runner would simply write again, as this does.
  static Result<bool> warm_up(Sink& s) {
    const std::vector<AlertPtr> warm = {alert("warm", "h", "u-0")};
    Result<bool> w = s.write(warm);
    for (int i = 0; i < 20 && !w; ++i) w = s.write(warm);
    return w;
  }
  std::uint64_t counter(const std::string& name, const Labels& extra = {}) {
    Labels labels = {{"sink", "k"}};
    labels.insert(labels.end(), extra.begin(), extra.end());
    return metrics_.counter_value(name, labels);
  }
  std::vector<std::string> dead_lines() {
    std::vector<std::string> out;
    std::istringstream in(test::read_file(dead_->path()));
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  MockCluster mock_;
  Metrics metrics_;
  std::filesystem::path dir_;
  std::unique_ptr<DeadLetterFile> dead_;
  std::unique_ptr<SinkContext> ctx_;
  std::unique_ptr<Sink> sink_;
};

std::string config_errors(const std::string& yaml) {
  const YAML::Node node = YAML::Load(yaml);
  ConfigErrors errors("t.yaml");
  parse_kafka_sink(ConfigReader{node, "sinks[0]", errors});
  return errors.to_string();
}

// The kafka sink's topic and key are core FieldTemplates that accept any field name.
Result<FieldTemplate> kafka_template(std::string_view text) {
  return FieldTemplate::compile(text, [](std::string_view) { return true; });
}

}  // namespace

TEST(KafkaTemplate, RendersFieldsLiteralsAndEscapes) {
  auto a = alert("Shell in container", "node-1", "u-1", "bash");
  auto t = kafka_template("{hostname}/{proc.name}:{rule}:{priority}:{missing}{{x}}");
  ASSERT_TRUE(t) << t.error().message;
  std::string out;
  t->render(*a, out);
  EXPECT_EQ(out, "node-1/bash:Shell in container:Warning:{x}");
  out.clear();
  auto topic = kafka_template("falco-{rule}");
  topic->render(*a, out, FieldTemplate::Values::NameSafe);
  EXPECT_EQ(out, "falco-Shell_in_container");  // only substituted values are sanitized for topic names
  out.clear();
  kafka_template("a b/{hostname}/{proc.name} x")->render(*a, out, FieldTemplate::Values::NameSafe);
  EXPECT_EQ(out, "a b/node-1/bash x");  // literal text is the user's own and kept as written
  EXPECT_TRUE(kafka_template("plain")->constant());
  EXPECT_FALSE(kafka_template("{uuid}")->constant());
}

TEST(KafkaTemplate, SyntaxErrorsNameTheColumn) {
  auto unclosed = kafka_template("ab{host");
  ASSERT_FALSE(unclosed);
  EXPECT_EQ(unclosed.error().column, 3u);
  EXPECT_FALSE(kafka_template("a{}b"));
  auto nested = kafka_template("a{b{c}");
  ASSERT_FALSE(nested);
  EXPECT_EQ(nested.error().column, 2u);
  auto stray = kafka_template("a}b");
  ASSERT_FALSE(stray);
  EXPECT_EQ(stray.error().column, 2u);
}

TEST(KafkaConfig, TemplateErrorsPointAtTheBrace) {
  // The '{' of "{host" is at column 8 unquoted and at column 9 quoted.
  const std::string plain = config_errors("type: kafka\nbrokers: a:9092\ntopic: t\nkey: ab{host\n");
  EXPECT_NE(plain.find("t.yaml:4:8: sinks[0].key: unclosed '{'"), std::string::npos) << plain;
  const std::string quoted = config_errors("type: kafka\nbrokers: a:9092\ntopic: t\nkey: \"ab{host\"\n");
  EXPECT_NE(quoted.find("t.yaml:4:9: sinks[0].key: unclosed '{'"), std::string::npos) << quoted;
}

TEST(KafkaConfig, RequiredKeysAndRefusedPassthrough) {
  EXPECT_NE(config_errors("{type: kafka}").find("sinks[0].brokers: is required"), std::string::npos);
  EXPECT_NE(config_errors("{type: kafka}").find("sinks[0].topic: is required"), std::string::npos);
  const std::string e = config_errors(R"({type: kafka, brokers: [a:9092], topic: t, acks: 1, compression: brotli,
      headers: {uuid: x}, key: "{host", librdkafka: {enable.idempotence: false, linger.ms: soon}})");
  EXPECT_NE(e.find("sinks[0].acks: idempotence needs acks: all"), std::string::npos) << e;
  EXPECT_NE(e.find("sinks[0].compression: must be none, gzip, snappy, lz4 or zstd"), std::string::npos) << e;
  EXPECT_NE(e.find("sinks[0].headers.uuid: saker sets this header"), std::string::npos) << e;
  EXPECT_NE(e.find("sinks[0].key: unclosed '{'"), std::string::npos) << e;
  EXPECT_NE(e.find("sinks[0].librdkafka.enable.idempotence: not allowed here: set the sink's `idempotence`"),
            std::string::npos) << e;
  // librdkafka itself validates the passthrough once the rest is valid.
  const std::string bad_value = config_errors("{type: kafka, brokers: a:9092, topic: t, librdkafka: {linger.ms: soon}}");
  EXPECT_NE(bad_value.find("sinks[0].librdkafka.linger.ms: "), std::string::npos) << bad_value;
  const std::string unknown = config_errors("{type: kafka, brokers: a:9092, topic: t, librdkafka: {no.such.thing: 1}}");
  EXPECT_NE(unknown.find("No such configuration property"), std::string::npos) << unknown;
  EXPECT_EQ(config_errors(R"({type: kafka, brokers: ["a:9092, b:9092", c:9092], topic: "falco-{priority}", acks: 1,
      idempotence: false, compression: zstd, headers: {env: prod}, flush_timeout: 2s,
      librdkafka: {security.protocol: SASL_SSL, sasl.mechanisms: SCRAM-SHA-512, sasl.username: u, sasl.password: p}})"),
            "");
}

TEST(KafkaConfig, FlushTimeoutIsBoundedAndNeverWraps) {
  // 600h is 2160000000 ms: past INT_MAX, the int librdkafka takes would have wrapped to a negative wait.
  const std::string big = config_errors("type: kafka\nbrokers: a:9092\ntopic: t\nflush_timeout: 600h\n");
  EXPECT_NE(big.find("t.yaml:4:16: sinks[0].flush_timeout: must be between 100ms and 24h, got 600h"),
            std::string::npos) << big;
  const std::string small = config_errors("type: kafka\nbrokers: a:9092\ntopic: t\nflush_timeout: 50ms\n");
  EXPECT_NE(small.find("t.yaml:4:16: sinks[0].flush_timeout: must be between 100ms and 24h, got 50ms"),
            std::string::npos) << small;
  EXPECT_EQ(config_errors("type: kafka\nbrokers: a:9092\ntopic: t\nflush_timeout: 24h\n"), "");
  EXPECT_EQ(config_errors("type: kafka\nbrokers: a:9092\ntopic: t\nflush_timeout: 100ms\n"), "");

  EXPECT_EQ(kafka::timeout_ms(std::chrono::hours(24)), 86'400'000);
  EXPECT_EQ(kafka::timeout_ms(std::chrono::hours(600)), std::numeric_limits<int>::max());
  EXPECT_EQ(kafka::timeout_ms(std::chrono::milliseconds(std::numeric_limits<std::int64_t>::max())),
            std::numeric_limits<int>::max());
  EXPECT_EQ(kafka::timeout_ms(std::chrono::milliseconds(-5)), 0);
  EXPECT_EQ(kafka::timeout_ms(std::chrono::milliseconds(1500)), 1500);
}

TEST(KafkaErrors, PermanentVersusRetriable) {
  EXPECT_TRUE(kafka::is_permanent(RdKafka::ERR_MSG_SIZE_TOO_LARGE));
  EXPECT_TRUE(kafka::is_permanent(RdKafka::ERR_INVALID_MSG));
  EXPECT_FALSE(kafka::is_permanent(RdKafka::ERR__MSG_TIMED_OUT));
  EXPECT_FALSE(kafka::is_permanent(RdKafka::ERR_NOT_ENOUGH_REPLICAS));
  EXPECT_FALSE(kafka::is_permanent(RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED));  // fixable by the operator: retried
  EXPECT_EQ(kafka::error_label(RdKafka::ERR__MSG_TIMED_OUT), "msg_timed_out");
}

TEST_F(KafkaSinkTest, DeliversKeyHeadersAndValue) {
  Sink& s = make("headers: {env: prod, team: soc}");
  std::vector<AlertPtr> batch = {alert("r1", "node-1", "u-1"), alert("r2", "node-2", "u-2"), alert("r3", "node-1", "u-3")};
  ASSERT_TRUE(s.write(batch));
  const auto got = consume(mock_.bootstraps, "alerts", 3, 3);
  ASSERT_EQ(got.size(), 3u);
  std::map<std::string, Received> by_uuid;
  for (const auto& r : got) by_uuid[r.headers.at("uuid")] = r;
  for (const auto& a : batch) {
    const Received& r = by_uuid.at(std::string(a->uuid));
    EXPECT_EQ(r.key, a->hostname);
    EXPECT_EQ(r.value, a->json());
    EXPECT_EQ(r.headers.at("rule"), a->rule);
    EXPECT_EQ(r.headers.at("priority"), "Warning");
    EXPECT_EQ(r.headers.at("env"), "prod");
    EXPECT_EQ(r.headers.at("team"), "soc");
  }
  EXPECT_EQ(counter("saker_kafka_delivered_total"), 3u);
  EXPECT_TRUE(dead_lines().empty());
}

TEST_F(KafkaSinkTest, KeyAndTopicTemplatesUseAlertFields) {
  rd_kafka_mock_topic_create(mock_.mc, "falco-Warning", 1, 3);
  Sink& s = make(R"(topic: "falco-{priority}", key: "{hostname}/{proc.name}", alert_headers: false)");
  ASSERT_TRUE(s.write(std::vector<AlertPtr>{alert("r", "h1", "u-1", "nginx")}));
  const auto got = consume(mock_.bootstraps, "falco-Warning", 1, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].key, "h1/nginx");
  EXPECT_TRUE(got[0].headers.empty());
}

TEST_F(KafkaSinkTest, EmptyKeyTemplateSendsNoKey) {
  Sink& s = make(R"(key: "")");
  ASSERT_TRUE(s.write(std::vector<AlertPtr>{alert("r", "h1", "u-1")}));
  const auto got = consume(mock_.bootstraps, "alerts", 3, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0].has_key);
}

TEST_F(KafkaSinkTest, OneRejectedRequestDoesNotDeadLetterItsNeighbours) {
  Sink& s = make();
  {
    auto w = warm_up(s);
    ASSERT_TRUE(w) << w.error().message;
  }
  // Kafka refuses whole requests: each alert is sent again alone and this time accepted.
  rd_kafka_mock_push_request_errors(mock_.mc, kProduceApi, 1, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
  std::vector<AlertPtr> batch = {alert("r", "h", "u-1"), alert("r", "h", "u-2"), alert("r", "h", "u-3")};
  if (!s.write(batch)) {
    ASSERT_TRUE(s.write(batch)) << "the batch is delivered on retry";
  }
  EXPECT_TRUE(dead_lines().empty());
  EXPECT_EQ(consume(mock_.bootstraps, "alerts", 3, 4).size(), 4u);
  EXPECT_GE(counter("saker_kafka_errors_total", {{"reason", "msg_size_too_large"}}), 1u);
}

TEST_F(KafkaSinkTest, AlertsRefusedAloneGoToTheDeadLetterFile) {
  Sink& s = make();
  {
    auto w = warm_up(s);
    ASSERT_TRUE(w) << w.error().message;
  }
  // One refusal for the shared request, then one for each alert sent alone.
  rd_kafka_mock_push_request_errors(mock_.mc, kProduceApi, 3, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                                    RD_KAFKA_RESP_ERR_INVALID_MSG, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
  std::vector<AlertPtr> batch = {alert("r", "h", "u-1"), alert("r", "h", "u-2")};
  Result<bool> r = s.write(batch);
  for (int i = 0; i < 3 && !r; ++i) r = s.write(batch);
  ASSERT_TRUE(r) << r.error().message;
  const auto dead = dead_lines();
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_NE(dead[0].find("\"reason\":\"kafka: Broker: "), std::string::npos) << dead[0];
  EXPECT_EQ(consume(mock_.bootstraps, "alerts", 3, 1).size(), 1u);  // only the warm-up
}

TEST_F(KafkaSinkTest, MessageLargerThanTheLimitIsDeadLetteredAtOnce) {
  Sink& s = make("librdkafka: {message.max.bytes: 1000}");  // the passthrough reaches the producer
  std::vector<AlertPtr> batch = {alert("big", "h", "u-big", "bash", std::string(2000, 'x')), alert("small", "h", "u-ok")};
  ASSERT_TRUE(s.write(batch));
  const auto dead = dead_lines();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_NE(dead[0].find("u-big"), std::string::npos);
  EXPECT_NE(dead[0].find("MSG_SIZE_TOO_LARGE"), std::string::npos) << dead[0];
  const auto got = consume(mock_.bootstraps, "alerts", 3, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].headers.at("uuid"), "u-ok");
}

TEST_F(KafkaSinkTest, RetriableReportsAreProducedAgainOnTheNextWrite) {
  // Without idempotence and retries librdkafka hands the broker's error straight to the delivery report.
  Sink& s = make("idempotence: false, librdkafka: {retries: 0}");
  {
    auto w = warm_up(s);
    ASSERT_TRUE(w) << w.error().message;
  }
  rd_kafka_mock_push_request_errors(mock_.mc, kProduceApi, 1, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  std::vector<AlertPtr> batch = {alert("r", "h", "u-1"), alert("r", "h", "u-2")};
  auto first = s.write(batch);
  ASSERT_FALSE(first);
  EXPECT_NE(first.error().message.find("NOT_ENOUGH_REPLICAS"), std::string::npos) << first.error().message;
  ASSERT_TRUE(s.write(batch));
  const auto got = consume(mock_.bootstraps, "alerts", 3, 3);
  EXPECT_EQ(got.size(), 3u);
  EXPECT_EQ(counter("saker_kafka_retried_total"), 2u);
  EXPECT_EQ(counter("saker_kafka_errors_total", {{"reason", "not_enough_replicas"}}), 2u);
  EXPECT_TRUE(dead_lines().empty());
}

TEST_F(KafkaSinkTest, OutageLongerThanTheMessageTimeoutLosesNothing) {
  Sink& s = make("flush_timeout: 2s, librdkafka: {message.timeout.ms: 1000}");
  {
    auto w = warm_up(s);
    ASSERT_TRUE(w) << w.error().message;
  }
  mock_.all_brokers(false);
  std::vector<AlertPtr> batch;
  for (int i = 1; i <= 20; ++i) batch.push_back(alert("r", "h" + std::to_string(i % 4), "u-" + std::to_string(i)));
  ASSERT_FALSE(s.write(batch));
  // librdkafka scans for timed-out messages about once a second: keep trying until it gave up on some.
  for (int i = 0; i < 5 && counter("saker_kafka_errors_total", {{"reason", "msg_timed_out"}}) == 0; ++i) {
    EXPECT_FALSE(s.write(batch));
  }
  EXPECT_GE(counter("saker_kafka_errors_total", {{"reason", "msg_timed_out"}}), 1u);
  mock_.all_brokers(true);
  Result<bool> r = s.write(batch);
  for (int i = 0; i < 10 && !r; ++i) r = s.write(batch);
  ASSERT_TRUE(r) << r.error().message;
  std::set<std::string> uuids;
  for (const auto& m : consume(mock_.bootstraps, "alerts", 3, 21)) uuids.insert(m.headers.at("uuid"));
  EXPECT_EQ(uuids.size(), 21u);
  EXPECT_GE(counter("saker_kafka_retried_total"), 1u);
}

TEST_F(KafkaSinkTest, SlowReportsAreAwaitedNotProducedTwice) {
  Sink& s = make("flush_timeout: 300ms");
  const std::vector<AlertPtr> warm = {alert("warm", "h", "u-0")};
  Result<bool> w = s.write(warm);  // connecting and getting a producer id may take longer than 300 ms
  for (int i = 0; i < 20 && !w; ++i) w = s.write(warm);
  ASSERT_TRUE(w) << w.error().message;
  for (int id = 1; id <= 3; ++id) rd_kafka_mock_broker_set_rtt(mock_.mc, id, 1000);
  std::vector<AlertPtr> batch = {alert("r", "h", "u-1"), alert("r", "h2", "u-2")};
  auto first = s.write(batch);
  ASSERT_FALSE(first);
  EXPECT_NE(first.error().message.find("awaiting delivery reports"), std::string::npos) << first.error().message;
  for (int id = 1; id <= 3; ++id) rd_kafka_mock_broker_set_rtt(mock_.mc, id, 0);
  Result<bool> r = s.write(batch);
  for (int i = 0; i < 20 && !r; ++i) r = s.write(batch);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(consume(mock_.bootstraps, "alerts", 3, 3).size(), 3u);  // exactly once each
  EXPECT_EQ(counter("saker_kafka_retried_total"), 0u);
}

TEST_F(KafkaSinkTest, FatalIdempotenceErrorRecreatesTheProducer) {
  Sink& s = make();
  {
    auto w = warm_up(s);
    ASSERT_TRUE(w) << w.error().message;
  }
  // A sequence gap is fatal for the idempotent producer: it refuses every further message.
  rd_kafka_mock_push_request_errors(mock_.mc, kProduceApi, 1, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
  std::vector<AlertPtr> batch = {alert("r", "h", "u-1")};
  Result<bool> r = s.write(batch);
  for (int i = 0; i < 3 && !r; ++i) r = s.write(batch);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(s.write(std::vector<AlertPtr>{alert("r", "h", "u-2")}));
  std::set<std::string> uuids;
  for (const auto& m : consume(mock_.bootstraps, "alerts", 3, 3)) uuids.insert(m.headers.at("uuid"));
  EXPECT_EQ(uuids, (std::set<std::string>{"u-0", "u-1", "u-2"}));
}
