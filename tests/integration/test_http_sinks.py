"""The webhook, splunk_hec and loki sinks end to end against faithful test servers (sink_servers.py), and every
transport failure mode of the HTTP sinks: a clear log line, a metric, a retry, no crash."""
import json
import re
import unittest

from es_bulk_server import EsBulkServer
from fake_http import SinkDaemon
from harness import free_port, sample_alerts, wait_for
from sink_servers import HecServer, LokiServer, WebhookServer

FAST_RETRY = {"initial": "50ms", "max": "200ms"}
TOKEN = "6d3c8a3e-2f1b-4c9e-9a57-0d5b2c1e7f42"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def ns_of(alert_time):
    """RFC 3339 (UTC, 0-9 fraction digits) -> integer nanoseconds, as saker computes them."""
    import calendar
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z$", alert_time)
    secs = calendar.timegm(tuple(int(x) for x in m.groups()[:6]))
    return secs * 10**9 + int((m.group(7) or "").ljust(9, "0")[:9])


class Base(unittest.TestCase):
    def setUp(self):
        self.servers, self.daemons = [], []
        self.samples = [json.loads(t) for _, t in sample_alerts()]

    def tearDown(self):
        for d in self.daemons:
            d.cleanup()
        for s in self.servers:
            s.stop()

    def serve(self, server):
        self.servers.append(server.start())
        return server

    def saker(self, **sink):
        d = SinkDaemon({"format": "json", "timeout": "2s", "retry": FAST_RETRY, **sink})
        self.daemons.append(d)
        return d


class WebhookSinkTest(Base):
    def test_webhook_json_array_with_headers_bearer_and_gzip(self):
        hook = self.serve(WebhookServer(bearer="s3cret"))
        d = self.saker(name="hook", type="webhook", url=hook.url + "/falco", headers={"X-Team": "soc"},
                       auth={"bearer": "s3cret"}, compression="gzip")
        d.post(self.samples)
        got = wait_for(lambda: sum(len(r.json()) for r in hook.received()) == 10 and hook.received(), 10, "10 alerts")
        for r in got:
            self.assertEqual((r.method, r.path), ("POST", "/falco"))
            self.assertEqual(r.header("Content-Type"), "application/json")
            self.assertEqual(r.header("Content-Encoding"), "gzip")
            self.assertEqual(r.header("X-Team"), "soc")
            self.assertEqual(r.header("Authorization"), "Bearer s3cret")
            self.assertIsInstance(r.json(), list)
        rules = sorted(a["rule"] for r in got for a in r.json())
        self.assertEqual(rules, sorted(s["rule"] for s in self.samples))

    def test_webhook_ndjson_put_and_single(self):
        hook = self.serve(WebhookServer())
        d = self.saker(name="nd", type="webhook", url=hook.url + "/nd", method="PUT", batch_format="ndjson")
        d.post(self.samples)
        got = wait_for(lambda: sum(r.body.count(b"\n") for r in hook.received()) == 10 and hook.received(), 10, "ndjson")
        for r in got:
            self.assertEqual(r.method, "PUT")
            self.assertEqual(r.header("Content-Type"), "application/x-ndjson")
            self.assertTrue(r.body.endswith(b"\n"))
            self.assertTrue(all(json.loads(line)["rule"] for line in r.body.split(b"\n")[:-1]))
        single = self.serve(WebhookServer())
        d2 = self.saker(name="one", type="webhook", url=single.url, batch_format="single")
        d2.post(self.samples[:4])
        got = wait_for(lambda: len(single.received()) == 4 and single.received(), 10, "4 single requests")
        self.assertTrue(all(isinstance(r.json(), dict) for r in got))

    def test_webhook_retries_5xx_429_408_and_dead_letters_other_4xx(self):
        hook = self.serve(WebhookServer())
        hook.fail_requests(503, 429, 408)
        d = self.saker(name="hook", type="webhook", url=hook.url, batch_format="single")
        d.post(self.samples[:1])
        wait_for(lambda: len(hook.received()) == 4, 10, "3 retries then success")
        self.assertEqual(d.metric("saker_http_requests_total", sink="hook", status="200"), 1)
        self.assertIn("HTTP 503: scripted failure 503", d.log())
        hook.fail_requests(400)
        d.post(self.samples[1:2])
        dead = wait_for(lambda: d.dead_letters("hook"), 10, "dead letter")
        self.assertEqual(dead[0]["reason"], "webhook: HTTP 400: scripted failure 400: payload refused by the receiver")
        self.assertEqual(dead[0]["alert"]["rule"], self.samples[1]["rule"])
        self.assertEqual(d.metric("saker_webhook_rejected_total", sink="hook"), 1)
        self.assertEqual(len(hook.received()), 5, "a 400 is not retried")


