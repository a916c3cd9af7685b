#pragma once
#include "sinks/sink.hpp"

namespace saker {

// `kafka`: one message per alert, acknowledged by librdkafka's delivery reports (docs/sinks/kafka.md).
//   brokers: [kafka-1:9092, kafka-2:9092]   (required; a list or "a:9092,b:9092")
//   topic: falco-alerts                      (required; may use fields: "falco-{priority}")
//   key: "{hostname}"                        one host's alerts stay in one partition, in order ("" for none)
//   acks: all | 1 | 0                        default all
//   idempotence: true                        no duplicates from librdkafka's own retries (needs acks: all)
//   compression: lz4                         none | gzip | snappy | lz4 | zstd
//   headers: {env: prod}                     static headers; saker adds priority, rule and uuid
//   alert_headers: true                      false: no priority/rule/uuid headers
//   librdkafka: {security.protocol: SASL_SSL, ...}   any other librdkafka producer property
//   flush_timeout: 10s                       how long one write waits for delivery reports
SinkBuilder parse_kafka_sink(const ConfigReader& r);

}  // namespace saker
