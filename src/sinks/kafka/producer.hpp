#pragma once
// The kafka sink itself: one librdkafka producer whose delivery reports acknowledge each alert of a batch.
#include <memory>

#include <librdkafka/rdkafkacpp.h>

#include "sinks/kafka/config.hpp"
#include "sinks/sink.hpp"

namespace saker::kafka {

std::unique_ptr<Sink> make_kafka_sink(KafkaSinkConfig cfg, SinkContext& ctx);

// True for errors that retrying the same message cannot fix (too large, invalid, refused by policy): such
// alerts go to the dead-letter file. Everything else is retried, so an outage never loses an alert.
bool is_permanent(RdKafka::ErrorCode err) noexcept;

// "msg_timed_out", "msg_size_too_large": librdkafka's error name in lower case, usable as a metric label.
std::string error_label(RdKafka::ErrorCode err);

}  // namespace saker::kafka
