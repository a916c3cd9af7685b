"""The syslog sink against a real rsyslogd (started here, never the system one): UDP, TCP octet-counted and
newline-framed, RFC 3164, TLS and mutual TLS; a receiver that is down or restarts; TLS errors reported, not fatal."""
import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from harness import Daemon, free_port, http_request, metric, post_json, read_lines, sample_alerts, wait_for

RSYSLOGD = shutil.which("rsyslogd") or shutil.which("rsyslogd", path="/usr/sbin:/sbin")
# rsyslog's OpenSSL network driver comes in its own Debian package (rsyslog-openssl).
HAVE_OSSL = bool(glob.glob("/usr/lib/*/rsyslog/lmnsd_ossl.so") + glob.glob("/usr/lib/rsyslog/lmnsd_ossl.so"))

SEVERITY = {"emergency": 0, "emerg": 0, "alert": 1, "critical": 2, "crit": 2, "error": 3, "err": 3, "warning": 4,
            "warn": 4, "notice": 5, "informational": 6, "info": 6, "informative": 6, "debug": 7}
CANONICAL = {"emerg": "Emergency", "crit": "Critical", "err": "Error", "warn": "Warning", "info": "Informational",
             "informative": "Informational"}

# One JSON object per received message with the fields rsyslog parsed.
TEMPLATE = """template(name="fields" type="list" option.jsonf="on") {
  property(outname="input" name="inputname" format="jsonf")
  property(outname="ver" name="protocol-version" format="jsonf")
  property(outname="host" name="hostname" format="jsonf")
  property(outname="app" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="tag" name="syslogtag" format="jsonf")
  property(outname="sev" name="syslogseverity" format="jsonf")
  property(outname="fac" name="syslogfacility" format="jsonf")
  property(outname="ts" name="timestamp" dateFormat="rfc3339" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
  property(outname="raw" name="rawmsg" format="jsonf")
}"""


def canonical_priority(p):
    return CANONICAL.get(p.lower(), p.capitalize())


def sd_escape(s):
    return "".join("\\" + c if c in '"\\]' else (" " if ord(c) < 32 or ord(c) == 127 else c) for c in s)


def expected_sd(doc):
    params = [("rule", doc["rule"]), ("priority", canonical_priority(doc["priority"]))]
    if doc.get("source"):
        params.append(("source", doc["source"]))
    params.append(("uuid", doc["uuid"]))
    if doc.get("tags"):
        params.append(("tags", ",".join(doc["tags"])))
    return "[falco@32473 " + " ".join(f'{k}="{sd_escape(v)}"' for k, v in params) + "]"


def expected_ts(doc):
    head, _, frac = doc["time"][:-1].partition(".")  # every sample's time is RFC 3339 in UTC ("...Z")
    return f"{head}.{(frac + '000000')[:6]}Z"


def make_pki(d):
    """A throwaway CA, a server certificate for localhost/127.0.0.1 and a client certificate for client.example."""
    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=saker test CA",
            "-keyout", "ca.key", "-out", "ca.pem")
    for name, cn, san in (("server", "localhost", "DNS:localhost,IP:127.0.0.1"),
                          ("client", "client.example", "DNS:client.example")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}", "-keyout", f"{name}.key",
                "-out", f"{name}.csr")
        with open(os.path.join(d, f"{name}.ext"), "w") as f:
            f.write(f"subjectAltName={san}\nextendedKeyUsage=serverAuth,clientAuth\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.pem")
    return {k: os.path.join(d, k) for k in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")}


def udp_bound(port):
    with open("/proc/net/udp") as f:
        return any(line.split()[1].endswith(":%04X" % port) for line in f.read().splitlines()[1:])


class Rsyslog:
    """A private rsyslogd writing what it parsed, one JSON object per message, to <dir>/out.log."""

    def __init__(self, workdir, inputs, pki=None):
        self.dir = workdir
        self.inputs = inputs  # (name, kind, port) with kind udp | tcp | tls | mtls
        self.out = os.path.join(workdir, "out.log")
        self.conf = os.path.join(workdir, "rsyslog.conf")
        os.makedirs(os.path.join(workdir, "work"), exist_ok=True)
        lines = [f'global(workDirectory="{workdir}/work" net.enableDNS="off" maxMessageSize="64k")',
                 'module(load="imudp")', 'module(load="imtcp")', TEMPLATE,
                 f'ruleset(name="all") {{ action(type="omfile" file="{self.out}" template="fields") }}']
        for name, kind, port in inputs:
            if kind == "udp":
                lines.append(f'input(type="imudp" address="127.0.0.1" port="{port}" ruleset="all" name="{name}")')
                continue
            line = f'input(type="imtcp" address="127.0.0.1" port="{port}" ruleset="all" name="{name}"'
            if kind in ("tls", "mtls"):
                line += (f' streamDriver.name="ossl" streamDriver.mode="1"'
                         f' streamDriver.CAFile="{pki["ca.pem"]}" streamDriver.CertFile="{pki["server.pem"]}"'
                         f' streamDriver.KeyFile="{pki["server.key"]}"')
                line += (' streamDriver.authMode="x509/name" permittedPeer=["client.example"]' if kind == "mtls"
                         else ' streamDriver.authMode="anon"')
            lines.append(line + ")")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.dir, "rsyslogd.log"), "ab")
        self.proc = subprocess.Popen([RSYSLOGD, "-n", "-f", self.conf, "-i", os.path.join(self.dir, "rsyslogd.pid")],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        for _, kind, port in self.inputs:
            ready = (lambda p=port: udp_bound(p)) if kind == "udp" else (lambda p=port: Daemon._connectable(p))
            wait_for(lambda: ready() or self.proc.poll() is not None, 15, f"rsyslogd on {port}")
            if self.proc.poll() is not None:
                raise AssertionError(f"rsyslogd exited: {self.errors()}")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)
        if self.proc:
            self.log.close()

    def errors(self):
        with open(os.path.join(self.dir, "rsyslogd.log"), encoding="utf-8", errors="replace") as f:
            return f.read()

    def records(self, input_name=None):
        out = [json.loads(line) for line in read_lines(self.out)]
        return [r for r in out if input_name is None or r["input"] == input_name]

    def wait_records(self, input_name, n, timeout=15):
        return wait_for(lambda: len(self.records(input_name)) >= n and self.records(input_name), timeout,
                        f"{n} messages on {input_name} (have {len(self.records(input_name))})")


