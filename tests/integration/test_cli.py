"""The CLI as a user meets it: version, check with every error listed, replay with a summary, config taken
from the environment, JSON logs."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import (free_port, http_request, post_json, read_lines, sample_alerts, saker, self_signed, start_daemon,
                     wait_for)


class CliTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="saker-cli-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def setenv(self, name, value):
        old = os.environ.get(name)
        os.environ[name] = value
        self.addCleanup(lambda: os.environ.pop(name) if old is None else os.environ.__setitem__(name, old))

    def check(self, path, **kw):
        return saker("check", "-c", path, **kw)

    def replay(self, cfg, data, **kw):
        return saker("replay", "-c", cfg, data, timeout=60, **kw)

    def pki(self):
        """pki/good.pem and pki/other.pem, self-signed, with their keys."""
        pki = os.path.join(self.dir, "pki")
        os.mkdir(pki)
        self_signed(pki, "good", "other")
        return pki

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_version(self):
        out = saker("version", check=True).stdout
        self.assertRegex(out, r"^saker \d+\.\d+\.\d+")

    def test_version_flag_works_like_the_version_command(self):
        flag = saker("--version", check=True).stdout
        command = saker("version", check=True).stdout
        self.assertEqual(flag.strip(), command.strip())

    def test_check_accepts_a_good_config(self):
        path = self.write("good.yaml", "sources:\n  - {type: http, listen: \"127.0.0.1:2801\"}\nsinks:\n  - {name: siem, type: file, path: /tmp/x.ndjson, format: json, min_priority: warning, filter: 'not proc.name = \"sshd\"'}\n")
        r = self.check(path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("OK (1 sources, 1 sinks)", r.stdout)

    def test_check_accepts_the_shipped_examples(self):
        root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
        for example in ("examples/saker.yaml", "examples/elasticsearch/saker-es.yaml", "examples/enrich/fields.yaml",
                        "examples/enrich/mitre.yaml", "examples/enrich/geoip.yaml",
                        "examples/enrich/threat_intel.yaml", "examples/enrich/users.yaml"):
            r = self.check(example, cwd=root)
            self.assertEqual(r.returncode, 0, f"{example}: {r.stderr}")
            self.assertIn("OK (", r.stdout)

    def test_check_lists_every_error_with_position(self):
        path = self.write("bad.yaml", "sources:\n  - {type: htp}\nsinks:\n  - {name: a, type: file, min_priority: loud}\n  - {name: b, type: stdout, filter: 'proc.name = '}\n")
        r = self.check(path)
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
        r = self.replay(cfg, data)
        self.assertEqual(r.returncode, 0, r.stderr)
        plain_docs = [json.loads(l) for l in read_lines(plain)]
        orig_docs = [json.loads(l) for l in read_lines(original)]
        self.assertEqual(len(plain_docs), len(alerts))
        self.assertTrue(all("original" not in d.get("event", {}) for d in plain_docs))
        self.assertTrue(all(json.loads(d["event"]["original"])["rule"] == json.loads(a)["rule"]
                            for d, a in zip(orig_docs, alerts)))
        self.assertTrue(all("|0x5E|" in l for l in read_lines(leef)))
        bad = self.write("bad-fmt.yaml", "sources: []\nsinks:\n  - {name: a, type: stdout, format: cef, format_options: {x: 1}}\n")
        r = self.check(bad)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, rf"{bad}:3:\d+: sinks\[0\].format_options: format cef takes no options")

    def test_replay_pushes_recorded_alerts_and_summarises(self):
        out = os.path.join(self.dir, "out.ndjson")
        cfg = self.write("replay.yaml", f"sources: []\nsinks:\n  - {{name: warn, type: file, path: {out}, min_priority: warning}}\n")
        alerts = [text for _, text in sample_alerts()]
        data = self.write("in.ndjson", "\n".join(alerts) + "\n{\"rule\":\"no priority\"}\nnot json\n")
        r = self.replay(cfg, data)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("12 alerts read, 10 accepted, 2 refused", r.stdout)
        self.assertIn("missing_priority", r.stdout)
        self.assertIn("invalid_json", r.stdout)
        expected = sum(1 for a in alerts if json.loads(a)["priority"] in ("Warning", "Error", "Critical", "Alert", "Emergency"))
        self.assertRegex(r.stdout, rf"sink warn\s+{expected} delivered")
        self.assertEqual(len(read_lines(out)), expected)

    def test_env_and_file_placeholders_reach_the_file_path_and_the_token_and_never_show(self):
        secret, hook = "tok-7f3a9c-secret", "hook-5d1e77b0"
        out_dir = os.path.join(self.dir, "from-env")
        self.setenv("SAKER_IT_OUT", out_dir)
        self.setenv("SAKER_IT_HOOK", hook)
        self.write("token", secret + "\n")
        port, closed = free_port(), free_port()
        d = start_daemon(self, f"""shutdown_grace: 1s
