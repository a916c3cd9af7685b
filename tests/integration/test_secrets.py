"""What saker reports about itself never shows a secret of its config: a sink whose delivery fails reports its
error in /healthz, and the error holds the URL (with a token from ${env:} in its path), the proxy (with a password)
and a receiver's answer that echoes the Authorization header. /healthz, /readyz, /metrics and the log show
placeholders and *** instead."""
import json
import os
import shutil
import tempfile
import unittest

from fake_http import FakeHttpServer
from harness import Daemon, free_port, http_request, post_json, sample_alerts, wait_for

HOOK_TOKEN = "hook-t0ken-4f9a2c"     # from ${env:}: in the webhook's path
PROXY_PASS = "pr0xy-pass-8e1d"       # written in the config: the proxy URL's password
BEARER = "literal-bearer-77c3a1"     # written in the config: auth.bearer, echoed by the receiver
SINK_SUFFIX = "eu1-secret-5b2e"      # from ${env:}: part of a sink's name, so a metric label value
SECRETS = (HOOK_TOKEN, PROXY_PASS, BEARER, SINK_SUFFIX)


class EchoingReceiver(FakeHttpServer):
    """Refuses every request with 503 and repeats the credentials it was sent, as some proxies and debug
    endpoints do."""

    def handle(self, req):
        auth = req.header("Authorization") or ""
        return 503, {"Content-Type": "text/plain"}, f"busy; token {auth.split()[-1]} noted; you sent Authorization: {auth}"


class SecretsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="saker-secrets-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.echo = EchoingReceiver().start()
        self.addCleanup(self.echo.stop)

    def test_health_readiness_metrics_and_log_never_show_a_secret(self):
        os.environ["SAKER_IT_HOOK_TOKEN"] = HOOK_TOKEN
        os.environ["SAKER_IT_SINK_SUFFIX"] = SINK_SUFFIX
        self.addCleanup(os.environ.pop, "SAKER_IT_HOOK_TOKEN")
        self.addCleanup(os.environ.pop, "SAKER_IT_SINK_SUFFIX")
        port, closed, no_proxy = free_port(), free_port(), free_port()
        d = Daemon(f"""data_dir: {self.dir}/data
shutdown_grace: 1s
sources:
  - {{type: http, listen: "127.0.0.1:{port}"}}
sinks:
  - name: hook
    type: webhook
    url: "http://127.0.0.1:{closed}/hooks/${{env:SAKER_IT_HOOK_TOKEN}}"
    proxy: "http://soc:{PROXY_PASS}@127.0.0.1:{no_proxy}"
    retry: {{initial: 50ms, max: 200ms}}
  - name: echo
    type: webhook
    url: "{self.echo.url}/in"
    auth: {{bearer: {BEARER}}}
    retry: {{initial: 50ms, max: 200ms}}
  - name: "siem-${{env:SAKER_IT_SINK_SUFFIX}}"
    type: file
    path: {self.dir}/out.ndjson
""", workdir=self.dir)
        self.addCleanup(d.cleanup)
        d.start(wait_port=port)
        status, _, body = post_json(port, sample_alerts()[0][1])
        self.assertEqual(status, 200, body)

        def health():
            _, _, b = http_request(port, "GET", "/healthz")
            doc = json.loads(b)
            sinks = doc["sinks"]
            both_failing = all("last_error" in sinks.get(n, {}) for n in ("hook", "echo"))
            return both_failing and (b, sinks)

        body, sinks = wait_for(health, 15, "both webhooks reported failing in /healthz")
        # The errors are there, with the secrets' places shown, so a leak would have shown here.
        hook_error, echo_error = sinks["hook"]["last_error"], sinks["echo"]["last_error"]
        self.assertIn(f"/hooks/${{env:SAKER_IT_HOOK_TOKEN}} via proxy http://soc:***@127.0.0.1:{no_proxy}", hook_error)
        self.assertIn("HTTP 503: busy; token *** noted; you sent Authorization: Bearer ***", echo_error)
        self.assertIn("siem-${env:SAKER_IT_SINK_SUFFIX}", sinks)

        status, _, ready = http_request(port, "GET", "/readyz")
        self.assertIn(b"siem-${env:SAKER_IT_SINK_SUFFIX}", ready)
        _, _, metrics = http_request(port, "GET", "/metrics")
        self.assertIn(b'saker_sink_healthy{sink="siem-${env:SAKER_IT_SINK_SUFFIX}"} 1', metrics)
        self.assertIn(b'saker_sink_healthy{sink="hook"} 0', metrics)
        # The log says the same errors the same way.
        wait_for(lambda: "via proxy http://soc:***@" in d.log() and "Authorization: Bearer ***" in d.log(), 15,
                 "both failures logged")
        self.assertEqual(d.stop(), 0)
        log = d.log()
        for secret in SECRETS:
            for where, text in (("/healthz", body), ("/readyz", ready), ("/metrics", metrics), ("the log", log.encode())):
                self.assertNotIn(secret.encode(), text, f"{secret} in {where}")


if __name__ == "__main__":
    unittest.main()
