"""Stages after decode, through the real binary: added fields reach the sinks and survive the disk buffer across
kill -9, the dead-letter file and `saker dlq replay`, and `saker replay`; a reload under load refuses and loses
nothing and never closes the listener."""
import json
import os
import signal
import socket
import subprocess
import threading
import time
import unittest

from harness import BINARY, Daemon, free_port, http_request, metric, post_json, read_lines, wait_for
from sink_servers import WebhookServer

ENRICH = """enrich:
  fields:
    static: {env: prod, cluster: eu-1, replicas: 3}
    templated: {summary: "{rule} on {hostname} by {user.name}"}
    tags: [pci]
  mitre: true
"""


def alert(uid, priority="Error"):
    return json.dumps({"uuid": uid, "rule": "Terminal shell in container", "priority": priority,
                       "output": f"shell {uid} \"quoted\" ]", "time": "2024-08-28T21:35:04.518808525Z",
                       "hostname": "node-1", "source": "syscall", "tags": ["T1059", "mitre_execution", "container"],
                       "output_fields": {"proc.name": "sh", "user.name": "root"}})


def expect_enriched(test, a):
    of = a["output_fields"]
    test.assertEqual(of["env"], "prod")
    test.assertEqual(of["cluster"], "eu-1")
    test.assertEqual(of["replicas"], 3)
    test.assertEqual(of["summary"], "Terminal shell in container on node-1 by root")
    test.assertEqual(of["threat.technique.id"], ["T1059"])
    test.assertEqual(of["threat.tactic.id"], ["TA0002"])
    test.assertEqual(of["threat.tactic.name"], ["Execution"])
    test.assertEqual(a["tags"], ["T1059", "mitre_execution", "container", "pci"])
    test.assertNotIn("_saker", a)


def closed_port():
    return free_port()  # nothing listens there: a sink pointed at it is down


def hook_sink(url, fmt, extra):
    fmt_key = f" format: {fmt}," if fmt != "json" else ""
    return f"  - {{name: hook, type: webhook, url: \"{url}\",{fmt_key} {extra}}}\n"


def survive_kill_9(test, d, port, ids, fmt, check, uid_of, extra_sinks="", while_up=None):
    """Posts `ids` with the stages on while the webhook is down (its disk buffer keeps them), kills saker -9, restarts
    it without any stage and a webhook that answers: every alert arrives once, and check() holds for each."""
    def config(url, enrich):
        return (f"data_dir: {d.workdir}/data\n{ENRICH if enrich else ''}"
                f"sources: [{{type: http, listen: \"127.0.0.1:{port}\"}}]\nsinks:\n{extra_sinks}" +
                hook_sink(url, fmt, "batch_format: single, retry: {initial: 20ms, max: 100ms},\n"
                                    "      buffer: {type: disk, fsync: always}"))
    d.write_config(config(f"http://127.0.0.1:{closed_port()}/alerts", True))
    d.start(wait_port=port)
    status, _, body = post_json(port, "\n".join(alert(u) for u in ids))
    test.assertEqual(status, 200, body)
    if while_up:
        while_up()
    wait_for(lambda: metric(port, "saker_buffer_disk_bytes", {"sink": "hook"}) > 0 and
             metric(port, "saker_sink_queued", {"sink": "hook"}) == len(ids), 10,
             f"{len(ids)} alerts in the disk buffer")
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait()
    d.stop()
    # Restart without any stage: whatever is added now came from the disk buffer.
    hook = WebhookServer().start()
    try:
        d.write_config(config(hook.url + "/alerts", False))
        d.start(wait_port=port)
        got = wait_for(lambda: len(hook.received("/alerts")) >= len(ids) and hook.received("/alerts"), 20,
                       "the buffered alerts delivered")
        seen = set()
        for req in got:
            record = req.json()
            check(record)
            seen.add(uid_of(record))
        test.assertEqual(seen, set(ids))
    finally:
        hook.stop()