class HecSinkTest(Base):
    def test_hec_wire_format_is_exact(self):
        hec = self.serve(HecServer(token=TOKEN))
        d = self.saker(name="splunk", type="splunk_hec", url=hec.url, token=TOKEN, index="main", compression="gzip")
        d.post(self.samples)
        wait_for(lambda: len(hec.events) == 10, 10, "10 events")
        by_key = {(s["rule"], s["time"]): s for s in self.samples}
        for r in hec.received():
            self.assertEqual(r.path, "/services/collector/event")
            self.assertEqual(r.header("Authorization"), f"Splunk {TOKEN}")
            self.assertEqual(r.header("Content-Type"), "application/json")
            self.assertEqual(r.header("Content-Encoding"), "gzip")
            self.assertRegex(r.header("X-Splunk-Request-Channel"), UUID)
            text, pos = r.body.decode(), 0
            while pos < len(text):  # event objects back to back, no separator, keys in this order
                self.assertRegex(text[pos:pos + 300], r'^\{"time":\d+\.\d{3},"host":"[^"]+","source":"falco",'
                                                      r'"sourcetype":"falco","index":"main","event":\{')
                _, pos = json.JSONDecoder().raw_decode(text, pos)
        for e in hec.events:
            sent = by_key[(e["event"]["rule"], e["event"]["time"])]
            self.assertEqual(e["host"], sent["hostname"])
            self.assertEqual(e["time"], int(ns_of(sent["time"]) // 10**6) / 1000)
            for k, v in sent.items():
                self.assertEqual(e["event"][k], v)
        self.assertEqual(hec.events[0]["source"], "falco")

    def test_hec_invalid_event_is_dead_lettered_and_only_later_events_resent(self):
        hec = self.serve(HecServer(token=TOKEN))
        hec.reject_event(lambda e: e["event"].get("rule") == "Bad")
        alerts = [{"rule": r, "priority": "Warning", "output": r, "time": "2024-05-07T10:00:00Z", "uuid": f"u-{r}"}
                  for r in ("Good1", "Bad", "Good2", "Good3")]
        d = self.saker(name="splunk", type="splunk_hec", url=hec.url, token=TOKEN)
        d.post(alerts)
        wait_for(lambda: len(hec.events) == 3, 10, "3 good events")
        self.assertEqual([e["event"]["rule"] for e in hec.events], ["Good1", "Good2", "Good3"])
        dead = wait_for(lambda: d.dead_letters("splunk"), 10, "dead letter")
        self.assertEqual([x["alert"]["rule"] for x in dead], ["Bad"])
        self.assertEqual(dead[0]["reason"], "splunk_hec: HTTP 400: Invalid data format (code 6)")
        self.assertEqual(d.metric("saker_hec_rejected_total", sink="splunk"), 1)

    def test_hec_invalid_token_busy_and_incorrect_index(self):
        hec = self.serve(HecServer(token=TOKEN))
        d = self.saker(name="splunk", type="splunk_hec", url=hec.url + "/services/collector", token="wrong")
        d.post(self.samples[:2])
        wait_for(lambda: d.metric("saker_http_requests_total", sink="splunk", status="403") >= 2, 10, "403s")
        self.assertIn("HTTP 403: Invalid token (code 4); check `token`", d.log())
        self.assertEqual(d.dead_letters("splunk"), [])
        hec.busy = 2
        hec.token = "wrong"  # the token is fixed on the Splunk side: delivery resumes after the busy answers
        wait_for(lambda: len(hec.events) == 2, 10, "delivered")
        self.assertEqual(d.metric("saker_http_requests_total", sink="splunk", status="503"), 2)
        d2 = self.saker(name="idx", type="splunk_hec", url=hec.url, token="wrong", index="nope")
        d2.post(self.samples[:2])
        dead = wait_for(lambda: len(d2.dead_letters("idx")) == 2 and d2.dead_letters("idx"), 10, "dead letters")
        self.assertEqual(dead[0]["reason"], "splunk_hec: HTTP 400: Incorrect index (code 7)")


class LokiSinkTest(Base):
    def test_loki_wire_format_streams_labels_sorting_tenant_gzip(self):
        loki = self.serve(LokiServer())
        d = self.saker(name="loki", type="loki", url=loki.url, tenant="soc", compression="gzip",
                       labels={"rule": "rule", "priority": "priority", "k8s.ns.name": "k8s.ns.name"},
                       static_labels={"job": "falco"})
        # Two alerts of one stream, newest first: saker sorts them.
        newer = {"rule": "Shell", "priority": "Warning", "output": "b", "time": "2024-05-07T10:00:02Z", "uuid": "b",
                 "output_fields": {"k8s.ns.name": "prod"}}
        older = {**newer, "output": "a", "time": "2024-05-07T10:00:01.5Z", "uuid": "a"}
        d.post([newer, older])
        wait_for(lambda: loki.received(), 10, "push")
        r = loki.received()[0]
        self.assertEqual(r.path, "/loki/api/v1/push")
        self.assertEqual(r.header("X-Scope-OrgID"), "soc")
        self.assertEqual(r.header("Content-Encoding"), "gzip")
        self.assertEqual(r.header("Content-Type"), "application/json")
        push = r.json()
        self.assertEqual(len(push["streams"]), 1)
        s = push["streams"][0]
        self.assertEqual(s["stream"], {"job": "falco", "k8s_ns_name": "prod", "priority": "Warning", "rule": "Shell"})
        self.assertEqual([v[0] for v in s["values"]], [str(ns_of(older["time"])), str(ns_of(newer["time"]))])
        self.assertEqual([json.loads(v[1])["uuid"] for v in s["values"]], ["a", "b"])
        self.assertEqual(r.body.decode(), json.dumps(push, separators=(",", ":")))
        d.post(self.samples)
        wait_for(lambda: sum(len(v) for v in loki.entries().values()) == 12, 10, "all entries")
        for (tenant, labels), entries in loki.entries().items():
            self.assertEqual(tenant, "soc")
            self.assertEqual(entries, sorted(entries))

    def test_loki_out_of_order_is_dead_lettered_and_429_retried(self):
        loki = self.serve(LokiServer(ordered=True))
        d = self.saker(name="loki", type="loki", url=loki.url)
        base = {"rule": "Shell", "priority": "Warning", "output": "x", "hostname": "h1", "source": "syscall"}
        d.post([{**base, "time": "2024-05-07T10:00:02Z", "uuid": "new"}])
        wait_for(lambda: loki.entries(), 10, "first entry")
        loki.fail_requests(429)
        d.post([{**base, "time": "2024-05-07T10:00:01Z", "uuid": "old"}])
        dead = wait_for(lambda: d.dead_letters("loki"), 10, "dead letter")
        self.assertEqual(dead[0]["alert"]["uuid"], "old")
        self.assertIn("entry out of order", dead[0]["reason"])
        self.assertTrue(dead[0]["reason"].startswith("loki: HTTP 400: 1 errors like: entry with timestamp"))
        self.assertEqual(d.metric("saker_http_requests_total", sink="loki", status="429"), 1)
        self.assertIn("Ingestion rate limit exceeded", d.log())
        labels = next(iter(loki.entries()))[1]
        self.assertEqual(dict(labels), {"rule": "Shell", "priority": "Warning", "hostname": "h1", "source": "syscall"})


class HttpFailureModesTest(Base):
    """Refused connections, timeouts and dropped connections, for every HTTP sink type."""

    def sink(self, kind, url):
        return {"elasticsearch": {"type": "elasticsearch", "url": url},
                "webhook": {"type": "webhook", "url": url},
                "splunk_hec": {"type": "splunk_hec", "url": url, "token": TOKEN},
                "loki": {"type": "loki", "url": url}}[kind]

    def server(self, kind, port=0):
        if kind == "splunk_hec":
            return HecServer(port=port, token=TOKEN)
        return {"elasticsearch": EsBulkServer, "webhook": WebhookServer, "loki": LokiServer}[kind](port=port)

    def delivered(self, kind, server):
        if kind == "elasticsearch":
            return len(server.docs())
        if kind == "splunk_hec":
            return len(server.events)
        if kind == "loki":
            return sum(len(v) for v in server.entries().values())
        return sum(len(r.json()) for r in server.received() if r.body)

    def test_http_refused_connection_then_the_server_comes_up(self):
        for kind in ("elasticsearch", "webhook", "splunk_hec", "loki"):
            with self.subTest(kind):
                port = free_port()
                d = self.saker(name="out", **self.sink(kind, f"http://127.0.0.1:{port}"))
                d.post(self.samples[:2])
                wait_for(lambda: d.metric("saker_http_requests_total", sink="out", status="refused") >= 2, 10, "refused")
                self.assertIn("connection refused or unreachable; is the server up and the url right?", d.log())
                self.assertIn(f"POST http://127.0.0.1:{port}", d.log())
                server = self.serve(self.server(kind, port))
                wait_for(lambda: self.delivered(kind, server) == 2, 10, "delivered once the server is up")
                self.assertTrue(d.alive())

    def test_http_timeout_and_dropped_connection_are_retried(self):
        for kind in ("elasticsearch", "webhook", "splunk_hec", "loki"):
            with self.subTest(kind):
                server = self.serve(self.server(kind))
                server.delay = 1.5
                server.drop = 1
                d = self.saker(name="out", timeout="500ms", **self.sink(kind, server.url))
                d.post(self.samples[:2])
                wait_for(lambda: d.metric("saker_http_requests_total", sink="out", status="connection") >= 1, 10, "drop")
                wait_for(lambda: d.metric("saker_http_requests_total", sink="out", status="timeout") >= 1, 10, "timeout")
                self.assertIn("timed out; the server is slow or unreachable", d.log())
                server.delay = 0
                wait_for(lambda: self.delivered(kind, server) >= 2, 10, "delivered after the timeouts")
                self.assertTrue(d.alive())


if __name__ == "__main__":
    unittest.main()
