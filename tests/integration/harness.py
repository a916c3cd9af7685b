"""Starts the real saker binary on free loopback ports and talks to it over real sockets."""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BINARY = os.environ.get("SAKER_BINARY", "build/saker")
LOADGEN = os.environ.get("SAKER_LOADGEN", "build/saker_loadgen")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLES = os.path.join(REPO, "tests", "data", "sample_alerts")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sample_alerts():
    """The real Falco and falcosidekick alerts in tests/data/sample_alerts, as (name, text)."""
    out = []
    for name in sorted(os.listdir(SAMPLES)):
        if name.endswith(".json"):
            with open(os.path.join(SAMPLES, name), encoding="utf-8") as f:
                out.append((name, f.read().strip()))
    return out


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [line for line in f.read().split("\n") if line]


class Daemon:
    """One saker process with its own work dir and config."""

    def __init__(self, config_text, workdir=None):
        self.workdir = workdir or tempfile.mkdtemp(prefix="saker-it-")
        self.config_path = os.path.join(self.workdir, "saker.yaml")
        self.write_config(config_text)
        self.proc = None
        self.stdout_path = os.path.join(self.workdir, "stdout.log")
        self.stderr_path = os.path.join(self.workdir, "stderr.log")

    def write_config(self, text):
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write(text)

    def start(self, wait_port=None, stdin=None):
        self.stdout = open(self.stdout_path, "ab")
        self.stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen([BINARY, "run", "-c", self.config_path], stdin=stdin if stdin is not None else subprocess.DEVNULL,
                                     stdout=self.stdout, stderr=self.stderr)
        if wait_port:
            wait_for(lambda: self._connectable(wait_port) or self._died(), 15, f"saker to listen on {wait_port}")
            if self.proc.poll() is not None:
                raise AssertionError(f"saker exited with {self.proc.returncode}: {self.log()}")
        return self

    def _died(self):
        return self.proc.poll() is not None

    @staticmethod
    def _connectable(port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False

    def log(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("saker did not stop within %ss after SIGTERM" % timeout)
        for f in ("stdout", "stderr"):
            if hasattr(self, f):
                getattr(self, f).close()
        return self.proc.returncode if self.proc else None

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def saker(*args, **kw):
    """Runs one saker command to its end (check, replay, version, ...): its CompletedProcess, output as text."""
    return subprocess.run([BINARY, *args], capture_output=True, text=True, **kw)


def start_daemon(test, config_text, wait_port, workdir=None):
    """A Daemon running `config_text`, listening on `wait_port`; killed and its work dir removed when `test` ends."""
    d = Daemon(config_text, workdir=workdir)
    test.addCleanup(d.cleanup)
    d.start(wait_port=wait_port)
    return d


def self_signed(directory, *names):
    """A self-signed certificate per name in `directory`, as name.pem with its key in name.key (CN=name)."""
    for name in names:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                        f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.pem"],
                       cwd=directory, check=True, capture_output=True)


def http_request(port, method, path, body=None, headers=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def post_json(port, body, headers=None):
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    status, hdrs, data = http_request(port, "POST", "/", body=body.encode() if isinstance(body, str) else body, headers=h)
    return status, hdrs, data


def metric(port, name, labels=None):
    """The value of one Prometheus series from /metrics, or 0."""
    _, _, body = http_request(port, "GET", "/metrics")
    want = name
    if labels:
        want += "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
    for line in body.decode().splitlines():
        if line.startswith(want + " "):
            return float(line.split()[-1])
    return 0