def uuid_of(record):
    """The alert's uuid, from the structured data (RFC 5424) or the JSON message (RFC 3164)."""
    sd = record["sd"]
    if "uuid=\"" in sd:
        return sd.split('uuid="', 1)[1].split('"', 1)[0]
    return json.loads(record["msg"].lstrip(" "))["uuid"]


class SyslogTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="saker-syslog-")
        self.rsyslog = None
        self.d = Daemon("")
        self.http_port = free_port()

    def tearDown(self):
        if self.rsyslog:
            self.rsyslog.stop()
        self.d.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start_saker(self, sinks):
        self.copy = os.path.join(self.d.workdir, "copy.ndjson")
        self.d.write_config(f"""
data_dir: {self.d.workdir}/data
shutdown_grace: 2s
sources:
  - {{type: http, listen: "127.0.0.1:{self.http_port}"}}
sinks:
  - {{name: copy, type: file, path: {self.copy}}}
{sinks}""")
        self.d.start(wait_port=self.http_port)

    def post_samples(self):
        samples = sample_alerts()
        for name, text in samples:
            status, _, body = post_json(self.http_port, text)
            self.assertEqual(status, 200, f"{name}: {body!r}")
        lines = wait_for(lambda: len(read_lines(self.copy)) == len(samples) and read_lines(self.copy), 10, "copy")
        return {json.loads(line)["uuid"]: line for line in lines}

    def check_rfc5424(self, rec, line, facility, app="falco", host=None, msgid="-"):
        doc = json.loads(line)
        self.assertEqual(rec["ver"], "1")
        self.assertEqual(rec["app"], app)
        self.assertEqual(rec["host"], host or doc.get("hostname") or "-")
        self.assertEqual(rec["procid"], "-")
        self.assertEqual(rec["msgid"], msgid)
        self.assertEqual(int(rec["sev"]), SEVERITY[doc["priority"].lower()])
        self.assertEqual(int(rec["fac"]), facility)
        self.assertEqual(rec["ts"], expected_ts(doc))
        self.assertEqual(rec["sd"], expected_sd(doc))
        self.assertEqual(rec["msg"], line)  # the formatter's record, byte for byte

    def test_udp_tcp_octet_newline_and_rfc3164_are_parsed_exactly(self):
        p = {k: free_port() for k in ("udp", "oc", "nl", "bsd", "small")}
        self.rsyslog = Rsyslog(self.tmp, [("udp", "udp", p["udp"]), ("oc", "tcp", p["oc"]), ("nl", "tcp", p["nl"]),
                                          ("bsd", "udp", p["bsd"]), ("small", "udp", p["small"])]).start()
        self.start_saker(f"""
  - {{name: s_udp, type: syslog, address: "udp://127.0.0.1:{p['udp']}", max_udp_size: 8192}}
  - {{name: s_oc, type: syslog, address: "tcp://127.0.0.1:{p['oc']}", facility: auth, app_name: saker-test, msg_id: rule}}
  - {{name: s_nl, type: syslog, address: "tcp://127.0.0.1:{p['nl']}", framing: newline, hostname: relay.example, facility: 3}}
  - {{name: s_bsd, type: syslog, address: "udp://127.0.0.1:{p['bsd']}", protocol: rfc3164, facility: local5}}
  - {{name: s_small, type: syslog, address: "udp://127.0.0.1:{p['small']}", max_udp_size: 600}}
""")
        by_uuid = self.post_samples()
        n = len(by_uuid)
        for name in ("udp", "oc", "nl", "bsd", "small"):
            self.rsyslog.wait_records(name, n)
        time.sleep(0.3)
        for name in ("udp", "oc", "nl", "bsd", "small"):
            self.assertEqual(len(self.rsyslog.records(name)), n, f"{name}: every alert exactly once")

        for rec in self.rsyslog.records("udp"):
            self.check_rfc5424(rec, by_uuid[uuid_of(rec)], facility=16)
        for rec in self.rsyslog.records("oc"):
            line = by_uuid[uuid_of(rec)]
            msgid = json.loads(line)["rule"].replace(" ", "_")[:32]
            self.check_rfc5424(rec, line, facility=4, app="saker-test", msgid=msgid)
        for rec in self.rsyslog.records("nl"):
            self.check_rfc5424(rec, by_uuid[uuid_of(rec)], facility=3, host="relay.example")
        for rec in self.rsyslog.records("bsd"):
            line = by_uuid[uuid_of(rec)]
            doc = json.loads(line)
            self.assertEqual(rec["ver"], "0")
            self.assertEqual(rec["tag"], "falco:")
            self.assertEqual(rec["host"], doc.get("hostname") or socket.gethostname())
            self.assertEqual(int(rec["sev"]), SEVERITY[doc["priority"].lower()])
            self.assertEqual(int(rec["fac"]), 21)
            self.assertEqual(rec["msg"], " " + line)  # rsyslog keeps the space after "TAG:" in an RFC 3164 msg
        # UDP messages longer than max_udp_size arrive cut to it, and the cut is counted.
        long_ones = 0
        for rec in self.rsyslog.records("small"):
            line = by_uuid[uuid_of(rec)]
            full = f"<{16 * 8 + int(rec['sev'])}>1 " + rec["raw"].split(" ", 1)[1]
            self.assertLessEqual(len(rec["raw"].encode()), 600)
            if len(rec["msg"]) < len(line):
                long_ones += 1
                self.assertTrue(line.startswith(rec["msg"]), "cut, not mangled")
                self.assertEqual(len(rec["raw"].encode()), 600)
            self.assertTrue(full.startswith(rec["raw"]))
        self.assertGreater(long_ones, 0)
        self.assertEqual(metric(self.http_port, "saker_syslog_truncated_total", {"sink": "s_small"}), long_ones)
        self.assertEqual(metric(self.http_port, "saker_sink_failed_total", {"sink": "s_oc"}), 0)
        self.assertEqual(metric(self.http_port, "saker_syslog_connects_total", {"sink": "s_oc"}), 1)

    def test_receiver_down_at_start_then_up_then_restarted_loses_nothing_over_tcp(self):
        port = free_port()
        self.rsyslog = Rsyslog(self.tmp, [("tcp", "tcp", port)])
        self.start_saker(f"""  - {{name: s_tcp, type: syslog, address: "tcp://127.0.0.1:{port}",
      retry: {{initial: 50ms, max: 300ms}}, batch_size: 7}}""")

        def post(first, count):
            body = "\n".join(json.dumps({"rule": "Write below etc", "priority": "Error", "output": f"event {i}",
                                         "hostname": "node-1", "time": "2024-05-07T18:54:19.341081180Z",
                                         "output_fields": {"evt.num": i}}) for i in range(first, first + count))
            self.assertEqual(post_json(self.http_port, body)[0], 200)

        def nums():
            return [json.loads(r["msg"])["output_fields"]["evt.num"] for r in self.rsyslog.records("tcp")]

        post(0, 20)  # the daemon started although nothing listens; the alerts wait in the queue
        wait_for(lambda: metric(self.http_port, "saker_sink_failed_total", {"sink": "s_tcp"}) >= 2, 10, "failed attempts")
        self.assertIn(f"cannot connect to tcp://127.0.0.1:{port}: Connection refused", self.d.log())
        self.assertEqual(metric(self.http_port, "saker_sink_healthy", {"sink": "s_tcp"}), 0)
        self.rsyslog.start()
        wait_for(lambda: len(nums()) >= 20, 15, "the first 20 after the receiver came up")
        wait_for(lambda: metric(self.http_port, "saker_sink_healthy", {"sink": "s_tcp"}) == 1, 5, "healthy again")

        # The receiver restarts: the closed connection is noticed before writing, so nothing goes into the void.
        failed = metric(self.http_port, "saker_sink_failed_total", {"sink": "s_tcp"})
        self.rsyslog.stop()
        post(20, 20)
        wait_for(lambda: metric(self.http_port, "saker_sink_failed_total", {"sink": "s_tcp"}) > failed, 10,
                 "a failed attempt while the receiver is down")
        self.assertIn(f"sink s_tcp: tcp://127.0.0.1:{port} closed the connection; reconnecting", self.d.log())
        time.sleep(0.5)
        self.rsyslog.start()
        wait_for(lambda: len(nums()) >= 40, 15, "the next 20 after the restart")
        post(40, 5)
        wait_for(lambda: len(nums()) >= 45, 15, "the last 5")
        time.sleep(0.3)
        self.assertEqual(sorted(nums()), list(range(45)), "every alert exactly once, none lost")
        self.assertIsNone(self.d.proc.poll())

    @unittest.skipUnless(HAVE_OSSL, "rsyslog's OpenSSL driver (Debian package rsyslog-openssl) is not installed")
    def test_tls_and_mtls_deliver_and_a_name_mismatch_is_a_clear_error(self):
        pki = make_pki(self.tmp)
        tls_port, mtls_port = free_port(), free_port()
        self.rsyslog = Rsyslog(self.tmp, [("tls", "tls", tls_port), ("mtls", "mtls", mtls_port)], pki).start()
        self.start_saker(f"""
  - {{name: s_tls, type: syslog, address: "tls://127.0.0.1:{tls_port}", tls: {{ca: "{pki['ca.pem']}"}}}}
  - {{name: s_mtls, type: syslog, address: "tls://localhost:{mtls_port}", msg_id: FALCO,
      tls: {{ca: "{pki['ca.pem']}", cert: "{pki['client.pem']}", key: "{pki['client.key']}"}}}}
  - {{name: s_bad, type: syslog, address: "tls://127.0.0.1:{tls_port}", tls: {{ca: "{pki['ca.pem']}", server_name: wrong.example}},
      retry: {{initial: 100ms, max: 500ms}}}}
  - {{name: s_nocert, type: syslog, address: "tls://localhost:{mtls_port}", tls: {{ca: "{pki['ca.pem']}"}},
      retry: {{initial: 100ms, max: 500ms}}}}
""")
        by_uuid = self.post_samples()
        n = len(by_uuid)
        self.rsyslog.wait_records("tls", n)
        self.rsyslog.wait_records("mtls", n)
        time.sleep(0.3)
        for rec in self.rsyslog.records("tls"):
            self.check_rfc5424(rec, by_uuid[uuid_of(rec)], facility=16)
        for rec in self.rsyslog.records("mtls"):
            self.check_rfc5424(rec, by_uuid[uuid_of(rec)], facility=16, msgid="FALCO")
        # Only the good sinks got through: the bad ones add nothing to either input.
        self.assertEqual(len(self.rsyslog.records("tls")), n)
        self.assertEqual(len(self.rsyslog.records("mtls")), n)

        wait_for(lambda: metric(self.http_port, "saker_sink_failed_total", {"sink": "s_bad"}) >= 1, 10, "s_bad failing")
        wait_for(lambda: metric(self.http_port, "saker_sink_failed_total", {"sink": "s_nocert"}) >= 1, 10, "s_nocert failing")
        log = self.d.log()
        self.assertIn(f"sink s_bad: TLS handshake with tls://127.0.0.1:{tls_port} failed: certificate verify failed", log)
        self.assertIn('hostname mismatch (the server\'s certificate is not for "wrong.example"; see tls.server_name)', log)
        self.assertIn(f"sink s_nocert: tls://localhost:{mtls_port} dropped the TLS connection after the handshake", log)
        self.assertIn("certificate required", log)
        self.assertEqual(metric(self.http_port, "saker_sink_healthy", {"sink": "s_bad"}), 0)
        self.assertEqual(metric(self.http_port, "saker_sink_sent_total", {"sink": "s_bad"}), 0)
        self.assertEqual(metric(self.http_port, "saker_sink_failed_total", {"sink": "s_tls"}), 0)
        self.assertEqual(http_request(self.http_port, "GET", "/ping")[2].strip(), b"pong")
        self.assertIsNone(self.d.proc.poll(), "saker keeps running")
        self.assertEqual(self.d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
