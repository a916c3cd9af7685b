"""The file and stdin sources through the real binary: Falco's file_output tailed with a checkpoint, program_output piped."""
import json
import os
import subprocess
import unittest

from harness import BINARY, Daemon, free_port, read_lines, wait_for


def alert(i, priority="Warning"):
    return json.dumps({"rule": "Write below etc", "priority": priority, "output": f"event {i}",
                       "time": "2024-05-07T18:54:19.341081180Z", "hostname": "node-1", "source": "syscall",
                       "output_fields": {"proc.name": "vi", "evt.num": i}}) + "\n"


class FileSourceTest(unittest.TestCase):
    def test_tail_resumes_from_its_checkpoint_without_loss_or_repeats(self):
        d = Daemon("")
        try:
            falco_log = os.path.join(d.workdir, "falco.jsonl")
            out = os.path.join(d.workdir, "out.ndjson")
            port = free_port()
            d.write_config(f"""
data_dir: {d.workdir}/data
sources:
  - {{type: file, path: {falco_log}, poll_interval: 50ms}}
  - {{type: http, listen: "127.0.0.1:{port}"}}
sinks:
  - {{name: out, type: file, path: {out}}}
""")
            with open(falco_log, "w") as f:
                f.writelines(alert(i) for i in range(100))
            d.start(wait_port=port)
            wait_for(lambda: len(read_lines(out)) == 100, 15, "first 100")
            self.assertEqual(d.stop(), 0)
            with open(falco_log, "a") as f:
                f.writelines(alert(i) for i in range(100, 150))
            d.start(wait_port=port)
            wait_for(lambda: len(read_lines(out)) >= 150, 15, "next 50")
            # Rotation by rename: Falco's log is moved away and a new one started.
            os.rename(falco_log, falco_log + ".1")
            with open(falco_log, "w") as f:
                f.writelines(alert(i) for i in range(150, 170))
            wait_for(lambda: len(read_lines(out)) >= 170, 15, "after rotation")
            self.assertEqual(d.stop(), 0)
            nums = [json.loads(l)["output_fields"]["evt.num"] for l in read_lines(out)]
            self.assertEqual(sorted(nums), list(range(170)), "every line exactly once")
        finally:
            d.cleanup()


class StdinSourceTest(unittest.TestCase):
    def test_program_output_pipe_until_eof(self):
        d = Daemon("")
        try:
            out = os.path.join(d.workdir, "out.ndjson")
            d.write_config(f"""
data_dir: {d.workdir}/data
sources:
  - {{type: stdin}}
sinks:
  - {{name: out, type: file, path: {out}, min_priority: error}}
""")
            data = "".join(alert(i, "Error" if i % 2 else "Notice") for i in range(1000)) + "not json\n"
            r = subprocess.run([BINARY, "run", "-c", d.config_path], input=data, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(len(read_lines(out)), 500)
        finally:
            d.cleanup()
