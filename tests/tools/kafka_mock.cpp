// A Kafka mock cluster for integration tests: librdkafka's mock lives inside the process that creates it, so this
// small program owns one, prints its bootstrap string, prints every message produced to it as a JSON line and
// takes commands on stdin to take brokers down and up mid-stream.
//
//   kafka_mock [--brokers 3] [--partitions 6] [--topic falco]...
//   stdout: {"event":"ready","bootstrap":"127.0.0.1:40001,..."}
//           {"event":"message","topic":"falco","partition":2,"offset":0,"key":"node-1","headers":{"uuid":"..."},"value":"..."}
//           {"event":"ok","command":"down 1"}
//   stdin:  down <broker> | up <broker> | leader <topic> <partition> <broker> | rtt <broker> <ms> | quit
// rdkafka_mock.h needs rdkafka.h first.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/json_text.hpp"

namespace {

std::mutex out_mu;

void emit(const std::string& line) {
  std::lock_guard lock(out_mu);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void emit_event(const char* event, const char* field, const std::string& value) {
  std::string line = std::string("{\"event\":\"") + event + "\",\"" + field + "\":";
  saker::append_json_string(line, value);
  emit(line + "}");
}

void emit_message(RdKafka::Message& m) {
  std::string line = "{\"event\":\"message\",\"topic\":";
  saker::append_json_string(line, m.topic_name());
  line += ",\"partition\":" + std::to_string(m.partition()) + ",\"offset\":" + std::to_string(m.offset()) + ",\"key\":";
  if (m.key()) {
    saker::append_json_string(line, *m.key());
  } else {
    line += "null";
  }
  line += ",\"headers\":{";
  if (RdKafka::Headers* h = m.headers()) {
    bool first = true;
    for (const auto& hd : h->get_all()) {
      if (!first) line += ',';
      first = false;
      saker::append_json_string(line, hd.key());
      line += ':';
      saker::append_json_string(line, std::string(hd.value_string() ? hd.value_string() : "", hd.value_size()));
    }
  }
  line += "},\"value\":";
  saker::append_json_string(line, std::string(static_cast<const char*>(m.payload()), m.len()));
  emit(line + "}");
}

// Reads every partition from the beginning; assign() rather than a group subscription avoids the mock's join delay.
void consume_all(const std::string& bootstrap, const std::vector<std::string>& topics, int partitions,
                 const std::atomic<bool>& stop) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap, err);
  conf->set("group.id", "kafka-mock-printer", err);
  conf->set("enable.auto.commit", "false", err);
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!c) {
    emit_event("error", "message", "consumer: " + err);
    return;
  }
  std::vector<RdKafka::TopicPartition*> parts;
  for (const auto& t : topics) {
    for (int p = 0; p < partitions; ++p) parts.push_back(RdKafka::TopicPartition::create(t, p, RdKafka::Topic::OFFSET_BEGINNING));
  }
  c->assign(parts);
  RdKafka::TopicPartition::destroy(parts);
  while (!stop.load()) {
    std::unique_ptr<RdKafka::Message> m(c->consume(100));
    if (m->err() == RdKafka::ERR_NO_ERROR) emit_message(*m);
  }
  c->close();
}

}  // namespace

int main(int argc, char** argv) {
  int brokers = 3;
  int partitions = 6;
  std::vector<std::string> topics;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--brokers") brokers = std::stoi(argv[i + 1]);
    else if (flag == "--partitions") partitions = std::stoi(argv[i + 1]);
    else if (flag == "--topic") topics.emplace_back(argv[i + 1]);
    else {
      std::cerr << "usage: kafka_mock [--brokers N] [--partitions N] [--topic NAME]...\n";
      return 2;
    }
  }
  if (topics.empty()) topics.emplace_back("falco");

  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("test.mock.num.brokers", std::to_string(brokers), err);
  // The mock cluster belongs to this producer: it lives as long as the program.
  std::unique_ptr<RdKafka::Producer> owner(RdKafka::Producer::create(conf.get(), err));
  if (!owner) {
    std::cerr << "kafka_mock: " << err << "\n";
    return 1;
  }
  rd_kafka_mock_cluster_t* mc = rd_kafka_handle_mock_cluster(owner->c_ptr());
  const std::string bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
  for (const auto& t : topics) rd_kafka_mock_topic_create(mc, t.c_str(), partitions, std::min(brokers, 3));

  std::atomic<bool> stop{false};
  std::thread consumer([&] { consume_all(bootstrap, topics, partitions, stop); });
  emit_event("ready", "bootstrap", bootstrap);

  for (std::string line; std::getline(std::cin, line);) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    rd_kafka_resp_err_t r = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (cmd == "quit") {
      break;
    } else if (cmd == "down" || cmd == "up") {
      int id = 0;
      in >> id;
      r = cmd == "down" ? rd_kafka_mock_broker_set_down(mc, id) : rd_kafka_mock_broker_set_up(mc, id);
    } else if (cmd == "leader") {
      std::string topic;
      int partition = 0, id = 0;
      in >> topic >> partition >> id;
      r = rd_kafka_mock_partition_set_leader(mc, topic.c_str(), partition, id);
    } else if (cmd == "rtt") {
      int id = 0, ms = 0;
      in >> id >> ms;
      r = rd_kafka_mock_broker_set_rtt(mc, id, ms);
    } else if (!cmd.empty()) {
      emit_event("error", "message", "unknown command: " + line);
      continue;
    } else {
      continue;
    }
    if (r != RD_KAFKA_RESP_ERR_NO_ERROR) {
      emit_event("error", "message", line + ": " + rd_kafka_err2str(r));
    } else {
      emit_event("ok", "command", line);
    }
  }
  stop.store(true);
  consumer.join();
  return 0;
}
