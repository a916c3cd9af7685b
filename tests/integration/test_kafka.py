"""The kafka sink end to end: saker (http in, kafka out) against librdkafka's mock cluster, run by the kafka_mock
tool (tests/tools/kafka_mock.cpp), which prints every message it receives and takes brokers down on command."""
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from harness import BINARY, Daemon, free_port, metric, post_json, sample_alerts, wait_for

KAFKA_MOCK = os.environ.get("SAKER_KAFKA_MOCK", os.path.join(os.path.dirname(BINARY), "kafka_mock"))
TOPIC = "falco"


class KafkaMock:
    """One kafka_mock process: a 3-broker cluster with one 6-partition topic."""

    def __init__(self, workdir):
        if not os.access(KAFKA_MOCK, os.X_OK):
            raise AssertionError(f"no kafka_mock at {KAFKA_MOCK}: build the kafka_mock target (or set SAKER_KAFKA_MOCK)")
        self.stderr = open(os.path.join(workdir, "kafka_mock.log"), "ab")
        self.proc = subprocess.Popen([KAFKA_MOCK, "--brokers", "3", "--partitions", "6", "--topic", TOPIC],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True, bufsize=1)
        self.lock = threading.Lock()
        self.received = []
        self.acks = queue.Queue()
        self.ready = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        try:
            self.bootstrap = self.ready.get(timeout=15)
        except queue.Empty:
            raise AssertionError("kafka_mock did not print its bootstrap string")

    def _read(self):
        for line in self.proc.stdout:
            ev = json.loads(line)
            if ev["event"] == "message":
                with self.lock:
                    self.received.append(ev)
            elif ev["event"] == "ready":
                self.ready.put(ev["bootstrap"])
            else:
                self.acks.put(ev)

    def command(self, cmd):
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        ev = self.acks.get(timeout=10)
        if ev["event"] != "ok":
            raise AssertionError(f"kafka_mock: {cmd}: {ev}")

    def messages(self):
        with self.lock:
            return list(self.received)

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


def kafka_config(workdir, http_port, bootstrap, extra=""):
    return f"""
data_dir: {workdir}/data
sources:
  - {{type: http, listen: "127.0.0.1:{http_port}"}}
sinks:
  - name: kafka
    type: kafka
    brokers: "{bootstrap}"
    topic: {TOPIC}
    headers: {{env: integration}}
    flush_timeout: 2s
{extra}"""


def alert(i, host):
    return json.dumps({"rule": f"Rule {i % 5}", "priority": "Warning", "hostname": host, "uuid": f"00000000-0000-4000-8000-{i:012d}",
                       "output": f"alert {i}", "output_fields": {"proc.name": "bash", "seq": i}})