sources:
  - type: http
    listen: "127.0.0.1:{port}"
    token: "${{file:token}}"
sinks:
  - name: out
    type: file
    path: ${{env:SAKER_IT_OUT}}/alerts.ndjson
  - name: hook
    type: webhook
    url: "http://127.0.0.1:{closed}/hooks/${{env:SAKER_IT_HOOK}}"
    retry: {{initial: 50ms, max: 200ms}}
""", port, workdir=self.dir)
        alert = sample_alerts()[0][1]
        status, _, _ = post_json(port, alert, {"Authorization": "Bearer wrong"})
        self.assertEqual(status, 401)
        status, _, body = post_json(port, alert, {"Authorization": f"Bearer {secret}"})
        self.assertEqual(status, 200, body)
        out = os.path.join(out_dir, "alerts.ndjson")
        wait_for(lambda: len(read_lines(out)) == 1, what="the alert in the file named by SAKER_IT_OUT")
        _, _, metrics = http_request(port, "GET", "/metrics", headers={"Authorization": f"Bearer {secret}"})
        self.assertIn(b"saker_sink_sent_total", metrics)
        self.assertNotIn(secret.encode(), metrics)
        # The webhook's failures are logged with its url: the placeholder shows, the value does not.
        wait_for(lambda: "/hooks/${env:SAKER_IT_HOOK}" in d.log(), what="the webhook failure logged")
        self.assertEqual(d.stop(), 0)
        self.assertNotIn(secret, d.log())
        self.assertNotIn(hook, d.log())

    def test_check_names_an_unset_variable_at_its_position_and_never_echoes_a_secret(self):
        os.environ.pop("SAKER_IT_UNSET", None)
        self.setenv("SAKER_IT_SECRET", "hunter2-xyzzy")
        path = self.write("env.yaml", """sources:
  - {type: http, listen: "${env:SAKER_IT_SECRET}"}
sinks:
  - name: out
    type: file
    path: /tmp/${env:SAKER_IT_UNSET}/alerts.ndjson
""")
        r = self.check(path)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn(f"{path}:6:16: sinks[0].path: environment variable SAKER_IT_UNSET is not set", r.stderr)
        self.assertIn('got "${env:SAKER_IT_SECRET}"', r.stderr)
        self.assertNotIn("hunter2", r.stderr + r.stdout)
        r = saker("run", "-c", path, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("environment variable SAKER_IT_UNSET is not set", r.stderr)
        self.assertNotIn("hunter2", r.stderr + r.stdout)

    def test_check_catches_what_run_would_fail_on(self):
        self.pki()
        self.write("junk.pem", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
        self.write("blocker", "a file, not a folder")
        good = self.write("good.yaml", """sources:
  - {type: http, listen: "127.0.0.1:0", tls: {cert: pki/good.pem, key: pki/good.key, client_ca: pki/other.pem}}
sinks:
  - {name: s, type: syslog, address: "tls://127.0.0.1:6514", tls: {ca: pki/good.pem, cert: pki/other.pem, key: pki/other.key}}
""")
        r = self.check(good)
        self.assertEqual(r.returncode, 0, r.stderr)
        bad = self.write("bad.yaml", """sources:
  - {type: http, listen: "127.0.0.1:0", tls: {cert: junk.pem, key: pki/good.key}}
