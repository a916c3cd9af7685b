"""The assets stage through the real binary: the most specific inventory entry's attributes reach the sinks, a
reload picks up a changed inventory, and a bad new inventory leaves the running one in place."""
import json
import os
import signal
import unittest

from harness import Daemon, free_port, metric, post_json, read_lines, wait_for

INVENTORY = """- {match: {hostname: "payments-db-*"}, owner: payments-team, criticality: high}
- {match: {hostname: "payments-db-*", k8s.ns.name: payments}, owner: payments-dba, criticality: critical, pci: true}
- {match: {k8s.pod.labels: {app: billing}}, owner: billing-team, location: {dc: fra1, rack: 12}}
"""


def alert(uid, host, **fields):
    return json.dumps({"uuid": uid, "rule": "Terminal shell in container", "priority": "Warning", "output": "shell",
                       "hostname": host, "source": "syscall", "output_fields": fields})


class AssetsTest(unittest.TestCase):
    def test_the_most_specific_entry_reaches_the_sinks_and_a_reload_rereads_the_inventory(self):
        port = free_port()
        d = Daemon("")
        try:
            inv = os.path.join(d.workdir, "inventory.yaml")
            with open(inv, "w") as f:
                f.write(INVENTORY)
            out, ecs, critical = (os.path.join(d.workdir, n) for n in ("out.ndjson", "ecs.ndjson", "critical.ndjson"))
            d.write_config(f"""data_dir: {d.workdir}/data
enrich:
  assets: {{path: inventory.yaml}}
sources: [{{type: http, listen: "127.0.0.1:{port}"}}]
sinks:
  - {{name: out, type: file, path: {out}}}
  - {{name: ecs, type: file, path: {ecs}, format: ecs}}
  - {{name: critical, type: file, path: {critical}, filter: 'asset.criticality = critical'}}
""")
            d.start(wait_port=port)
            body = "\n".join([alert("a1", "payments-db-3"), alert("a2", "payments-db-3", **{"k8s.ns.name": "payments"}),
                              alert("a3", "web-1", **{"k8s.pod.labels": ["app:billing", "tier:db"]}),
                              alert("a4", "web-2")])
            self.assertEqual(post_json(port, body)[0], 200)
            lines = wait_for(lambda: len(read_lines(out)) == 4 and read_lines(out), 10, "four alerts")
            got = {a["uuid"]: a["output_fields"] for a in map(json.loads, lines)}
            self.assertEqual(got["a1"]["asset.owner"], "payments-team")
            self.assertEqual(got["a1"]["asset.criticality"], "high")
            self.assertEqual(got["a2"]["asset.owner"], "payments-dba")
            self.assertIs(got["a2"]["asset.pci"], True)
            self.assertEqual(got["a3"]["asset.location.dc"], "fra1")
            self.assertEqual(got["a3"]["asset.location.rack"], 12)
            self.assertNotIn("asset.owner", got["a4"])
            crit = wait_for(lambda: read_lines(critical), 10, "the critical alert")
            self.assertEqual([json.loads(l)["uuid"] for l in crit], ["a2"])
            ecs_lines = wait_for(lambda: len(read_lines(ecs)) == 4 and read_lines(ecs), 10, "four ECS documents")
            ecs_a2 = [e for e in map(json.loads, ecs_lines) if e["falco"]["uuid"] == "a2"][0]
            self.assertEqual(ecs_a2["labels"]["asset_owner"], "payments-dba")
            self.assertEqual(metric(port, "saker_enrich_table_entries", {"stage": "assets"}), 3)

            # The inventory changes; the config does not: a SIGHUP rebuilds the stage with the new content.
            with open(inv, "w") as f:
                f.write(INVENTORY.replace("payments-team", "payments-owners"))
            d.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: d.log().count("reloaded") >= 1, 10, "the reload")
            self.assertEqual(post_json(port, alert("b1", "payments-db-7"))[0], 200)
            lines = wait_for(lambda: len(read_lines(out)) == 5 and read_lines(out), 10, "the alert after the reload")
            self.assertEqual(json.loads(lines[-1])["output_fields"]["asset.owner"], "payments-owners")

            # A bad inventory is refused: the running one stays.
            with open(inv, "w") as f:
                f.write("- {owner: nobody}\n")
            d.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: "keeping the running config" in d.log(), 10, "the refused reload")
            self.assertIn("an entry needs a `match`", d.log())
            self.assertEqual(post_json(port, alert("c1", "payments-db-8"))[0], 200)
            lines = wait_for(lambda: len(read_lines(out)) == 6 and read_lines(out), 10, "the alert after the refusal")
            self.assertEqual(json.loads(lines[-1])["output_fields"]["asset.owner"], "payments-owners")
        finally:
            d.cleanup()

    def test_a_changed_inventory_reloads_without_a_signal(self):
        port = free_port()
        d = Daemon("")
        try:
            inv = os.path.join(d.workdir, "inventory.yaml")
            with open(inv, "w") as f:
                f.write(INVENTORY)
            out = os.path.join(d.workdir, "out.ndjson")
            d.write_config(f"""data_dir: {d.workdir}/data
enrich:
  assets: {{path: inventory.yaml}}
sources: [{{type: http, listen: "127.0.0.1:{port}"}}]
sinks:
  - {{name: out, type: file, path: {out}}}
""")
            d.start(wait_port=port)
            self.assertEqual(post_json(port, alert("w1", "payments-db-1"))[0], 200)
            wait_for(lambda: len(read_lines(out)) == 1, 10, "the first alert")
            # Replaced as editors and deploy tools do: a new file renamed over the old one.
            tmp = inv + ".new"
            with open(tmp, "w") as f:
                f.write(INVENTORY.replace("payments-team", "payments-renamed"))
            os.replace(tmp, inv)
            wait_for(lambda: "watch_files:" in d.log() and d.log().count("reloaded") >= 1, 10, "the reload on change")
            self.assertIn("inventory.yaml changed", d.log())
            self.assertEqual(post_json(port, alert("w2", "payments-db-1"))[0], 200)
            lines = wait_for(lambda: len(read_lines(out)) == 2 and read_lines(out), 10, "the alert after the change")
            self.assertEqual(json.loads(lines[0])["output_fields"]["asset.owner"], "payments-team")
            self.assertEqual(json.loads(lines[1])["output_fields"]["asset.owner"], "payments-renamed")
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