def survive_dlq_replay(test, d, port, uid, fmt, in_dead_letter, check, uid_of):
    """An alert the webhook refuses (400) with the stages on is dead-lettered with what they added (in_dead_letter
    is in its record); `saker dlq replay` under a config without stages re-sends it, and check() holds for it."""
    hook = WebhookServer().start()
    try:
        def config(enrich):
            return (f"data_dir: {d.workdir}/data\n{ENRICH if enrich else ''}"
                    f"sources: [{{type: http, listen: \"127.0.0.1:{port}\"}}]\nsinks:\n" +
                    hook_sink(hook.url + "/alerts", fmt, "batch_format: single, batch_size: 1"))
        d.write_config(config(True))
        d.start(wait_port=port)
        hook.fail_requests(400)
        test.assertEqual(post_json(port, alert(uid))[0], 200)
        dlq = os.path.join(d.workdir, "data", "dead_letter", "hook.ndjson")
        lines = wait_for(lambda: read_lines(dlq), 10, "a dead letter")
        test.assertIn(in_dead_letter, lines[0])
        d.stop()
        d.write_config(config(False))
        r = subprocess.run([BINARY, "dlq", "replay", "-c", d.config_path, "hook"], capture_output=True, text=True,
                           timeout=60)
        test.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        test.assertIn("1 dead letters read, 1 re-sent", r.stdout)
        record = hook.received("/alerts")[-1].json()
        test.assertEqual(uid_of(record), uid)
        check(record)
    finally:
        hook.stop()


