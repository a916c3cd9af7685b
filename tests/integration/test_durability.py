"""Nothing lost: kill -9 at random points, a full disk, a slow sink — through the real binary."""
import json
import os
import random
import resource
import signal
import socket
import subprocess
import threading
import time
import unittest

from harness import BINARY, Daemon, free_port, http_request, metric, post_json, read_lines, wait_for


def alert(uid, priority="Error"):
    return json.dumps({"uuid": uid, "rule": "Write below etc", "priority": priority, "output": "durability " + uid,
                       "time": "2024-05-07T18:54:19.341081180Z", "hostname": "node-1",
                       "output_fields": {"proc.name": "vi", "fd.name": "/etc/x"}})


def uuids_in(path):
    out = []
    for line in read_lines(path):
        try:
            out.append(json.loads(line)["uuid"])
        except ValueError:
            pass  # a line torn by kill -9 in the middle of a write; its alert was not acknowledged by the sink
    return out


class KillNineTest(unittest.TestCase):
    ROUNDS = 20

    def test_every_acknowledged_alert_survives_kill_9(self):
        d = Daemon("")
        try:
            port = free_port()
            out = os.path.join(d.workdir, "out.ndjson")
            d.write_config(f"""
data_dir: {d.workdir}/data
sources:
  - {{type: http, listen: "127.0.0.1:{port}"}}
sinks:
  - {{name: out, type: file, path: {out}, batch_size: 1, buffer: {{type: disk, fsync: interval}}}}
""")
            acked = set()
            seq = 0
            for round_no in range(self.ROUNDS):
                rng = random.Random(round_no)
                d.start(wait_port=port)
                stop = threading.Event()

                def sender():
                    nonlocal seq
                    while not stop.is_set():
                        ids = [f"r{round_no}-{seq + i}" for i in range(50)]
                        seq += 50
                        try:
                            status, _, _ = post_json(port, "\n".join(alert(u) for u in ids))
                        except OSError:
                            return  # killed mid-request: not acknowledged
                        if status == 200:
                            acked.update(ids)

                t = threading.Thread(target=sender)
                t.start()
                time.sleep(rng.uniform(0.05, 0.5))
                d.proc.send_signal(signal.SIGKILL)
                d.proc.wait()
                stop.set()
                t.join()
                d.stdout.close()
                d.stderr.close()
            d.start(wait_port=port)
            try:
                wait_for(lambda: acked <= set(uuids_in(out)), 60, "every acknowledged alert in the sink")
            except AssertionError:
                missing = sorted(acked - set(uuids_in(out)))
                os.system(f"ls -la {d.workdir}/data/buffers/out; cat {d.workdir}/data/buffers/out/cursor; cp -r {d.workdir} /tmp/kill9-debug")
                raise AssertionError(f"{len(missing)} of {len(acked)} acknowledged alerts missing, e.g. {missing[:5]}")
            got = uuids_in(out)
            dups = len(got) - len(set(got))
            print(f"\n  kill -9 x{self.ROUNDS}: {len(acked)} alerts acknowledged, all delivered; "
                  f"{dups} duplicates ({100.0 * dups / max(1, len(got)):.2f} %)")
            self.assertGreater(len(acked), 1000)
        finally:
            d.stop()
            d.cleanup()


class DiskFullTest(unittest.TestCase):
    def test_a_full_disk_pushes_back_and_recovers(self):
        d = Daemon("")
        try:
            port = free_port()
            out = os.path.join(d.workdir, "out.ndjson")
            d.write_config(f"""
data_dir: {d.workdir}/data
sources:
  - {{type: http, listen: "127.0.0.1:{port}"}}
sinks:
  - {{name: out, type: file, path: {out}, buffer: {{type: disk, segment_bytes: 64MiB}}, retry: {{initial: 20ms, max: 200ms}}}}
""")
            d.start(wait_port=port)
            # The file-size limit stands in for a full disk: appends fail with EFBIG like they would with ENOSPC.
            resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (100_000, resource.RLIM_INFINITY))
            acked, refused, n = set(), 0, 0
            while refused < 3 and n < 2000:
                ids = [f"full-{n + i}" for i in range(20)]
                n += 20
                status, headers, _ = post_json(port, "\n".join(alert(u) for u in ids))
                if status == 200:
                    acked.update(ids)
                else:
                    self.assertEqual(status, 503)
                    self.assertIn("Retry-After", headers)
                    refused += 1
            self.assertEqual(refused, 3, "saker never pushed back")
            wait_for(lambda: "cannot append" in d.log(), 10, "a clear log line")
            self.assertGreater(metric(port, "saker_buffer_write_errors_total", {"sink": "out"}), 0)
            resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            ids = [f"after-{i}" for i in range(20)]
            wait_for(lambda: post_json(port, "\n".join(alert(u) for u in ids))[0] == 200, 10, "appends to resume")
            acked.update(ids)
            wait_for(lambda: acked <= set(uuids_in(out)), 30, "every acknowledged alert delivered")
        finally:
            d.stop()
            d.cleanup()


class SlowSinkTest(unittest.TestCase):
    def test_a_slow_sink_does_not_hold_back_a_fast_one(self):
        d = Daemon("")
        try:
            tcp_port, http_port = free_port(), free_port()
            fast = os.path.join(d.workdir, "fast.ndjson")
            d.write_config(f"""
data_dir: {d.workdir}/data
sources:
  - {{type: tcp, listen: "127.0.0.1:{tcp_port}"}}
  - {{type: http, listen: "127.0.0.1:{http_port}"}}
sinks:
  - {{name: fast, type: file, path: {fast}}}
  - {{name: slow, type: stdout, batch_size: 10, buffer: {{type: disk, max_bytes: 512MiB}}}}
""")
            # The slow sink writes to a pipe this test drains at a trickle, so its writes block.
            rfd, wfd = os.pipe()
            d.stdout = os.fdopen(wfd, "wb")
            d.stderr = open(d.stderr_path, "ab")
            d.proc = subprocess.Popen([BINARY, "run", "-c", d.config_path], stdout=wfd, stderr=d.stderr, stdin=subprocess.DEVNULL)
            os.close(wfd)
            wait_for(lambda: Daemon._connectable(http_port), 10, "saker")
            slow_lines = [0]
            stop = threading.Event()

            def trickle():
                with os.fdopen(rfd, "rb") as r:
                    while not stop.is_set():
                        chunk = r.read1(4096)
                        if not chunk:
                            return
                        slow_lines[0] += chunk.count(b"\n")
                        time.sleep(0.01)

            t = threading.Thread(target=trickle, daemon=True)
            t.start()
            total = 50000
            with socket.create_connection(("127.0.0.1", tcp_port)) as s:
                s.sendall("".join(alert(f"s-{i}") + "\n" for i in range(total)).encode())
            wait_for(lambda: len(read_lines(fast)) == total, 60, "the fast sink to get everything")
            self.assertLess(slow_lines[0], total // 2, "the slow sink was not slow")
            with open(f"/proc/{d.proc.pid}/status") as f:
                hwm_kb = int(next(l for l in f if l.startswith("VmHWM")).split()[1])
            print(f"\n  slow sink: fast sink got {total}, slow sink {slow_lines[0]}; saker peak RSS {hwm_kb // 1024} MB")
            self.assertLess(hwm_kb, 200 * 1024)
            self.assertGreater(metric(http_port, "saker_sink_queued", {"sink": "slow"}), total // 4)
            stop.set()
        finally:
            if d.proc and d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait()
            d.cleanup()
