"""The threat_intel stage through the real binary: a list feed and a STIX feed, relative to the config's folder;
an alert naming one of their indicators reaches the file sink with threat.matched and threat.indicators, one that
names none arrives without them, and the metrics count the hit and what each feed loaded."""
import json
import os
import shutil
import unittest

from harness import Daemon, free_port, metric, post_json, read_lines, saker, wait_for

DATA = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "data", "threat_intel"))


def alert(uid, **fields):
    return json.dumps({"uuid": uid, "rule": "Outbound connection", "priority": "Notice", "output": f"connection {uid}",
                       "time": "2024-08-28T21:35:04.518808525Z", "hostname": "node-1", "source": "syscall",
                       "output_fields": fields})


class ThreatIntelTest(unittest.TestCase):
    def daemon_with_feeds(self, port):
        d = Daemon("")
        self.addCleanup(d.cleanup)
        out = os.path.join(d.workdir, "out.ndjson")
        os.makedirs(os.path.join(d.workdir, "feeds"))
        for name in ("ips.txt", "stix21-apt1.json"):
            shutil.copy(os.path.join(DATA, name), os.path.join(d.workdir, "feeds", name))
        d.write_config(f"""data_dir: {d.workdir}/data
enrich:
  threat_intel:
    feeds:
      - {{name: abuse-ips, type: list, path: feeds/ips.txt}}
      - {{name: apt1, type: stix, path: feeds/stix21-apt1.json}}
sources: [{{type: http, listen: "127.0.0.1:{port}"}}]
sinks:
  - {{name: out, type: file, path: {out}}}
""")
        return d, out

    def test_a_hit_carries_the_indicators_and_a_miss_carries_nothing(self):
        port = free_port()
        d, out = self.daemon_with_feeds(port)
        r = saker("check", "-c", d.config_path)
        self.assertEqual(r.returncode, 0, r.stderr)
        d.start(wait_port=port)
        body = "\n".join([
            alert("hit-1", **{"fd.name": "10.0.0.5:40000->223.167.1.9:443", "proc.name": "curl",
                              "proc.cmdline": "curl -s https://update.hugesoft.org/a.sh"}),
            alert("miss-1", **{"fd.sip": "192.0.2.1", "proc.name": "curl", "proc.cmdline": "curl https://notevil.com/"}),
        ])
        status, _, resp = post_json(port, body)
        self.assertEqual(status, 200, resp)
        lines = wait_for(lambda: len(read_lines(out)) == 2 and read_lines(out), 10, "two alerts in the file sink")
        got = {a["uuid"]: a for a in map(json.loads, lines)}
        hit = got["hit-1"]["output_fields"]
        self.assertIs(hit["threat.matched"], True)
        self.assertEqual(hit["threat.indicators"], [
            {"type": "ipv4-addr", "value": "223.166.0.0/15", "field": "fd.sip", "feed": "apt1"},
            {"type": "domain-name", "value": "hugesoft.org", "field": "proc.cmdline", "feed": "apt1"},
        ])
        miss = got["miss-1"]["output_fields"]
        self.assertNotIn("threat.matched", miss)
        self.assertNotIn("threat.indicators", miss)
        self.assertEqual(metric(port, "saker_enrich_hits_total", {"stage": "threat_intel"}), 1)
        self.assertEqual(metric(port, "saker_threat_intel_indicators",
                                {"stage": "threat_intel", "feed": "apt1", "type": "ipv4-addr"}), 4)
        self.assertEqual(metric(port, "saker_threat_intel_indicators",
                                {"stage": "threat_intel", "feed": "abuse-ips", "type": "domain-name"}), 3)
        self.assertEqual(d.stop(), 0)

    def test_a_broken_feed_stops_the_start_naming_the_feed_and_line(self):
        port = free_port()
        d, _ = self.daemon_with_feeds(port)
        with open(os.path.join(d.workdir, "feeds", "ips.txt"), "a", encoding="utf-8") as f:
            f.write("999.1.1.1\n")
        r = saker("check", "-c", d.config_path)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"saker\.yaml:\d+:\d+: enrich\.threat_intel\.feeds\[0\]\.path: feed abuse-ips: "
                                   r".*feeds/ips\.txt:14: \"999\.1\.1\.1\" is not")


if __name__ == "__main__":
    unittest.main()
