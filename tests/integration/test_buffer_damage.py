"""A damaged disk buffer costs only what is damaged, through the real binary: flipped bytes (length fields
included) and truncated segments found at start-up or while running, and a broken cursor. Every other
acknowledged alert is delivered (compared by uuid); each damaged record is counted once and kept, as raw bytes
with the reason, in the sink's dead-letter file."""
import base64
import json
import os
import random
import re
import struct
import subprocess
import unittest

from harness import BINARY, Daemon, free_port, metric, post_json, wait_for
from sink_servers import WebhookServer

ALERTS = 25_000
UUID = re.compile(rb"dmg-\d{6}")


def alert(i):
    return json.dumps({"uuid": f"dmg-{i:06d}", "rule": "Write below etc", "priority": "Error",
                       "output": f"disk buffer damage test {i} " + "x" * (i % 200), "hostname": "node-1",
                       "time": "2024-05-07T18:54:19.341081180Z",
                       "output_fields": {"proc.name": "vi", "fd.name": f"/etc/file-{i}"}})


class Record:
    def __init__(self, seg, off, end, uuid):
        self.seg, self.off, self.end, self.uuid = seg, off, end, uuid


def read_records(buffer_dir):
    """Every record of an intact log, in order, read by the framing alone: [u32 length][u32 CRC][payload]."""
    out = []
    for name in sorted(n for n in os.listdir(buffer_dir) if n.endswith(".wal")):
        path = os.path.join(buffer_dir, name)
        with open(path, "rb") as f:
            data = f.read()
        off = 0
        while off + 8 <= len(data):
            (length,) = struct.unpack_from("<I", data, off)
            m = UUID.search(data, off + 8, off + 8 + length)
            out.append(Record(path, off, off + 8 + length, m.group().decode()))
            off += 8 + length
    return out


def flip(path, at, rng):
    with open(path, "r+b") as f:
        f.seek(at)
        old = f.read(1)[0]
        f.seek(at)
        f.write(bytes([old ^ rng.randint(1, 255)]))


def pick_apart(rng, candidates, n, taken):
    """n records from candidates, none next to another damaged one (so each is its own damaged part)."""
    picked = []
    pool = list(candidates)
    rng.shuffle(pool)
    for i in pool:
        if len(picked) == n:
            break
        if not ({i - 1, i, i + 1} & taken):
            picked.append(i)
            taken.add(i)
    return picked


