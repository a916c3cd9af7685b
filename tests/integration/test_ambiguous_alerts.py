"""Alerts that could be read two ways never reach a sink: a key sent twice, an event time that int64 nanoseconds
cannot hold, a date that does not exist. The good alerts posted with them still land; a config whose sizes or
durations would overflow is an error at its line."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import BINARY, Daemon, free_port, metric, post_json, read_lines, wait_for

RANGE = "1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z"


def alert(rule, **extra):
    doc = {"rule": rule, "priority": "Warning", "output": rule, "output_fields": {"proc.name": "bash"}}
    doc.update(extra)
    return json.dumps(doc)


class AmbiguousAlertTest(unittest.TestCase):
    def setUp(self):
        self.port = free_port()
        self.d = Daemon("")
        self.out = os.path.join(self.d.workdir, "siem.ndjson")
        self.d.write_config(f"""
sources:
  - {{type: http, listen: "127.0.0.1:{self.port}"}}
sinks:
  - {{name: siem, type: file, path: {self.out}, format: cef}}
""")
        self.d.start(wait_port=self.port)

    def tearDown(self):
        self.d.cleanup()

    def post(self, lines):
        status, _, body = post_json(self.port, "\n".join(lines) + "\n")
        return status, json.loads(body)

    def test_duplicate_keys_and_impossible_times_are_refused_and_the_rest_delivered(self):
        lines = [
            alert("good one"),
            '{"rule":"first","priority":"Debug","rule":"second","priority":"Emergency"}',
            alert("good two"),
            alert("far future", time="9999-12-31T23:59:59Z"),
            '{"rule":"r","priority":"Warning","output_fields":{"proc.name":"bash","proc.nam\\u0065":"sshd"}}',
            alert("no such day", time="2024-02-31T00:00:00Z"),
            '{"rule":"r","priority":"Warning","proc.name":"sshd","output_fields":{"proc.name":"bash"}}',
            alert("too early", time="0001-01-01T00:00:00Z"),
            '{"rule":"r","priority":"Warning","time":18446744073709551615}',
            alert("good three", time="2262-04-11T23:47:16.854775807Z"),
        ]
        status, doc = self.post(lines)
        self.assertEqual(status, 400, doc)
        self.assertEqual(doc["accepted"], 3, doc)
        refused = {r["line"]: r for r in doc["refused"]}
        self.assertEqual(sorted(refused), [2, 4, 5, 6, 7, 8, 9], doc)
        for line in (2, 5, 7):
            self.assertEqual(refused[line]["code"], "duplicate_key", refused[line])
        self.assertIn('"rule"', refused[2]["reason"])
        self.assertIn('"proc.name"', refused[5]["reason"])
        for line in (4, 6, 8, 9):
            self.assertEqual(refused[line]["code"], "bad_time", refused[line])
        for line in (4, 8, 9):
            self.assertIn(RANGE, refused[line]["reason"])
        self.assertIn("9999-12-31T23:59:59Z", refused[4]["reason"])
        self.assertIn("day its month does not have", refused[6]["reason"])

        got = wait_for(lambda: len(read_lines(self.out)) == 3 and read_lines(self.out), 10, "the three good alerts")
        self.assertTrue(got[0].startswith("CEF:0|") and "good one" in got[0], got)
        self.assertIn("good two", got[1])
        self.assertIn("good three", got[2])
        self.assertIn("rt=9223372036854", got[2])  # the last representable millisecond, not a wrapped negative
        self.assertFalse(any("second" in l or "Emergency" in l or "rt=-" in l for l in got), got)
        labels = {"source": "http", "reason": "duplicate_key"}
        self.assertEqual(metric(self.port, "saker_alerts_refused_total", labels), 3)
        self.assertEqual(metric(self.port, "saker_alerts_refused_total", {"source": "http", "reason": "bad_time"}), 4)

    def test_a_single_duplicate_key_alert_is_a_400_naming_the_key(self):
        status, doc = self.post(['{"rule":"first","priority":"Debug","\\u0072ule":"second","priority":"Emergency"}'])
        self.assertEqual(status, 400, doc)
        self.assertEqual(doc["accepted"], 0)
        self.assertEqual(doc["refused"][0]["code"], "duplicate_key")
        self.assertIn('"rule"', doc["refused"][0]["reason"])
        time.sleep(0.3)
        self.assertEqual(read_lines(self.out), [])


class OverflowingConfigTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="saker-overflow-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def test_sizes_and_durations_that_would_wrap_are_errors_at_their_line(self):
        path = os.path.join(self.dir, "saker.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"""shutdown_grace: 99999999999999h
limits:
  max_alert_bytes: 99999999999GiB
sources: []
sinks:
  - name: out
    type: file
    path: {self.dir}/out.ndjson
    rotate_every: 1e400h
    batch_wait: nan
    max_size: 18446744073709551616
""")
        r = subprocess.run([BINARY, "check", "-c", path], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        out = r.stdout + r.stderr
        self.assertIn(f"{path}:1:17: shutdown_grace:", out)
        self.assertIn("87600h", out)
        self.assertIn(f"{path}:3:20: limits.max_alert_bytes:", out)
        self.assertIn("8EiB", out)
        self.assertIn(f"{path}:9:19: sinks[0].rotate_every:", out)
        self.assertIn(f"{path}:10:17: sinks[0].batch_wait: must be a duration", out)
        self.assertIn(f"{path}:11:15: sinks[0].max_size:", out)


if __name__ == "__main__":
    unittest.main()
