"""The daemon end to end: Falco's http_output and TCP NDJSON in, routed files out, metrics, reload, shutdown."""
import gzip
import json
import os
import signal
import socket
import time
import unittest

from harness import Daemon, free_port, http_request, metric, post_json, read_lines, sample_alerts, wait_for

WARNING_AND_ABOVE = {"Warning", "Error", "Critical", "Alert", "Emergency"}


def config(workdir, http_port, tcp_port, extra_sinks=""):
    return f"""
data_dir: {workdir}/data
sources:
  - {{type: http, listen: "127.0.0.1:{http_port}"}}
  - {{type: tcp, listen: "127.0.0.1:{tcp_port}"}}
sinks:
  - {{name: all, type: file, path: {workdir}/all.ndjson}}
  - {{name: siem, type: file, path: {workdir}/siem.ndjson, format: json, min_priority: warning, filter: 'not proc.name = "sshd"'}}
{extra_sinks}"""


class DaemonTest(unittest.TestCase):
    def setUp(self):
        self.http_port, self.tcp_port = free_port(), free_port()
        self.d = Daemon("")
        self.d.write_config(config(self.d.workdir, self.http_port, self.tcp_port))
        self.d.start(wait_port=self.http_port)
        wait_for(lambda: Daemon._connectable(self.tcp_port), 10, "tcp source")
        self.all = os.path.join(self.d.workdir, "all.ndjson")
        self.siem = os.path.join(self.d.workdir, "siem.ndjson")

    def tearDown(self):
        self.d.cleanup()

    def test_every_sample_alert_posted_by_falco_lands_verbatim(self):
        samples = sample_alerts()
        for name, text in samples:
            status, _, body = post_json(self.http_port, text)
            self.assertEqual(status, 200, f"{name}: {body!r}")
        lines = wait_for(lambda: len(read_lines(self.all)) == len(samples) and read_lines(self.all), 10, "all sink")
        by_rule_time = {}
        for line in lines:
            doc = json.loads(line)
            by_rule_time[(doc["rule"], doc.get("time"), doc.get("priority"))] = doc
        for name, text in samples:
            sent = json.loads(text)
            got = by_rule_time[(sent["rule"], sent.get("time"), sent["priority"])]
            # Every field survives unchanged, 64-bit integers included; a uuid is added when there was none.
            for k, v in sent.items():
                self.assertEqual(got[k], v, f"{name}: field {k}")
            self.assertRegex(got["uuid"], r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        # The 64-bit evt.time of sample 01 is byte-identical in the output text.
        self.assertTrue(any('"evt.time.iso8601":1715108059341081180' in l for l in lines))
        warn = [json.loads(t) for _, t in samples if json.loads(t)["priority"] in WARNING_AND_ABOVE]
        siem = wait_for(lambda: len(read_lines(self.siem)) == len(warn) and read_lines(self.siem), 10, "siem sink")
        self.assertEqual(len(siem), len(warn))

    def test_ndjson_with_a_bad_line_is_400_and_keeps_the_good_lines(self):
        good1 = '{"rule":"Terminal shell in container","priority":"Notice","output":"a","output_fields":{"proc.name":"bash"}}'
        bad = '{"rule":"Terminal shell in container"}'
        good2 = '{"rule":"Read sensitive file untrusted","priority":"Warning","output":"b","output_fields":{"proc.name":"cat"}}'
        status, _, body = post_json(self.http_port, "\n".join([good1, bad, good2]) + "\n")
        self.assertEqual(status, 400)
        doc = json.loads(body)
        self.assertEqual(doc["accepted"], 2)
        self.assertEqual(len(doc["refused"]), 1)
        self.assertEqual(doc["refused"][0]["line"], 2)
        self.assertEqual(doc["refused"][0]["code"], "missing_priority")
        wait_for(lambda: len(read_lines(self.all)) == 2, 10, "the two good lines")
        self.assertEqual(metric(self.http_port, "saker_alerts_refused_total", {"source": "http", "reason": "missing_priority"}), 1)

    def test_gzip_body_and_limits(self):
        alerts = "\n".join(t for _, t in sample_alerts())
        status, _, _ = post_json(self.http_port, gzip.compress(alerts.encode()), {"Content-Encoding": "gzip"})
        self.assertEqual(status, 200)
        wait_for(lambda: len(read_lines(self.all)) == 10, 10, "gzip alerts")
        status, _, _ = post_json(self.http_port, "x" * (2 * 1024 * 1024))
        self.assertEqual(status, 413)
        bomb = gzip.compress(b" " * (64 * 1024 * 1024))
        status, _, _ = post_json(self.http_port, bomb, {"Content-Encoding": "gzip"})
        self.assertEqual(status, 413)

    def test_filter_routes_away_sshd(self):
        sshd = '{"rule":"Inbound SSH Connection","priority":"Error","output":"x","output_fields":{"proc.name":"sshd"}}'
        other = '{"rule":"Write below etc","priority":"Error","output":"y","output_fields":{"proc.name":"vi"}}'
        self.assertEqual(post_json(self.http_port, sshd + "\n" + other)[0], 200)
        wait_for(lambda: len(read_lines(self.all)) == 2, 10, "both in all")
        siem = wait_for(lambda: read_lines(self.siem), 10, "siem")
        time.sleep(0.2)
        siem = read_lines(self.siem)
        self.assertEqual(len(siem), 1)
        self.assertEqual(json.loads(siem[0])["rule"], "Write below etc")

    def test_tcp_ndjson_with_split_lines_and_an_oversized_line(self):
        a = '{"rule":"r1","priority":"Warning","output":"o1"}'
        b = '{"rule":"r2","priority":"Error","output":"o2"}'
        huge = '{"rule":"r3","priority":"Error","output":"' + "x" * (2 * 1024 * 1024) + '"}'
        with socket.create_connection(("127.0.0.1", self.tcp_port)) as s:
            s.sendall(a[:10].encode())
            time.sleep(0.05)
            s.sendall((a[10:] + "\n" + huge + "\n" + b[:5]).encode())
            time.sleep(0.05)
            s.sendall((b[5:] + "\n").encode())
        lines = wait_for(lambda: len(read_lines(self.all)) == 2 and read_lines(self.all), 10, "tcp alerts")
        self.assertEqual([json.loads(l)["rule"] for l in lines], ["r1", "r2"])
        wait_for(lambda: metric(self.http_port, "saker_alerts_refused_total", {"source": "tcp", "reason": "too_large"}) == 1, 5, "too_large counted")

    def test_ping_health_metrics_and_test_alert(self):
        self.assertEqual(http_request(self.http_port, "GET", "/ping")[2].strip(), b"pong")
        status, _, body = http_request(self.http_port, "GET", "/healthz")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["status"], "ok")
        status, _, _ = http_request(self.http_port, "POST", "/test")
        self.assertEqual(status, 200)
        line = wait_for(lambda: read_lines(self.all), 10, "test alert")[0]
        self.assertEqual(json.loads(line)["rule"], "Test rule")
        status, headers, body = http_request(self.http_port, "GET", "/metrics")
        text = body.decode()
        self.assertIn('saker_alerts_received_total{source="http"} 1', text)
        self.assertIn('saker_sink_sent_total{sink="all"} 1', text)
        self.assertIn("saker_decode_seconds_count", text)
        self.assertIn("saker_sink_queued", text)

    def test_alerts_below_every_route_are_counted_unrouted_and_bad_ones_still_refused(self):
        # Only warning-and-above sinks: a Notice alert is counted and goes nowhere. One whose priority reads plainly
        # and once is dropped unparsed (what else is wrong with it is not checked: no route would take it); one
        # whose priority could be read two ways, and a bad one a route would take, are refused.
        self.d.stop()
        http_port = free_port()
        d = Daemon(f"""data_dir: {self.d.workdir}/data2
sources:
  - {{type: tcp, listen: "127.0.0.1:{self.tcp_port}"}}
  - {{type: http, listen: "127.0.0.1:{http_port}"}}
sinks:
  - {{name: siem, type: file, path: {self.d.workdir}/warn.ndjson, min_priority: warning}}
  - {{name: crit, type: file, path: {self.d.workdir}/crit.ndjson, min_priority: critical}}
""")
        self.addCleanup(d.cleanup)
        d.start(wait_port=http_port)
        lines = ['{"rule":"n1","priority":"Notice"}', '{"rule":"w1","priority":"Warning"}',
                 '{"rule":"low","priority":"Notice","time":"yesterday"}', '{"rule":"n2","priority":"informational"}',
                 '{"rule":"c1","priority":"Critical"}', '{"rule":"bad","priority":"Error","time":"yesterday"}',
                 '{"rule":"twice","priority":"Notice","priority":"Critical"}']
        with socket.create_connection(("127.0.0.1", self.tcp_port)) as s:
            s.sendall(("\n".join(lines) + "\n").encode())
        got = wait_for(lambda: len(read_lines(f"{self.d.workdir}/warn.ndjson")) == 2 and
                       read_lines(f"{self.d.workdir}/warn.ndjson"), 10, "kept alerts")
        self.assertEqual([json.loads(l)["rule"] for l in got], ["w1", "c1"])
        wait_for(lambda: metric(http_port, "saker_alerts_received_total", {"source": "tcp"}) == 5, 5, "received")
        self.assertEqual(metric(http_port, "saker_alerts_unrouted_total", {}), 3)
        self.assertEqual(metric(http_port, "saker_alerts_refused_total", {"source": "tcp", "reason": "bad_time"}), 1)
        self.assertEqual(metric(http_port, "saker_alerts_refused_total", {"source": "tcp", "reason": "duplicate_key"}),
                         1)
        d.stop()

    def test_garbage_never_crashes_it(self):
        for payload in [b"\x00\xff" * 1000, b"{" * 10000, b"[]", b'{"rule":' * 1000, b"\xc3\x28"]:
            status, _, _ = post_json(self.http_port, payload)
            self.assertIn(status, (400, 413))
        with socket.create_connection(("127.0.0.1", self.tcp_port)) as s:
            s.sendall(os.urandom(200000) + b"\n")
        with socket.create_connection(("127.0.0.1", self.http_port)) as s:
            s.sendall(b"GARBAGE / HTTP/9.9\r\n\r\n" + os.urandom(5000))
            s.settimeout(2)
            try:
                s.recv(100)
            except OSError:
                pass
        self.assertEqual(http_request(self.http_port, "GET", "/ping")[0], 200)
        self.assertIsNone(self.d.proc.poll())

    def test_sighup_reloads_and_a_bad_config_keeps_the_old_one(self):
        extra = os.path.join(self.d.workdir, "extra.ndjson")
        self.d.write_config(config(self.d.workdir, self.http_port, self.tcp_port,
                                   f"  - {{name: extra, type: file, path: {extra}}}\n"))
        self.d.signal(signal.SIGHUP)
        wait_for(lambda: "reloaded" in self.d.log(), 10, "reload")
        wait_for(lambda: Daemon._connectable(self.http_port), 10, "http after reload")
        self.assertEqual(post_json(self.http_port, '{"rule":"after reload","priority":"Error"}')[0], 200)
        wait_for(lambda: len(read_lines(extra)) == 1, 10, "new sink receives")
        self.d.write_config("sinks: [this is not valid\n")
        self.d.signal(signal.SIGHUP)
        wait_for(lambda: "keeping the running config" in self.d.log(), 10, "refusal")
        self.assertEqual(post_json(self.http_port, '{"rule":"still running","priority":"Error"}')[0], 200)
        wait_for(lambda: len(read_lines(extra)) == 2, 10, "old config still delivers")

    def test_sigterm_drains_everything_and_exits_zero(self):
        body = "\n".join(json.dumps({"rule": f"r{i}", "priority": "Warning", "output": "o", "uuid": f"id-{i}"}) for i in range(5000))
        self.assertEqual(post_json(self.http_port, body)[0], 200)
        self.assertEqual(self.d.stop(), 0)
        self.assertEqual(len(read_lines(self.all)), 5000)
        self.assertEqual(len({json.loads(l)["uuid"] for l in read_lines(self.all)}), 5000)


if __name__ == "__main__":
    unittest.main()