class BufferDamageTest(unittest.TestCase):
    def setUp(self):
        self.d = Daemon("")
        self.hook = None
        self.hook_port, self.http_port = free_port(), free_port()
        self.buffers = os.path.join(self.d.workdir, "data", "buffers", "hook")
        self.dead_letters = os.path.join(self.d.workdir, "data", "dead_letter", "hook.ndjson")
        self.d.write_config(f"""
data_dir: {self.d.workdir}/data
shutdown_grace: 1s
sources:
  - {{type: http, listen: "127.0.0.1:{self.http_port}"}}
sinks:
  - name: hook
    type: webhook
    url: http://127.0.0.1:{self.hook_port}/alerts
    batch_format: ndjson
    batch_size: 500
    retry: {{initial: 20ms, max: 200ms}}
    buffer: {{type: disk, segment_bytes: 1MiB}}
""")

    def tearDown(self):
        self.d.stop()
        if self.hook:
            self.hook.stop()
        self.d.cleanup()

    def fill(self):
        """ALERTS acknowledged alerts in the disk buffer of a sink that is down; the daemon keeps running."""
        self.d.start(wait_port=self.http_port)
        for start in range(0, ALERTS, 500):
            body = "\n".join(alert(i) for i in range(start, start + 500))
            self.assertEqual(post_json(self.http_port, body)[0], 200)
        wait_for(lambda: metric(self.http_port, "saker_sink_queued", {"sink": "hook"}) == ALERTS, 10, "all queued")
        return {f"dmg-{i:06d}" for i in range(ALERTS)}

    def restart(self):
        self.d.stop()
        self.d.start(wait_port=self.http_port)

    def sink_up(self):
        self.hook = WebhookServer(port=self.hook_port).start()

    def delivered(self):
        ids = set()
        for req in self.hook.received("/alerts"):
            ids.update(json.loads(line)["uuid"] for line in req.body.decode().splitlines() if line)
        return ids

    def wait_delivered(self, expected):
        try:
            wait_for(lambda: expected <= self.delivered(), 120, "every undamaged alert at the receiver")
            wait_for(lambda: metric(self.http_port, "saker_sink_queued", {"sink": "hook"}) == 0, 30, "an empty queue")
        except AssertionError:
            missing = sorted(expected - self.delivered())
            raise AssertionError(f"{len(missing)} undamaged alerts missing, e.g. {missing[:5]}\n{self.d.log()[-3000:]}")
        return self.delivered()

    def raw_dead_letters(self):
        out = []
        if os.path.exists(self.dead_letters):
            with open(self.dead_letters, encoding="utf-8") as f:
                for line in f:
                    doc = json.loads(line)
                    if "raw" in doc:
                        self.assertIn("disk buffer:", doc["reason"])
                        out.append(base64.b64decode(doc["raw"]))
        return out

    def corrupt_records(self):
        return metric(self.http_port, "saker_buffer_corrupt_records_total", {"sink": "hook"})

    def test_flipped_bytes_at_start_up_cost_only_their_records(self):
        seed = 20240507
        rng = random.Random(seed)
        everything = self.fill()
        self.d.stop()
        recs = read_records(self.buffers)
        self.assertEqual(len(recs), ALERTS)
        segs = sorted({r.seg for r in recs})
        self.assertGreaterEqual(len(segs), 6, "the test needs several segments")
        by_seg = {s: [i for i, r in enumerate(recs) if r.seg == s] for s in segs}
        taken, damaged = set(), []
        # The reported case: the byte at 524367 of segment 5.
        seg5 = os.path.join(self.buffers, "0000000000000005.wal")
        damaged.append((next(i for i in by_seg[seg5] if recs[i].off <= 524367 < recs[i].end), 524367))
        taken.add(damaged[0][0])
        # The last record of the newest segment, and random records of every segment: in length fields, CRC fields
        # and payloads.
        last = by_seg[segs[-1]][-1]
        taken.add(last)
        damaged.append((last, recs[last].off + 8 + rng.randrange(recs[last].end - recs[last].off - 8)))
        for s in segs:
            for k, i in enumerate(pick_apart(rng, by_seg[s], 6, taken)):
                r = recs[i]
                at = r.off + rng.randrange(4) if k < 2 else r.off + 4 + rng.randrange(4) if k == 2 else \
                    r.off + rng.randrange(r.end - r.off)
                damaged.append((i, at))
        for i, at in damaged:
            flip(recs[i].seg, at, rng)
        lost = {recs[i].uuid for i, _ in damaged}
        newest_size = os.path.getsize(segs[-1])
        print(f"\n  seed {seed}: {len(lost)} flipped records in {len(segs)} segments of {ALERTS} alerts")

        self.sink_up()
        self.restart()
        got = self.wait_delivered(everything - lost)
        self.assertEqual(got & lost, set(), "a damaged record was delivered")
        self.assertEqual(got, everything - lost)
        self.assertEqual(self.corrupt_records(), len(lost))
        self.assertEqual(os.path.getsize(segs[-1]), newest_size, "the newest segment was cut")
        self.assertNotIn("cut off", self.d.log())
        raw = self.raw_dead_letters()
        self.assertEqual(len(raw), len(lost))
        self.assertEqual({UUID.search(b).group().decode() for b in raw if UUID.search(b)} - lost, set())

        # `saker dlq replay` reports the raw records instead of failing on them.
        self.d.stop()
        r = subprocess.run([BINARY, "dlq", "replay", "-c", self.d.config_path, "hook"], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"{len(lost)} raw records from a damaged disk buffer", r.stdout)
        self.assertIn("0 unreadable", r.stdout)

    def test_truncated_segments_lose_only_what_was_cut(self):
        seed = 1848
        rng = random.Random(seed)
        everything = self.fill()
        self.d.stop()
        recs = read_records(self.buffers)
        segs = sorted({r.seg for r in recs})
        cut_segs = rng.sample(segs[:-1], 3) + [segs[-1]]
        cuts = {s: rng.randrange(os.path.getsize(s)) for s in cut_segs}
        for s, at in cuts.items():
            os.truncate(s, at)
        lost = {r.uuid for r in recs if r.seg in cuts and r.end > cuts[r.seg]}
        torn = sum(1 for r in recs if r.seg in cuts and r.off < cuts[r.seg] < r.end)
        newest_end = max([r.end for r in recs if r.seg == segs[-1] and r.end <= cuts[segs[-1]]], default=0)
        print(f"\n  seed {seed}: cut {len(cuts)} segments, {len(lost)} alerts cut off")

        self.sink_up()
        self.restart()
        got = self.wait_delivered(everything - lost)
        self.assertEqual(got, everything - lost)
        self.assertEqual(self.corrupt_records(), torn)
        self.assertEqual(len(self.raw_dead_letters()), torn)
        # Only the newest segment's torn tail is cut; new alerts go after its last complete record.
        self.assertEqual(os.path.getsize(segs[-1]), newest_end)
        self.assertEqual(post_json(self.http_port, alert(ALERTS + 1))[0], 200)
        wait_for(lambda: f"dmg-{ALERTS + 1:06d}" in self.delivered(), 30, "a new alert after the cut")

    def test_damage_while_running_costs_one_record_each(self):
        seed = 77
        rng = random.Random(seed)
        everything = self.fill()
        # The daemon runs, the sink is still down: damage records in segments the reader has not reached yet.
        recs = read_records(self.buffers)
        segs = sorted({r.seg for r in recs})
        taken, damaged = set(), []
        for s in segs[2:]:
            idx = [i for i, r in enumerate(recs) if r.seg == s]
            for k, i in enumerate(pick_apart(rng, idx, 4, taken)):
                r = recs[i]
                damaged.append((i, r.off + rng.randrange(4) if k < 2 else r.off + 8 + rng.randrange(r.end - r.off - 8)))
        for i, at in damaged:
            flip(recs[i].seg, at, rng)
        lost = {recs[i].uuid for i, _ in damaged}
        print(f"\n  seed {seed}: {len(lost)} records damaged under the running daemon")

        self.sink_up()
        got = self.wait_delivered(everything - lost)
        self.assertEqual(got, everything - lost)
        self.assertEqual(self.corrupt_records(), len(lost))
        self.assertEqual(len(self.raw_dead_letters()), len(lost))

    def damaged_cursor_keeps_every_segment(self, cursor):
        everything = self.fill()
        self.d.stop()
        segs = sorted(n for n in os.listdir(self.buffers) if n.endswith(".wal"))
        self.assertGreaterEqual(len(segs), 9)
        with open(os.path.join(self.buffers, "cursor"), "w", encoding="utf-8") as f:
            f.write(cursor)
        # Still down: the error is loud, every alert is back in the queue, and no segment is deleted.
        self.restart()
        self.assertIn(f"{ALERTS} alerts", wait_for(lambda: self.d.log() if "waiting in the disk buffer" in self.d.log()
                                                    else None, 10, "the recovery's log line"))
        self.assertIn("disk buffer cursor", self.d.log())
        self.assertEqual(metric(self.http_port, "saker_buffer_cursor_errors_total", {"sink": "hook"}), 1)
        self.assertEqual(sorted(n for n in os.listdir(self.buffers) if n.endswith(".wal")), segs)
        self.sink_up()
        self.assertEqual(self.wait_delivered(everything), everything)

    def test_a_cursor_past_the_newest_segment_keeps_every_segment(self):
        self.damaged_cursor_keeps_every_segment("9 0\n")

    def test_a_cursor_at_a_later_segment_keeps_the_older_ones(self):
        self.damaged_cursor_keeps_every_segment("5 0\n")

    def test_a_cursor_past_the_end_of_its_segment_keeps_every_segment(self):
        self.damaged_cursor_keeps_every_segment("1 999999999\n")

    def test_a_cursor_that_does_not_parse_keeps_every_segment(self):
        self.damaged_cursor_keeps_every_segment("not a cursor")


if __name__ == "__main__":
    unittest.main()