class KafkaSinkTest(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="saker-kafka-")
        self.mock = KafkaMock(self.workdir)
        self.http_port = free_port()
        self.d = Daemon(kafka_config(self.workdir, self.http_port, self.mock.bootstrap), workdir=self.workdir)

    def start(self, extra=""):
        self.d.write_config(kafka_config(self.workdir, self.http_port, self.mock.bootstrap, extra))
        self.d.start(wait_port=self.http_port)

    def tearDown(self):
        self.d.stop()
        self.mock.stop()
        self.d.cleanup()

    def wait_messages(self, n, timeout=30):
        return wait_for(lambda: len(self.mock.messages()) >= n and self.mock.messages(), timeout, f"{n} kafka messages")

    def test_kafka_every_alert_arrives_with_key_and_headers(self):
        self.start()
        samples = sample_alerts()
        for name, text in samples:
            status, _, body = post_json(self.http_port, text)
            self.assertEqual(status, 200, f"{name}: {body!r}")
        got = self.wait_messages(len(samples))
        time.sleep(0.5)
        got = self.mock.messages()
        self.assertEqual(len(got), len(samples))
        sent = {(json.loads(t)["rule"], json.loads(t).get("time")) for _, t in samples}
        seen = set()
        for m in got:
            doc = json.loads(m["value"])
            seen.add((doc["rule"], doc.get("time")))
            self.assertEqual(m["topic"], TOPIC)
            host = doc.get("hostname") or None  # an alert without a hostname has no key
            self.assertEqual(m["key"], host, doc)
            h = m["headers"]
            self.assertEqual(h["uuid"], doc["uuid"])
            self.assertEqual(h["rule"], doc["rule"])
            self.assertEqual(h["priority"].lower(), doc["priority"].lower())
            self.assertEqual(h["env"], "integration")
        self.assertEqual(seen, sent)
        wait_for(lambda: metric(self.http_port, "saker_kafka_delivered_total", {"sink": "kafka"}) == len(samples), 5,
                 "delivered counter")

    def post_with_outage(self, n, down_at, up_at, outage_s):
        """Posts n alerts in chunks of 20 over 8 hosts; broker 1 goes down before alert down_at and comes back
        outage_s later, before alert up_at. Returns the uuids sent, by host, in order.
        The mock picks partition leaders at random, so broker 1 is first made the leader of every partition: the
        outage then stalls every host's alerts, whichever partitions their keys hash to."""
        for p in range(6):
            self.mock.command(f"leader {TOPIC} {p} 1")
        hosts = [f"node-{h}" for h in range(8)]  # spread over the partitions
        sent_by_host = {h: [] for h in hosts}
        for start in range(0, n, 20):
            if start == down_at:
                self.mock.command("down 1")
            if start == up_at:
                time.sleep(outage_s)
                self.mock.command("up 1")
            lines = []
            for i in range(start, start + 20):
                host = hosts[i % len(hosts)]
                lines.append(alert(i, host))
                sent_by_host[host].append(f"00000000-0000-4000-8000-{i:012d}")
            self.assertEqual(post_json(self.http_port, "\n".join(lines))[0], 200)
            time.sleep(0.05)
        return sent_by_host

    def received_after(self, sent, what):
        """Waits until every sent uuid arrived; returns the messages and prints the duplicates."""
        wait_for(lambda: sent <= {m["headers"]["uuid"] for m in self.mock.messages()}, 60, what)
        time.sleep(1)
        got = self.mock.messages()
        uuids = [m["headers"]["uuid"] for m in got]
        duplicates = len(uuids) - len(set(uuids))
        print(f"\n{what}: sent {len(sent)}, received {len(uuids)}, duplicates {duplicates}", file=sys.stderr)
        self.assertEqual(set(uuids), sent, "nothing lost, nothing foreign")
        return got

    def test_kafka_broker_down_mid_stream_loses_nothing(self):
        self.start()
        sent_by_host = self.post_with_outage(300, 60, 200, 3)  # long enough for a write to time out and be retried
        sent = {u for us in sent_by_host.values() for u in us}
        got = self.received_after(sent, "every alert after the broker came back")
        hosts = list(sent_by_host)
        # One host's alerts share a key, hence a partition, and arrive in the order they were sent.
        for host, expected in sent_by_host.items():
            order = []
            for m in sorted((m for m in got if m["key"] == host), key=lambda m: m["offset"]):
                if m["headers"]["uuid"] not in order:
                    order.append(m["headers"]["uuid"])
            self.assertEqual(order, expected, f"order of {host}")
        self.assertEqual(len({m["partition"] for m in got if m["key"] == hosts[0]}), 1)
        # The outage was noticed (a write timed out waiting for delivery reports) and retried, not skipped.
        self.assertGreaterEqual(metric(self.http_port, "saker_sink_failed_total", {"sink": "kafka"}), 1)
        self.assertGreaterEqual(metric(self.http_port, "saker_kafka_delivered_total", {"sink": "kafka"}), len(sent))
        self.assertEqual(metric(self.http_port, "saker_sink_dead_letters_total", {"sink": "kafka"}), 0)

    def test_kafka_outage_longer_than_message_timeout_loses_nothing(self):
        # librdkafka gives up on its queued messages after 1.5 s; saker produces them again until the broker is back.
        self.start("    librdkafka: {message.timeout.ms: 1500}\n")
        sent_by_host = self.post_with_outage(200, 40, 120, 5)
        sent = {u for us in sent_by_host.values() for u in us}
        self.received_after(sent, "every alert after an outage longer than message.timeout.ms")
        self.assertGreaterEqual(metric(self.http_port, "saker_kafka_errors_total", {"sink": "kafka", "reason": "msg_timed_out"}), 1)
        self.assertGreaterEqual(metric(self.http_port, "saker_kafka_retried_total", {"sink": "kafka"}), 1)
        self.assertEqual(metric(self.http_port, "saker_sink_dead_letters_total", {"sink": "kafka"}), 0)

    def test_kafka_check_names_refused_passthrough(self):
        path = os.path.join(self.workdir, "bad.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write("sources: []\nsinks:\n  - {name: k, type: kafka, brokers: [a:9092], topic: t,"
                    " librdkafka: {acks: '1', no.such.property: x}}\n")
        r = subprocess.run([BINARY, "check", "-c", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("sinks[0].librdkafka.acks: not allowed here", r.stderr)


if __name__ == "__main__":
    unittest.main()
