"""The elasticsearch sink end to end against a faithful _bulk test server (es_bulk_server.py), not a real cluster:
wire format, daily indices from the alert's time, _id = uuid, retries of only what was refused, dead letters with the
server's reason, 409-on-create as delivered, 413 halving, auth, templates, TLS, failover."""
import base64
import datetime
import json
import os
import re
import shutil
import tempfile
import time
import unittest

from es_bulk_server import EsBulkServer
from fake_http import SinkDaemon, make_test_pki, server_tls_context
from harness import free_port, sample_alerts, wait_for

FAST_RETRY = {"initial": "50ms", "max": "200ms"}
UUID_06 = "7466e462-ddde-434d-8dee-390ca5656f83"  # sample 06 carries its own uuid


def alert_day(doc):
    t = doc["time"]
    if isinstance(t, int):
        return datetime.datetime.fromtimestamp(t // 10**9, datetime.timezone.utc)
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)", t)
    return datetime.datetime.fromisoformat(m.group(1)).replace(tzinfo=datetime.timezone.utc)


def ms_timestamp(t):
    m = re.match(r"(.{19})(?:\.(\d+))?Z$", t)
    return f"{m.group(1)}.{(m.group(2) or '').ljust(3, '0')[:3]}Z"


class EsSinkTest(unittest.TestCase):
    def setUp(self):
        self.servers, self.daemons = [], []
        self.samples = [json.loads(t) for _, t in sample_alerts()]

    def tearDown(self):
        for d in self.daemons:
            d.cleanup()
        for s in self.servers:
            s.stop()

    def server(self, **kw):
        s = EsBulkServer(**kw).start()
        self.servers.append(s)
        return s

    def saker(self, server_or_url, **sink):
        url = server_or_url if isinstance(server_or_url, (str, list)) else server_or_url.url
        cfg = {"name": "es", "type": "elasticsearch", "url": url, "format": "json", "timeout": "2s",
               "retry": FAST_RETRY, **sink}
        d = SinkDaemon(cfg)
        self.daemons.append(d)
        return d

    def wait_docs(self, server, n, timeout=15):
        return wait_for(lambda: len(server.docs()) == n and server.docs(), timeout, f"{n} documents")

    def test_es_wire_format_daily_indices_uuid_ids_gzip_basic_auth(self):
        es = self.server(auth=("elastic", "changeme"))
        d = self.saker(es, compression="gzip", pipeline="falco-geo ip", auth={"user": "elastic", "password": "changeme"})
        d.post(self.samples)
        docs = self.wait_docs(es, 10)
        for req in es.bulk_requests():
            self.assertEqual(req.method, "POST")
            self.assertEqual(req.path, "/_bulk")
            self.assertEqual(req.header("Content-Type"), "application/x-ndjson")
            self.assertEqual(req.header("Content-Encoding"), "gzip")
            self.assertEqual(req.raw[:2], b"\x1f\x8b")
            self.assertTrue(req.body.endswith(b"\n"))
            self.assertEqual(req.query["pipeline"], "falco-geo ip")
            self.assertEqual(req.header("Authorization"), "Basic " + base64.b64encode(b"elastic:changeme").decode())
            for action in req.body.split(b"\n")[:-1:2]:
                self.assertEqual(list(json.loads(action)), ["index"])
        by_rule_time = {(s["rule"], s["time"]): s for s in self.samples}
        for (index, doc_id), doc in docs.items():
            self.assertEqual(doc_id, doc["uuid"])
            self.assertRegex(doc_id, r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
            self.assertEqual(index, alert_day(doc).strftime("falco-%Y.%m.%d"))
            self.assertEqual(doc["@timestamp"], ms_timestamp(doc["time"]))
            sent = by_rule_time[(doc["rule"], doc["time"])]
            for k, v in sent.items():
                self.assertEqual(doc[k], v)
        self.assertIn("falco-2001.01.01", {index for index, _ in docs})
        self.assertEqual(docs[("falco-2024.08.28", UUID_06)]["rule"], "Terminal shell in container")
        wait_for(lambda: d.metric("saker_es_items_total", sink="es", result="created") == 10, 5, "created metric")
        # Re-delivering the same alerts overwrites the same documents: _id is the (deterministic) uuid.
        d.post(self.samples)
        wait_for(lambda: d.metric("saker_es_items_total", sink="es", result="updated") == 10, 10, "updated metric")
        self.assertEqual(len(es.docs()), 10)

    def test_es_default_format_is_ecs(self):
        es = self.server()
        cfg = {"name": "es", "type": "elasticsearch", "url": es.url, "retry": FAST_RETRY}  # no `format`
        d = SinkDaemon(cfg)
        self.daemons.append(d)
        d.post(self.samples[:1])
        doc = next(iter(self.wait_docs(es, 1).values()))
        self.assertEqual(doc["event"]["kind"], "alert")
        self.assertIn("@timestamp", doc)
        self.assertNotIn("output_fields", doc, "the alert as Falco sent it is not the document")

    def test_es_partial_failure_retries_only_the_refused_items(self):
        es = self.server()
        es.fail_item(UUID_06, 429, 503)
        d = self.saker(es)
        d.post(self.samples)
        self.wait_docs(es, 10)
        sent = [json.loads(a)["index"]["_id"] for r in es.bulk_requests() for a in r.body.split(b"\n")[:-1:2]]
        self.assertEqual(sent.count(UUID_06), 3)
        self.assertEqual(len(sent), 12, "the other nine are sent once")
        self.assertEqual(len(set(sent)), 10)
        wait_for(lambda: d.metric("saker_es_items_total", sink="es", result="retried") == 2, 5, "retried metric")
        self.assertEqual(d.metric("saker_es_items_total", sink="es", result="created"), 10)
        self.assertIn("refused for now (429 es_rejected_execution_exception", d.log())
        self.assertEqual(d.dead_letters("es"), [])

    def test_es_mapping_error_is_dead_lettered_with_the_servers_reason(self):
        es = self.server(long_fields={"output_fields.fd.sport"})
        bad = {"rule": "Outbound connection", "priority": "Warning", "output": "x", "time": "2024-05-07T10:00:00Z",
               "uuid": "bad-doc-1", "output_fields": {"fd.sport": "http"}}
        good = {**bad, "uuid": "good-doc-1", "output_fields": {"fd.sport": 443}}
        d = self.saker(es)
        d.post([good, bad] + self.samples[:3])
        self.wait_docs(es, 4)
        dead = wait_for(lambda: d.dead_letters("es"), 10, "dead letter")
        self.assertEqual(len(dead), 1)
        self.assertEqual(dead[0]["alert"]["uuid"], "bad-doc-1")
        self.assertEqual(dead[0]["sink"], "es")
        self.assertIn("elasticsearch: 400 mapper_parsing_exception: failed to parse field [output_fields.fd.sport] of "
                      "type [long] in document with id 'bad-doc-1'. Preview of field's value: 'http' (caused by: "
                      "illegal_argument_exception: For input string: \"http\")", dead[0]["reason"])
        self.assertEqual(len(es.bulk_requests()), 1, "a mapping error is not retried")
        self.assertEqual(d.metric("saker_es_items_total", sink="es", result="dead_letter"), 1)
        self.assertEqual(d.metric("saker_sink_dead_letters_total", sink="es"), 1)
        self.assertIn("1 alert(s) rejected for good", d.log())

    def test_es_whole_request_429_503_500_are_retried(self):
        es = self.server()
        es.fail_requests(429, 503, 500)
        d = self.saker(es)
        d.post(self.samples)
        self.wait_docs(es, 10)
        self.assertEqual(len(es.bulk_requests()), 4)
        for status in ("429", "503", "500", "200"):
            self.assertEqual(d.metric("saker_http_requests_total", sink="es", status=status), 1, status)
        self.assertIn("HTTP 429: the cluster is busy or unavailable (es_rejected_execution_exception", d.log())

    def test_es_create_409_counts_as_already_delivered(self):
        es = self.server()
        es.indices["logs-falco-default"] = {UUID_06: {"_source": {"earlier": True}, "_version": 1}}
        d = self.saker(es, op_type="create", index="logs-falco-default")
        d.post(self.samples)
        wait_for(lambda: len(es.docs()) == 10, 15, "documents")
        wait_for(lambda: d.metric("saker_es_items_total", sink="es", result="duplicate") == 1, 5, "duplicate metric")
        self.assertEqual(d.metric("saker_es_items_total", sink="es", result="created"), 9)
        self.assertEqual(es.docs()[("logs-falco-default", UUID_06)], {"earlier": True})
        self.assertEqual(d.dead_letters("es"), [])
        for r in es.bulk_requests():
            self.assertTrue(all(list(json.loads(a)) == ["create"] for a in r.body.split(b"\n")[:-1:2]))

    def test_es_413_halves_the_request_and_dead_letters_a_lone_oversized_alert(self):
        es = self.server(max_content_length=6000)
        huge = {"rule": "Huge", "priority": "Error", "output": "x" * 8000, "time": "2024-05-07T10:00:00Z", "uuid": "huge-1"}
        d = self.saker(es)
        d.post(self.samples + [huge])
        self.wait_docs(es, 10)
        dead = wait_for(lambda: d.dead_letters("es"), 10, "dead letter")
        self.assertEqual(dead[0]["alert"]["uuid"], "huge-1")
        self.assertIn("413", dead[0]["reason"])
        self.assertGreaterEqual(d.metric("saker_http_requests_total", sink="es", status="413"), 2)
        accepted = [r for r in es.bulk_requests() if len(r.body) <= 6000]
        self.assertEqual(sum(r.body.count(b"\n") // 2 for r in accepted), 10)

    def test_es_max_bytes_splits_requests(self):
        es = self.server()
        d = self.saker(es, max_bytes="4KiB")
        d.post(self.samples)
        self.wait_docs(es, 10)
        reqs = es.bulk_requests()
        self.assertGreaterEqual(len(reqs), 3)
        for r in reqs:
            self.assertTrue(len(r.body) <= 4096 or r.body.count(b"\n") == 2, len(r.body))

    def test_es_auth_failure_is_logged_counted_and_retried(self):
        es = self.server(auth=("elastic", "right"))
        d = self.saker(es, auth={"user": "elastic", "password": "wrong"})
        d.post(self.samples[:2])
        wait_for(lambda: d.metric("saker_http_requests_total", sink="es", status="401") >= 2, 10, "401s")
        self.assertIn("HTTP 401: authentication or authorization failed, check `auth` (security_exception: unable to "
                      "authenticate user [elastic] for REST request [/_bulk])", d.log())
        self.assertEqual(es.docs(), {})
        es.auth = ("elastic", "wrong")  # the operator fixes the cluster side
        self.wait_docs(es, 2)
        self.assertTrue(d.alive())

    def test_es_api_key_and_template_bootstrap(self):
        es = self.server(api_key="VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==")
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        body = {"index_patterns": ["falco-*"], "template": {"mappings": {"properties": {"@timestamp": {"type": "date"}}}}}
        path = os.path.join(tmp, "falco-template.json")
        with open(path, "w") as f:
            json.dump(body, f)
        d = self.saker(es, auth={"api_key": es.api_key}, template={"name": "falco", "body_file": path})
        d.post(self.samples[:3])
        self.wait_docs(es, 3)
        first = es.received()[0]
        self.assertEqual((first.method, first.path), ("PUT", "/_index_template/falco"))
        self.assertEqual(first.header("Authorization"), "ApiKey " + es.api_key)
        self.assertEqual(es.templates["falco"], body)
        self.assertEqual(d.metric("saker_es_setup_total", sink="es", object="index_template", result="installed"), 1)

    def write_json(self, name, body):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            json.dump(body, f)
        return path

    def test_es_ilm_policy_goes_in_before_the_template_that_names_it(self):
        es = self.server()
        policy = {"policy": {"phases": {"hot": {"actions": {"rollover": {"max_age": "1d"}}},
                                        "delete": {"min_age": "30d", "actions": {"delete": {}}}}}}
        template = {"index_patterns": ["falco-*"], "template": {"settings": {"index.lifecycle.name": "falco-30d"}}}
        d = self.saker(es, ilm_policy={"name": "falco-30d", "body_file": self.write_json("ilm.json", policy)},
                       template={"name": "falco", "body_file": self.write_json("template.json", template)})
        d.post(self.samples[:3])
        self.wait_docs(es, 3)
        paths = [(r.method, r.path) for r in es.received()]
        self.assertEqual(paths[:2], [("PUT", "/_ilm/policy/falco-30d"), ("PUT", "/_index_template/falco")])
        self.assertEqual(es.ilm_policies["falco-30d"]["policy"], policy["policy"])
        self.assertEqual(es.templates["falco"], template)
        self.assertEqual(d.metric("saker_es_setup_total", sink="es", object="ilm_policy", result="installed"), 1)
        self.assertEqual(d.metric("saker_es_setup_total", sink="es", object="index_template", result="installed"), 1)
        self.assertIn('ilm_policy "falco-30d" installed from', d.log())

    def test_es_policy_put_failing_with_503_holds_delivery_until_it_goes_in(self):
        es = self.server()
        es.setup_failures = [503, 503]
        policy = {"policy": {"phases": {"delete": {"min_age": "7d", "actions": {"delete": {}}}}}}
        d = self.saker(es, ilm_policy={"name": "falco-7d", "body_file": self.write_json("ilm.json", policy)})
        d.post(self.samples[:2])
        self.wait_docs(es, 2)
        puts = [r for r in es.received() if r.method == "PUT"]
        self.assertEqual(len(puts), 3)  # two 503s, then installed
        first_bulk = next(i for i, r in enumerate(es.received()) if r.path.endswith("_bulk"))
        self.assertGreater(first_bulk, 2, "no bulk before the policy is in")
        self.assertEqual(es.ilm_policies["falco-7d"]["version"], 1)
        self.assertIn("ilm_policy falco-7d: PUT", d.log())
        self.assertIn("HTTP 503", d.log())

    def test_es_refused_policy_is_logged_and_delivery_goes_on(self):
        es = self.server()
        policy = {"policy": {"phases": {"lukewarm": {"actions": {}}}}}
        d = self.saker(es, ilm_policy={"name": "odd", "body_file": self.write_json("ilm.json", policy)})
        d.post(self.samples[:2])
        self.wait_docs(es, 2)
        self.assertEqual(d.metric("saker_es_setup_total", sink="es", object="ilm_policy", result="refused"), 1)
        self.assertIn("Timeseries lifecycle does not support phase [lukewarm]", d.log())
        self.assertNotIn("odd", es.ilm_policies)

    def test_opensearch_ism_policy_that_exists_is_left_as_it_is(self):
        es = self.server()
        existing = {"description": "set by the operator", "states": []}
        es.ism_policies["falco"] = {"policy": existing, "_seq_no": 7}
        policy = {"policy": {"description": "saker's", "default_state": "hot", "states": []}}
        d = self.saker(es, ism_policy={"name": "falco", "body_file": self.write_json("ism.json", policy)})
        d.post(self.samples[:2])
        self.wait_docs(es, 2)
        self.assertEqual(es.received()[0].path, "/_plugins/_ism/policies/falco")
        self.assertEqual(es.ism_policies["falco"]["policy"], existing)
        self.assertEqual(d.metric("saker_es_setup_total", sink="es", object="ism_policy", result="exists"), 1)
        # a new name is created
        es2 = self.server()
        d2 = self.saker(es2, ism_policy={"name": "falco", "body_file": self.write_json("ism.json", policy)})
        d2.post(self.samples[:1])
        self.wait_docs(es2, 1)
        self.assertEqual(es2.ism_policies["falco"]["policy"], policy["policy"])
        self.assertEqual(d2.metric("saker_es_setup_total", sink="es", object="ism_policy", result="installed"), 1)

    def test_es_batch_wait_gathers_alerts_posted_apart_into_one_bulk(self):
        es = self.server()
        d = self.saker(es, batch_size=10, batch_wait="3s")
        for i in range(3):  # 3 + 3 + 4 alerts, 150 ms apart: one batch once the tenth arrives
            d.post(self.samples[i * 3:i * 3 + (3 if i < 2 else 4)])
            time.sleep(0.15)
        self.wait_docs(es, 10)
        self.assertEqual(len(es.bulk_requests()), 1)
        # Without batch_wait each POST's alerts go out as they come.
        es2 = self.server()
        d2 = self.saker(es2, batch_size=10)
        for i in range(3):
            d2.post(self.samples[i * 3:i * 3 + 3])
            wait_for(lambda: len(es2.docs()) == (i + 1) * 3, 10, f"{(i + 1) * 3} documents")
        self.assertEqual(len(es2.bulk_requests()), 3)

    def test_es_batch_wait_sends_a_partial_batch_when_the_wait_is_over(self):
        es = self.server()
        d = self.saker(es, batch_size=1000, batch_wait="400ms")
        d.post(self.samples[:2])
        start = time.time()
        self.wait_docs(es, 2)
        self.assertLess(time.time() - start, 5)
        self.assertEqual(len(es.bulk_requests()), 1)

    def test_es_unreachable_first_url_fails_over_to_the_next(self):
        es = self.server()
        dead_url = f"http://127.0.0.1:{free_port()}"
        d = self.saker([dead_url, es.url])
        d.post(self.samples)
        self.wait_docs(es, 10)
        self.assertGreaterEqual(d.metric("saker_http_requests_total", sink="es", status="refused"), 1)
        self.assertIn("connection refused or unreachable", d.log())
        self.assertIn("trying the next url", d.log())

    def test_es_tls_with_ca_mtls_server_name_and_a_wrong_ca(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        pki = make_test_pki(tmp)
        es = self.server(tls=server_tls_context(pki, require_client_cert=True))
        ok = self.saker(es, tls={"ca": pki["ca.pem"], "cert": pki["client.pem"], "key": pki["client.key"],
                                 "server_name": "siem.test"})
        ok.post(self.samples[:2])
        self.wait_docs(es, 2)
        wrong = {"name": "es2", "type": "elasticsearch", "url": es.url, "format": "json", "timeout": "2s",
                 "retry": FAST_RETRY, "tls": {"ca": pki["other-ca.pem"], "cert": pki["client.pem"], "key": pki["client.key"]}}
        bad = SinkDaemon(wrong)
        self.daemons.append(bad)
        bad.post(self.samples[2:4])
        wait_for(lambda: bad.metric("saker_http_requests_total", sink="es2", status="tls") >= 1, 10, "tls error")
        self.assertIn("TLS handshake failed; check tls.ca", bad.log())
        self.assertEqual(len(es.docs()), 2)
        self.assertTrue(bad.alive())


class EsBulkServerSelfTest(unittest.TestCase):
    """The test server itself refuses what Elasticsearch refuses, so saker passing through it means something."""

    def setUp(self):
        self.es = EsBulkServer().start()
        self.addCleanup(self.es.stop)

    def bulk(self, body, ctype="application/x-ndjson", path="/_bulk"):
        from harness import http_request
        status, _, data = http_request(self.es.port, "POST", path, body=body, headers={"Content-Type": ctype})
        return status, json.loads(data) if data else None

    def test_es_server_framing_rules(self):
        status, doc = self.bulk(b'{"index":{"_index":"a","_id":"1"}}\n{"x":1}')
        self.assertEqual((status, doc["error"]["reason"]), (400, "The bulk request must be terminated by a newline [\\n]"))
        status, doc = self.bulk(b'{"upsert":{"_index":"a"}}\n{}\n')
        self.assertEqual(status, 400)
        self.assertIn("expected field [create], [delete], [index] or [update] but found [upsert]", doc["error"]["reason"])
        status, doc = self.bulk(b'{"index":{"_index":"a","colour":"x"}}\n{}\n')
        self.assertIn("contains an unknown parameter [colour]", doc["error"]["reason"])
        status, doc = self.bulk(b'{"index":{"_id":"1"}}\n{}\n')
        self.assertEqual(doc["error"]["type"], "action_request_validation_exception")
        status, doc = self.bulk(b'{"index":{"_index":"a"}}\n{}\n', ctype="text/plain")
        self.assertEqual(status, 406)
        status, doc = self.bulk(b'{"index":{"_index":"a"}}\n{}\n', ctype="application/json")
        self.assertEqual(status, 200, "Elasticsearch also takes application/json")

    def test_es_server_item_semantics(self):
        body = (b'{"create":{"_index":"a","_id":"1"}}\n{"x":1}\n{"create":{"_index":"a","_id":"1"}}\n{"x":2}\n'
                b'{"index":{"_index":"a","_id":"1"}}\n{"x":3}\n{"delete":{"_index":"a","_id":"1"}}\n'
                b'{"index":{"_index":"B","_id":"2"}}\n{"x":1}\n{"index":{"_index":"a","_id":"3"}}\n[1]\n')
        status, doc = self.bulk(body)
        self.assertEqual(status, 200)
        self.assertTrue(doc["errors"])
        got = [(next(iter(i)), next(iter(i.values()))["status"]) for i in doc["items"]]
        self.assertEqual(got, [("create", 201), ("create", 409), ("index", 200), ("delete", 200), ("index", 400),
                               ("index", 400)])
        self.assertEqual(doc["items"][1]["create"]["error"]["type"], "version_conflict_engine_exception")
        self.assertEqual(doc["items"][4]["index"]["error"]["type"], "invalid_index_name_exception")
        self.assertEqual(doc["items"][5]["index"]["error"]["type"], "mapper_parsing_exception")


if __name__ == "__main__":
    unittest.main()