sinks:
  - {name: s, type: syslog, address: "tls://127.0.0.1:6514", tls: {cert: pki/good.pem, key: pki/other.key}}
  - {name: f, type: file, path: blocker/out/alerts.ndjson}
  - {name: r, type: stdout, retry: {initial: 5s, max: 1s}}
  - type: kafka
    brokers: "127.0.0.1:9092"
    topic: falco
    librdkafka: {linger.ms: "soon", no.such.property: "1"}
""")
        r = self.check(bad)
        self.assertEqual(r.returncode, 1)
        err = r.stderr
        self.assertIn(f"{bad}:2:53: sources[0].tls.cert: {self.dir}/junk.pem is not a PEM certificate", err)
        self.assertIn(f"sinks[0].tls.key: the key {self.dir}/pki/other.key does not belong to the certificate", err)
        self.assertIn(f"{bad}:5:33: sinks[1].path: cannot create the folder {self.dir}/blocker/out: "
                      f"{self.dir}/blocker is not a folder", err)
        self.assertIn(f"{bad}:6:46: sinks[2].retry.initial: 5000ms is larger than retry.max (1000ms)", err)
        self.assertRegex(err, rf"{bad}:10:\d+: sinks\[3\]\.librdkafka\.linger\.ms: ")
        self.assertRegex(err, rf"{bad}:10:\d+: sinks\[3\]\.librdkafka\.no\.such\.property: ")
        self.assertIn("6 error(s)", err)
        data_dir = self.write("data.yaml", "data_dir: blocker/state\nsources: []\nsinks:\n  - {name: o, type: stdout}\n")
        r = self.check(data_dir)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{data_dir}:1:11: data_dir: cannot create the folder {self.dir}/blocker/state", r.stderr)

    def test_check_reads_every_file_librdkafka_would_open(self):
        pki = self.pki()
        subprocess.run(["openssl", "pkey", "-in", "good.key", "-aes256", "-passout", "pass:kafka-key-pass",
                        "-out", "good.enc.key"], cwd=pki, check=True, capture_output=True)
        self.write("junk.pem", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
        self.write("keystore.p12", "opaque to saker: librdkafka parses it")
        self.write("saker.keytab", "opaque to saker: Kerberos parses it")
        os.mkdir(os.path.join(self.dir, "crl-folder"))

        def kafka(props):
            lines = "\n".join(f"      {k}: {v}" for k, v in props.items())
            return f"""sources: []
