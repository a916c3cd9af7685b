"""The CLI as a user meets it: version, check with every error listed, replay with a summary."""
import json
import os
import subprocess
import tempfile
import unittest

from harness import BINARY, sample_alerts, read_lines


class CliTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="saker-cli-")

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_version(self):
        out = subprocess.run([BINARY, "version"], capture_output=True, text=True, check=True).stdout
        self.assertRegex(out, r"^saker \d+\.\d+\.\d+")

    def test_check_accepts_a_good_config(self):
        path = self.write("good.yaml", "sources:\n  - {type: http, listen: \"127.0.0.1:2801\"}\nsinks:\n  - {name: siem, type: file, path: /tmp/x.ndjson, format: json, min_priority: warning, filter: 'not proc.name = \"sshd\"'}\n")
        r = subprocess.run([BINARY, "check", "-c", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("OK (1 sources, 1 sinks)", r.stdout)

    def test_check_accepts_the_shipped_examples(self):
        root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
        for example in ("examples/saker.yaml", "examples/elasticsearch/saker-es.yaml"):
            r = subprocess.run([BINARY, "check", "-c", example], capture_output=True, text=True, cwd=root)
            self.assertEqual(r.returncode, 0, f"{example}: {r.stderr}")
            self.assertIn("OK (", r.stdout)

    def test_check_lists_every_error_with_position(self):
        path = self.write("bad.yaml", "sources:\n  - {type: htp}\nsinks:\n  - {name: a, type: file, min_priority: loud}\n  - {name: b, type: stdout, filter: 'proc.name = '}\n")
        r = subprocess.run([BINARY, "check", "-c", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        err = r.stderr
        self.assertIn(f"{path}:2:12: sources[0].type: unknown source type \"htp\"", err)
        self.assertIn(f"{path}:4:5: sinks[0].path: is required", err)
        self.assertIn("sinks[0].min_priority: must be a Falco priority", err)
        self.assertRegex(err, rf"{path}:5:\d+: sinks\[1\].filter: ")
        self.assertIn("4 error(s)", err)

    def test_format_options_reach_the_formatter_and_bad_ones_are_placed(self):
        plain, original, leef = (os.path.join(self.dir, n) for n in ("plain.ndjson", "orig.ndjson", "leef.log"))
        cfg = self.write("fmt.yaml", f"""sources: []
sinks:
  - {{name: plain, type: file, path: {plain}, format: ecs}}
  - {{name: orig, type: file, path: {original}, format: ecs, format_options: {{preserve_original: true}}}}
  - {{name: leef, type: file, path: {leef}, format: leef, format_options: {{delimiter: "^"}}}}
""")
        alerts = [text for _, text in sample_alerts()]
        data = self.write("in.ndjson", "\n".join(alerts) + "\n")
        r = subprocess.run([BINARY, "replay", "-c", cfg, data], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        plain_docs = [json.loads(l) for l in read_lines(plain)]
        orig_docs = [json.loads(l) for l in read_lines(original)]
        self.assertEqual(len(plain_docs), len(alerts))
        self.assertTrue(all("original" not in d.get("event", {}) for d in plain_docs))
        self.assertTrue(all(json.loads(d["event"]["original"])["rule"] == json.loads(a)["rule"]
                            for d, a in zip(orig_docs, alerts)))
        self.assertTrue(all("|0x5E|" in l for l in read_lines(leef)))
        bad = self.write("bad-fmt.yaml", "sources: []\nsinks:\n  - {name: a, type: stdout, format: cef, format_options: {x: 1}}\n")
        r = subprocess.run([BINARY, "check", "-c", bad], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, rf"{bad}:3:\d+: sinks\[0\].format_options: format cef takes no options")

    def test_replay_pushes_recorded_alerts_and_summarises(self):
        out = os.path.join(self.dir, "out.ndjson")
        cfg = self.write("replay.yaml", f"sources: []\nsinks:\n  - {{name: warn, type: file, path: {out}, min_priority: warning}}\n")
        alerts = [text for _, text in sample_alerts()]
        data = self.write("in.ndjson", "\n".join(alerts) + "\n{\"rule\":\"no priority\"}\nnot json\n")
        r = subprocess.run([BINARY, "replay", "-c", cfg, data], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("12 alerts read, 10 accepted, 2 refused", r.stdout)
        self.assertIn("missing_priority", r.stdout)
        self.assertIn("invalid_json", r.stdout)
        expected = sum(1 for a in alerts if json.loads(a)["priority"] in ("Warning", "Error", "Critical", "Alert", "Emergency"))
        self.assertRegex(r.stdout, rf"sink warn\s+{expected} delivered")
        self.assertEqual(len(read_lines(out)), expected)