class AddedFieldsTest(unittest.TestCase):
    def test_added_fields_reach_a_json_sink(self):
        port = free_port()
        d = Daemon("")
        try:
            out = os.path.join(d.workdir, "out.ndjson")
            d.write_config(f"""data_dir: {d.workdir}/data
{ENRICH}sources: [{{type: http, listen: "127.0.0.1:{port}"}}]
sinks:
  - {{name: out, type: file, path: {out}, filter: 'env = prod and threat.tactic.id intersects (TA0002) and tags contains pci'}}
""")
            d.start(wait_port=port)
            status, _, body = post_json(port, alert("a-1") + "\n" + alert("a-2"))
            self.assertEqual(status, 200, body)
            lines = wait_for(lambda: len(read_lines(out)) == 2 and read_lines(out), 10, "two enriched alerts")
            for line in lines:
                expect_enriched(self, json.loads(line))
            self.assertEqual(metric(port, "saker_enrich_hits_total", {"stage": "mitre"}), 2)
        finally:
            d.cleanup()

    def test_added_fields_reach_every_format(self):
        port = free_port()
        d = Daemon("")
        try:
            paths = {f: os.path.join(d.workdir, f"{f}.out") for f in ("json", "ecs", "ocsf", "cef", "leef")}
            sinks = "\n".join(f"  - {{name: {f}, type: file, path: {p}, format: {f}}}" for f, p in paths.items())
            d.write_config(f"data_dir: {d.workdir}/data\n{ENRICH}sources: [{{type: http, listen: \"127.0.0.1:{port}\"}}]\n"
                           f"sinks:\n{sinks}\n")
            d.start(wait_port=port)
            self.assertEqual(post_json(port, alert("f-1"))[0], 200)
            out = {f: wait_for(lambda p=p: read_lines(p), 10, f"the {f} record")[0] for f, p in paths.items()}
            expect_enriched(self, json.loads(out["json"]))
            ecs = json.loads(out["ecs"])
            self.assertEqual(ecs["labels"]["env"], "prod")
            self.assertEqual(ecs["labels"]["replicas"], "3")
            self.assertEqual(ecs["threat"]["tactic"]["id"], ["TA0002"])
            self.assertIn("pci", ecs["tags"])
            ocsf = json.loads(out["ocsf"])
            self.assertIn({"name": "env", "value": "prod", "data": {"env": "prod"}, "provider": "saker config",
                           "type": "Custom Field"}, ocsf["enrichments"])
            self.assertEqual(ocsf["finding_info"]["attacks"][0]["tactic"]["uid"], "TA0002")
            self.assertIn("sakerEnv=prod", out["cef"])
            self.assertIn("sakerThreatTacticId=TA0002", out["cef"])
            self.assertIn("saker.env=prod", out["leef"])
        finally:
            d.cleanup()

    def test_added_fields_survive_the_disk_buffer_across_kill_9(self):
        d = Daemon("")
        try:
            survive_kill_9(self, d, free_port(), [f"k-{i}" for i in range(200)], "json",
                           lambda a: expect_enriched(self, a), lambda a: a["uuid"])
        finally:
            d.cleanup()

    def test_added_fields_survive_dead_letters_and_dlq_replay(self):
        d = Daemon("")
        try:
            # The persisted form keeps what was added apart from Falco's.
            survive_dlq_replay(self, d, free_port(), "dl-1", "json", '"_saker":', lambda a: expect_enriched(self, a),
                               lambda a: a["uuid"])
        finally:
            d.cleanup()

    def test_replay_enriches_and_reads_persisted_alerts_back(self):
        d = Daemon("")
        try:
            out = os.path.join(d.workdir, "out.ndjson")
            recorded = os.path.join(d.workdir, "recorded.ndjson")
            with open(recorded, "w") as f:
                f.write(alert("r-1") + "\n" + alert("r-2") + "\n")
            d.write_config(f"""data_dir: {d.workdir}/data
{ENRICH}sinks:
  - {{name: out, type: file, path: {out}}}
""")
            r = subprocess.run([BINARY, "replay", "-c", d.config_path, recorded], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            lines = read_lines(out)
            self.assertEqual(len(lines), 2)
            for line in lines:
                expect_enriched(self, json.loads(line))
        finally:
            d.cleanup()


# OCSF's Enrichment provider and type of each field ENRICH adds, by the stage that added it.
FIELDS_ORIGIN = {"provider": "saker config", "type": "Custom Field"}
MITRE_ORIGIN = {"provider": "Falco rule tags", "type": "MITRE ATT&CK"}
EXPECTED_ORIGINS = {"env": FIELDS_ORIGIN, "cluster": FIELDS_ORIGIN, "replicas": FIELDS_ORIGIN,
                    "summary": FIELDS_ORIGIN, "threat.technique.id": MITRE_ORIGIN, "threat.tactic.id": MITRE_ORIGIN,
                    "threat.tactic.name": MITRE_ORIGIN}


def expect_origins(test, finding):
    got = {e["name"]: {"provider": e.get("provider"), "type": e.get("type")} for e in finding["enrichments"]}
    test.assertEqual(got, EXPECTED_ORIGINS)
    test.assertIn({"name": "env", "value": "prod", "data": {"env": "prod"}, **FIELDS_ORIGIN}, finding["enrichments"])


class StageOfAddedFieldsTest(unittest.TestCase):
    """The stage that added each field reaches OCSF's enrichments as provider and type, also when the alert comes
    back from the disk buffer or the dead-letter file into a config that has no stages."""

    def test_ocsf_names_the_stage_of_each_field_after_the_disk_buffer_and_a_restart_without_stages(self):
        d = Daemon("")
        try:
            lake = os.path.join(d.workdir, "lake.ocsf")

            def through_a_disk_buffer_with_the_stages():
                lines = wait_for(lambda: len(read_lines(lake)) == 20 and read_lines(lake), 10, "20 OCSF findings")
                for line in lines:
                    expect_origins(self, json.loads(line))

            # Restarted without any stage: provider and type come from what the disk buffer kept.
            survive_kill_9(self, d, free_port(), [f"o-{i}" for i in range(20)], "ocsf",
                           lambda f: expect_origins(self, f), lambda f: f["finding_info"]["uid"],
                           extra_sinks=f"  - {{name: lake, type: file, path: {lake}, format: ocsf, buffer: {{type: disk}}}}\n",
                           while_up=through_a_disk_buffer_with_the_stages)
        finally:
            d.cleanup()

    def test_ocsf_names_the_stage_of_each_field_after_dlq_replay_without_stages(self):
        d = Daemon("")
        try:
            survive_dlq_replay(self, d, free_port(), "dq-1", "ocsf", '"stages":[["fields",4],["mitre",3]]',
                               lambda f: expect_origins(self, f), lambda f: f["finding_info"]["uid"])
        finally:
            d.cleanup()


class ReplayClockTest(unittest.TestCase):
    def test_replay_stamps_alerts_without_time_from_event_time_the_same_every_run(self):
        d = Daemon("")
        try:
            recorded = os.path.join(d.workdir, "recorded.ndjson")
            with open(recorded, "w") as f:
                f.write(json.dumps({"rule": "first", "priority": "Error", "time": "2024-05-07T18:54:19.5Z"}) + "\n")
                f.write(json.dumps({"rule": "no time", "priority": "Error", "output": "x"}) + "\n")
                f.write(json.dumps({"rule": "later", "priority": "Error", "time": "2024-05-07T18:55:00Z"}) + "\n")
            outs = []
            for run in range(2):
                out = os.path.join(d.workdir, f"out{run}.ndjson")
                d.write_config(f"data_dir: {d.workdir}/data\nsinks:\n  - {{name: out, type: file, path: {out}, format: ecs}}\n")
                r = subprocess.run([BINARY, "replay", "-c", d.config_path, recorded], capture_output=True, text=True,
                                   timeout=60)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                outs.append(read_lines(out))
            self.assertEqual(outs[0], outs[1])
            # The alert without a time arrived, in event time, when the one before it happened.
            self.assertEqual(json.loads(outs[0][1])["@timestamp"], "2024-05-07T18:54:19.500Z")
        finally:
            d.cleanup()


class OperationsTest(unittest.TestCase):
    def test_test_alert_probes_reload_endpoint_and_refusal_log(self):
        port = free_port()
        d = Daemon("")
        try:
            out = os.path.join(d.workdir, "out.ndjson")
            d.write_config(f"""data_dir: {d.workdir}/data
sources: [{{type: http, listen: "127.0.0.1:{port}", token: s3cret, reload_endpoint: true}}]
sinks:
  - {{name: out, type: file, path: {out}, min_priority: critical, filter: 'proc.name = nothing'}}
""")
            d.start(wait_port=port)
            auth = {"Authorization": "Bearer s3cret"}
            # POST /test reaches a sink whose route would take nothing of it, marked as a test.
            status, _, body = http_request(port, "POST", "/test", headers=auth)
            self.assertEqual(status, 200, body)
            line = wait_for(lambda: read_lines(out), 10, "the test alert")[0]
            a = json.loads(line)
            self.assertEqual(a["rule"], "Test rule")
            self.assertIs(a["output_fields"]["saker.test"], True)
            # Probes need no token; /healthz keeps falcosidekick's answer.
            self.assertEqual(http_request(port, "GET", "/livez")[0], 200)
            status, _, body = http_request(port, "GET", "/readyz")
            self.assertEqual(status, 200)
            self.assertTrue(json.loads(body)["ready"])
            status, _, body = http_request(port, "GET", "/healthz")
            self.assertEqual((status, json.loads(body)["status"]), (200, "ok"))
            # Five refusals for one reason: one log line, with the client's address.
            # (At the sink's min_priority: below every floor it would be dropped unparsed, see docs/design.md.)
            bad = json.dumps({"rule": "r", "priority": "Critical", "time": "9999-12-31T23:59:59Z"})
            for _ in range(5):
                status, _, _ = post_json(port, bad, headers=auth)
                self.assertEqual(status, 400)
            lines = [l for l in d.log().splitlines() if "refused an alert from 127.0.0.1:" in l]
            self.assertEqual(len(lines), 1, lines)
            self.assertIn("bad_time", lines[0])
            # POST /-/reload: behind the token, then the same path as SIGHUP.
            self.assertEqual(http_request(port, "POST", "/-/reload")[0], 401)
            status, _, body = http_request(port, "POST", "/-/reload", headers=auth)
            self.assertEqual(status, 202, body)
            wait_for(lambda: "SIGHUP: reloading" in d.log(), 10, "the reload")
        finally:
            d.cleanup()


class ReloadUnderLoadTest(unittest.TestCase):
    SECONDS = 20
    SENDERS = 4

    def test_reload_every_2s_refuses_and_loses_nothing(self):
        port = free_port()
        d = Daemon("")
        down_port = closed_port()  # the sink is down until its receiver starts at the end
        hook = None
        try:
            all_path = os.path.join(d.workdir, "all.ndjson")
            side_path = os.path.join(d.workdir, "side.ndjson")

            def config(step):
                # Sinks and routes added, changed and removed from one config to the next; the source never changes.
                batch = (256, 64, 1024)[step % 3]
                side = f"  - {{name: side, type: file, path: {side_path}, min_priority: {('warning', 'error')[step % 2]}}}\n" \
                    if step % 3 != 2 else ""
                enrich = ENRICH if step % 2 else ""
                return f"""data_dir: {d.workdir}/data
shutdown_grace: 5s
{enrich}sources: [{{type: http, listen: "127.0.0.1:{port}"}}]
sinks:
  - {{name: all, type: file, path: {all_path}, batch_size: {batch}}}
  - {{name: down, type: webhook, url: "http://127.0.0.1:{down_port}/alerts", batch_format: ndjson,
      retry: {{initial: 50ms, max: {(200, 300)[step % 2]}ms}}, buffer: {{type: disk, max_bytes: 512MiB}}}}
{side}"""
            d.write_config(config(0))
            d.start(wait_port=port)

            stop = threading.Event()
            sent, refused, errors = [], [], []
            lock = threading.Lock()

            def sender(n):
                seq = 0
                conn = None
                while not stop.is_set():
                    ids = [f"s{n}-{seq + i}" for i in range(20)]
                    seq += 20
                    body = "\n".join(alert(u) for u in ids)
                    try:
                        status, _, data = post_json(port, body)
                    except OSError as e:
                        with lock:
                            errors.append(repr(e))
                        continue
                    with lock:
                        if status == 200:
                            sent.extend(ids)
                        else:
                            refused.append((status, data))
                    time.sleep(0.005)

            threads = [threading.Thread(target=sender, args=(i,), daemon=True) for i in range(self.SENDERS)]
            for t in threads:
                t.start()
            step = 0
            deadline = time.time() + self.SECONDS
            while time.time() < deadline:
                time.sleep(2)
                step += 1
                d.write_config(config(step))
                d.signal(signal.SIGHUP)
                wait_for(lambda: d.log().count("SIGHUP: reloading") >= step, 10, f"reload {step}")
            stop.set()
            for t in threads:
                t.join(30)
            self.assertEqual(errors, [], "the listener refused or reset connections during reloads")
            self.assertEqual(refused, [], "POSTs were refused during reloads")
            self.assertGreater(len(sent), 1000)
            log = d.log()
            self.assertNotIn("could not start", log)
            # The reloads did change things: a sink added, changed and removed, stages switched on and off.
            for what in ("sink side added", "sink side removed", "sink all changed", "sink down changed", "stage(s) now"):
                self.assertIn(what, log)
            self.assertNotIn("source http stopped", log)
            print(f"\n  reload under load: {len(sent)} alerts in {step} reloads, 0 refused", flush=True)
            want = set(sent)
            wait_for(lambda: len(read_lines(all_path)) >= len(want), 30, "every alert in the always-present sink")
            got = [json.loads(line)["uuid"] for line in read_lines(all_path)]
            self.assertEqual(set(got), want)
            # The down sink held everything; once its receiver is up, everything arrives.
            hook = WebhookServer(port=down_port).start()

            def delivered():
                ids = set()
                for req in hook.received("/alerts"):
                    for line in req.body.decode().split("\n"):
                        if line:
                            ids.add(json.loads(line)["uuid"])
                return ids
            wait_for(lambda: delivered() >= want, 120, "the down sink's backlog delivered")
            self.assertEqual(delivered(), want)
        finally:
            stop_flag = locals().get("stop")
            if stop_flag:
                stop_flag.set()
            d.cleanup()
            if hook:
                hook.stop()


if __name__ == "__main__":
    unittest.main()