sinks:
  - type: kafka
    brokers: "127.0.0.1:9092"
    topic: falco
    librdkafka:
{lines}
"""
        # Relative paths resolve against the config's folder; a CA may be a folder; an encrypted key with its
        # passphrase is good.
        good = self.write("good.yaml", kafka({
            "security.protocol": "SSL", "ssl.ca.location": "pki", "ssl.certificate.location": "pki/good.pem",
            "ssl.key.location": "pki/good.enc.key", "ssl.key.password": "kafka-key-pass",
            "ssl.keystore.location": "keystore.p12", "ssl.crl.location": "pki/other.pem",
            "sasl.kerberos.keytab": "saker.keytab"}))
        r = self.check(good, cwd="/")
        self.assertEqual(r.returncode, 0, r.stderr)
        # Every bad file is reported at its value's line and column, not only the first.
        bad = self.write("bad.yaml", kafka({
            "ssl.ca.location": "missing-ca.pem", "ssl.certificate.location": "junk.pem",
            "ssl.key.location": "junk.pem", "ssl.keystore.location": "missing.p12",
            "ssl.crl.location": "crl-folder", "sasl.kerberos.keytab": "/nonexistent/saker.keytab"}))
        r = self.check(bad)
        self.assertEqual(r.returncode, 1, r.stdout)
        err = r.stderr
        d = self.dir
        self.assertIn(f"{bad}:7:24: sinks[0].librdkafka.ssl.ca.location: cannot read {d}/missing-ca.pem: "
                      "No such file or directory", err)
        self.assertIn(f"{bad}:8:33: sinks[0].librdkafka.ssl.certificate.location: {d}/junk.pem is not a PEM "
                      "certificate", err)
        self.assertIn(f"{bad}:9:25: sinks[0].librdkafka.ssl.key.location: {d}/junk.pem is not an unencrypted PEM "
                      "private key", err)
        self.assertIn("; if it is encrypted, set ssl.key.password", err)
        self.assertIn(f"{bad}:10:30: sinks[0].librdkafka.ssl.keystore.location: cannot read {d}/missing.p12: "
                      "No such file or directory", err)
        self.assertIn(f"{bad}:11:25: sinks[0].librdkafka.ssl.crl.location: {d}/crl-folder is a folder, not a file",
                      err)
        self.assertIn(f"{bad}:12:29: sinks[0].librdkafka.sasl.kerberos.keytab: cannot read /nonexistent/saker.keytab: "
                      "No such file or directory", err)
        self.assertIn("6 error(s)", err)
        # A wrong passphrase, a key of another certificate.
        wrong = self.write("wrong.yaml", kafka({
            "ssl.certificate.location": "pki/good.pem", "ssl.key.location": "pki/good.enc.key",
            "ssl.key.password": "not-the-pass"}))
        r = self.check(wrong)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn(f"{wrong}:8:25: sinks[0].librdkafka.ssl.key.location: {d}/pki/good.enc.key is not a PEM "
                      "private key its passphrase opens", r.stderr)
        self.assertNotIn("not-the-pass", r.stderr)
        mismatch = self.write("mismatch.yaml", kafka({
            "ssl.certificate.location": "pki/good.pem", "ssl.key.location": "pki/other.key"}))
        r = self.check(mismatch)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn(f"{mismatch}:8:25: sinks[0].librdkafka.ssl.key.location: the key {d}/pki/other.key does not "
                      f"belong to the certificate {d}/pki/good.pem", r.stderr)

    def test_relative_paths_resolve_against_the_config_folder_and_replay_needs_no_sources(self):
        conf_dir = os.path.join(self.dir, "etc")
        os.mkdir(conf_dir)
        cfg = os.path.join(conf_dir, "saker.yaml")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("sinks:\n  - {name: out, type: file, path: out/alerts.ndjson}\n")
        data = self.write("in.ndjson", sample_alerts()[0][1] + "\n")
        elsewhere = os.path.join(self.dir, "cwd")
        os.mkdir(elsewhere)
        r = self.replay(os.path.relpath(cfg, elsewhere), data, cwd=elsewhere)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1 alerts read, 1 accepted", r.stdout)
        self.assertEqual(len(read_lines(os.path.join(conf_dir, "out", "alerts.ndjson"))), 1)
        self.assertFalse(os.path.exists(os.path.join(elsewhere, "out")))
        r = self.check(cfg)
        self.assertEqual(r.returncode, 1)
        self.assertIn("sources: is required", r.stderr)
        self.assertIn("saker replay needs none", r.stderr)

    def test_json_logs_are_one_object_per_line_with_the_message_escaped(self):
        # Bytes that are not UTF-8 in the path (0xFF; an overlong "/" as C0 AF) come out as U+FFFD each.
        weird = os.path.join(self.dir, 'a "quoted"\nand\\ folder \udcff \udcc0\udcaf')
        os.mkdir(weird)
        port = free_port()
        d = start_daemon(self, f"""log_format: json
sources:
  - {{type: http, listen: "127.0.0.1:{port}"}}
sinks:
  - {{name: out, type: file, path: out.ndjson}}
""", port, workdir=weird)
        self.assertEqual(d.stop(), 0)
        lines = [l for l in d.log().split("\n") if l]
        records = [json.loads(l) for l in lines]
        self.assertGreaterEqual(len(records), 2, lines)
        for rec in records:
            self.assertEqual(sorted(rec), ["level", "message", "time"])
            self.assertRegex(rec["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")
        shown = d.config_path.replace("\udcff", "\ufffd").replace("\udcc0\udcaf", "\ufffd\ufffd")
        self.assertTrue(any(rec["level"] == "info" and f"running with {shown}" in rec["message"]
                            for rec in records), records)
