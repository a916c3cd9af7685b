"""Poison alerts: a receiver rejects some alerts for good; they land in the dead-letter file with the reason, the
rest keep flowing, and `saker dlq replay` re-sends them once the receiver accepts them."""
import json
import os
import subprocess
import unittest

from fake_http import SinkDaemon
from harness import BINARY, wait_for
from sink_servers import WebhookServer


def alert(i):
    return {"uuid": f"p-{i}", "rule": "Write below etc", "priority": "Error", "output": f"poison test {i}",
            "output_fields": {"proc.name": "vi"}}


class DeadLetterTest(unittest.TestCase):
    def test_poison_alert_is_dead_lettered_without_blocking_and_replayed(self):
        hook = WebhookServer().start()
        d = SinkDaemon({"name": "hook", "type": "webhook", "url": hook.url + "/alerts", "batch_format": "single",
                        "batch_size": 1, "retry": {"initial": "20ms", "max": "100ms"}})
        try:
            d.post([alert(0)])
            wait_for(lambda: len(hook.received("/alerts")) == 1, 10, "the first alert")
            hook.fail_requests(400)  # the next alert is refused for good
            d.post([alert(i) for i in range(1, 21)])
            dead = wait_for(lambda: d.dead_letters("hook"), 10, "a dead letter")
            self.assertEqual(len(dead), 1)
            self.assertEqual(dead[0]["alert"]["uuid"], "p-1")
            self.assertIn("HTTP 400", dead[0]["reason"])
            # The queue did not stop at the poison alert: all the others arrived.
            wait_for(lambda: len(hook.received("/alerts")) == 21, 10, "the rest")
            self.assertEqual(d.metric("saker_sink_dead_letters_total", sink="hook"), 1)
            d.d.stop()
            # The receiver is fixed: replay the dead letters through the same sink.
            r = subprocess.run([BINARY, "dlq", "replay", "-c", d.d.config_path, "hook"], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("1 dead letters read, 1 re-sent, 0 rejected again", r.stdout)
            self.assertEqual(len(hook.received("/alerts")), 22)
            self.assertEqual(json.loads(hook.received("/alerts")[-1].body)["uuid"], "p-1")
            self.assertFalse(os.path.exists(os.path.join(d.workdir, "data", "dead_letter", "hook.ndjson")))
        finally:
            d.cleanup()
            hook.stop()
