"""Connection limits through the real binary: idle senders never lock live ones out, idle connections time out,
and clients without the bearer token get 401 before their body is read, with the daemon's memory bounded."""
import json
import os
import select
import socket
import http.client
import subprocess
import threading
import time
import unittest

from harness import BINARY, Daemon, free_port, http_request, metric, read_lines, wait_for


def alert(i):
    return json.dumps({"rule": "Terminal shell in container", "priority": "Warning", "output": f"live sender {i}",
                       "time": "2024-05-07T18:54:19.341081180Z", "hostname": "node-1", "source": "syscall",
                       "output_fields": {"proc.name": "bash"}}) + "\n"


def connect(port, timeout=15.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.settimeout(timeout)
    return s


def closed_by_daemon(sock, timeout=15.0):
    """True once the daemon closed `sock` (EOF or reset) within `timeout`; whatever it sends first is read."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        sock.settimeout(max(0.05, deadline - time.time()))
        try:
            if sock.recv(65536) == b"":
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
    return False


def closed_now(sock):
    """True when the daemon has closed `sock` (EOF or reset is waiting), without waiting for it."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


class ClientTally:
    """What the clients saw: the connections the daemon closed, each counted once, and the ones still open."""

    def __init__(self):
        self.lock = threading.Lock()
        self.closed = 0
        self.held = []
        self.failures = []

    def saw_closed(self):
        with self.lock:
            self.closed += 1

    def keep(self, sock):
        with self.lock:
            self.held.append(sock)

    def fail(self, what):
        with self.lock:
            self.failures.append(what)

    def look(self):
        """Counts (and closes) the held connections the daemon closed meanwhile; returns (closed, held)."""
        with self.lock:
            for s in [s for s in self.held if closed_now(s)]:
                s.close()
                self.held.remove(s)
                self.closed += 1
            return self.closed, len(self.held)

    def close_all(self):
        with self.lock:
            for s in self.held:
                s.close()
            self.held = []


CHURN_MAX = 8          # max_connections of the source under churn
CHURN_HOLDERS = 100    # idle connections each of two threads opens, as fast as it can
CHURN_LIVE = 3         # live senders: never more than this many connections are busy
CHURN_LINES = 30       # alerts per live sender
CHURN_BURST = 3        # alerts a live sender sends before it waits for them and goes quiet
CHURN_CONNECTS = 200   # a live sender closed more often than this is locked out


def churn_output(sender, k):
    return f"live sender {sender} line {k}"


def churn_alert(sender, k):
    return json.dumps({"rule": "Terminal shell in container", "priority": "Warning", "output": churn_output(sender, k),
                       "time": "2024-05-07T18:54:19.341081180Z", "hostname": "node-1", "source": "syscall",
                       "output_fields": {"proc.name": "bash"}}) + "\n"


def delivered_outputs(path):
    out = set()
    for line in read_lines(path):
        try:
            out.add(json.loads(line)["output"])
        except ValueError:
            pass  # the last line, still being written
    return out


def vm_kib(pid, field):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


class ConnectionLimitTest(unittest.TestCase):
    def start(self, http_extra="", tcp_extra="", more_sources=""):
        self.http_port, self.tcp_port = free_port(), free_port()
        self.d = Daemon("")
        self.out = os.path.join(self.d.workdir, "out.ndjson")
        self.d.write_config(f"""
data_dir: {self.d.workdir}/data
sources:
  - {{type: http, listen: "127.0.0.1:{self.http_port}"{http_extra}}}
  - {{type: tcp, listen: "127.0.0.1:{self.tcp_port}"{tcp_extra}}}
{more_sources}sinks:
  - {{name: out, type: file, path: {self.out}}}
""")
        self.d.start(wait_port=self.http_port)
        wait_for(lambda: Daemon._connectable(self.tcp_port), 10, "tcp source")
        self.socks = []

    def tearDown(self):
        for s in getattr(self, "socks", []):
            s.close()
        if hasattr(self, "d"):
            self.d.cleanup()

    def open_idle(self, port, n):
        for _ in range(n):
            self.socks.append(connect(port))
        return self.socks[-n:]

    def test_sixteen_idle_tcp_connections_do_not_lock_out_a_live_sender(self):
        self.start(tcp_extra=", max_connections: 16")
        idle = self.open_idle(self.tcp_port, 16)
        wait_for(lambda: metric(self.http_port, "saker_source_connections", {"source": "tcp"}) == 16, 15,
                 "16 idle tcp connections")
        for i in range(3):  # each new sender takes the place of the connection idle the longest, and stays
            live = connect(self.tcp_port)
            self.socks.append(live)
            live.sendall(alert(i).encode())
            wait_for(lambda: len(read_lines(self.out)) == i + 1, 15, f"alert {i} delivered")
        self.assertTrue(closed_by_daemon(idle[0]), "the oldest idle connection makes room")
        self.assertEqual(metric(self.http_port, "saker_source_connections_evicted_total", {"source": "tcp"}), 3)
        self.assertEqual(metric(self.http_port, "saker_source_connections_rejected_total", {"source": "tcp"}), 0)
        self.assertEqual([json.loads(l)["output"] for l in read_lines(self.out)],
                         ["live sender 0", "live sender 1", "live sender 2"])

    def test_sixteen_idle_http_connections_do_not_lock_out_healthz_metrics_or_alerts(self):
        self.start(http_extra=", max_connections: 16")
        idle = self.open_idle(self.http_port, 16)
        # Every request gets in, at once: each takes the place of the connection idle the longest.
        for _ in range(20):
            self.assertEqual(http_request(self.http_port, "GET", "/healthz", timeout=5)[0], 200)
            self.assertEqual(http_request(self.http_port, "GET", "/metrics", timeout=5)[0], 200)
        self.assertGreaterEqual(metric(self.http_port, "saker_source_connections_evicted_total", {"source": "http"}), 1)
        status, _, body = http_request(self.http_port, "POST", "/", body=alert(0).encode(),
                                       headers={"Content-Type": "application/json"})
        self.assertEqual((status, json.loads(body)), (200, {"accepted": 1}))
        wait_for(lambda: len(read_lines(self.out)) == 1, 15, "the alert delivered")
        # The one evicted is among the first opened (two io threads list them in about the order they connected).
        readable, _, _ = select.select(idle, [], [], 15)
        self.assertTrue(readable and any(closed_by_daemon(s, 1) for s in readable), "an idle connection made room")
        self.assertEqual(metric(self.http_port, "saker_http_connections_rejected_total", {"source": "http"}), 0)

    def test_idle_timeout_closes_idle_connections(self):
        self.start(http_extra=", idle_timeout: 1s", tcp_extra=", idle_timeout: 1s")
        tcp_sock = connect(self.tcp_port)
        tcp_sock.sendall(alert(0).encode())
        http_sock = connect(self.http_port)
        t0 = time.time()
        self.assertTrue(closed_by_daemon(tcp_sock, 15), "tcp connection closed after idle_timeout")
        self.assertTrue(closed_by_daemon(http_sock, 15), "http connection closed after idle_timeout")
        self.assertGreaterEqual(time.time() - t0, 0.8)
        wait_for(lambda: len(read_lines(self.out)) == 1, 15, "the alert sent before the silence")
        self.assertEqual(metric(self.http_port, "saker_source_idle_timeouts_total", {"source": "tcp"}), 1)
        self.assertGreaterEqual(metric(self.http_port, "saker_source_idle_timeouts_total", {"source": "http"}), 1)
        tcp_sock.close()
        http_sock.close()

    def test_uploads_without_the_token_get_401_before_their_body_and_memory_stays_bounded(self):
        self.start(http_extra=", token: s3cret-token-for-tests, max_body: 2MiB")
        pid = self.d.proc.pid
        status, _, _ = http_request(self.http_port, "POST", "/", body=alert(0).encode(),
                                    headers={"Authorization": "Bearer s3cret-token-for-tests"})
        self.assertEqual(status, 200)
        base_kib = vm_kib(pid, "VmRSS")
        head = (b"POST / HTTP/1.1\r\nHost: saker\r\nContent-Type: application/x-ndjson\r\n"
                b"Content-Length: 2000000\r\n\r\n")
        body_part = b"x" * (1024 * 1024)  # about 1 MiB of the announced 2 MB, then the sender stalls
        conns = []
        for _ in range(300):
            s = connect(self.http_port, timeout=20)
            try:
                s.sendall(head + body_part)
            except (BrokenPipeError, ConnectionResetError):
                pass  # answered and closed while still sending: what we want
            conns.append(s)
        self.socks.extend(conns)
        peak_during_kib = vm_kib(pid, "VmRSS")
        statuses = []
        for s in conns:
            got = b""
            try:
                while b"\r\n" not in got:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    got += chunk
            except (ConnectionResetError, socket.timeout):
                pass
            statuses.append(got.split(b"\r\n", 1)[0])
        self.assertEqual(set(statuses), {b"HTTP/1.1 401 Unauthorized"}, "every upload without the token gets 401")
        for s in conns[:20]:
            self.assertTrue(closed_by_daemon(s, 15), "a 401 to an upload closes the connection")
        peak_kib = vm_kib(pid, "VmHWM")
        grew_mib = (max(peak_kib, peak_during_kib) - base_kib) / 1024
        self.assertLess(grew_mib, 64, f"RSS grew by {grew_mib:.0f} MiB (from {base_kib / 1024:.0f} MiB)")
        _, _, text = http_request(self.http_port, "GET", "/metrics",
                                  headers={"Authorization": "Bearer s3cret-token-for-tests"})
        self.assertIn('saker_http_requests_total{source="http",code="401"} 300\n', text.decode())
        self.assertEqual(len(read_lines(self.out)), 1)

    def test_check_reports_a_bad_idle_timeout_with_its_position(self):
        path = os.path.join(self._workdir(), "bad.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write("sources:\n"
                    "  - {type: tcp, listen: \"127.0.0.1:2802\", idle_timeout: 5ms}\n"
                    "  - {type: http, listen: \"127.0.0.1:2801\", idle_timeout: never, header_timeout: 25h}\n"
                    "sinks:\n"
                    "  - {name: out, type: stdout}\n")
        r = subprocess.run([BINARY, "check", "-c", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        text = r.stdout + r.stderr
        self.assertIn(f"{path}:2:57: sources[0].idle_timeout: must be between 10ms and 24h", text)
        self.assertIn(f"{path}:3:58: sources[1].idle_timeout", text)
        self.assertIn(f"{path}:3:81: sources[1].header_timeout: must be between 10ms and 24h", text)

    def hold_idle(self, port, tally):
        try:
            for _ in range(CHURN_HOLDERS):
                tally.keep(connect(port))
        except OSError as e:
            tally.fail(f"an idle connection could not connect: {e}")

    def live_tcp_sender(self, i, tally):
        """A burst of lines, then quiet until they arrived (so it may be idle the longest and evicted); when the
        daemon closed its connection it connects again and sends what has not arrived."""
        sock, sent, connects = None, 0, 0

        def missing(upto):
            have = delivered_outputs(self.out)
            return [k for k in range(upto) if churn_output(i, k) not in have]

        def lost():
            nonlocal sock
            tally.saw_closed()
            sock.close()
            sock = None

        while sent < CHURN_LINES or missing(sent):
            try:
                if sock is None:
                    connects += 1
                    if connects > CHURN_CONNECTS:
                        return tally.fail(f"live sender {i} locked out: closed {CHURN_CONNECTS} times")
                    sock = connect(self.tcp_port)
                    sock.sendall("".join(churn_alert(i, k) for k in missing(sent)).encode())
                if sent < CHURN_LINES and not missing(sent):
                    upto = min(sent + CHURN_BURST, CHURN_LINES)
                    burst, sent = "".join(churn_alert(i, k) for k in range(sent, upto)), upto
                    sock.sendall(burst.encode())
            except (BrokenPipeError, ConnectionResetError):
                lost()
                continue
            deadline = time.time() + 15
            while missing(sent) and not closed_now(sock):
                if time.time() > deadline:
                    return tally.fail(f"live sender {i} stalled: its lines neither arrived nor was it closed")
                time.sleep(0.005)
            if closed_now(sock):
                lost()
        if sock is not None:
            tally.keep(sock)

    def live_http_client(self, port, i, tally):
        """One alert per request on a kept-alive connection; when the daemon closes it (an eviction, before the
        request or after answering it), it connects again and sends the unanswered request again."""
        conn, connects = None, 0
        for k in range(CHURN_LINES):
            while True:
                if conn is None:
                    connects += 1
                    if connects > CHURN_CONNECTS:
                        return tally.fail(f"live client {i} locked out: closed {CHURN_CONNECTS} times")
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
                try:
                    conn.request("POST", "/", body=churn_alert(i, k).encode(),
                                 headers={"Content-Type": "application/json"})
                    resp = conn.getresponse()
                    body = resp.read()
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                    tally.saw_closed()
                    conn.close()
                    conn = None
                    continue
                if resp.status != 200:
                    return tally.fail(f"live client {i}: {resp.status} {body!r}")
                if resp.getheader("Connection", "").lower() == "close":  # evicted while its request arrived
                    tally.saw_closed()
                    conn.close()
                    conn = None
                break
        if conn is not None:
            tally.keep(conn.sock)
            conn.sock = None  # the tally closes it

    def churn(self, port, source, live):
        """Idle connections in bursts from two threads and live senders at once; afterwards every connection the
        daemon closed is counted once and its open connections are the ones the clients still hold."""
        tally = ClientTally()
        def guarded(fn, *args):
            try:
                fn(*args)
            except Exception as e:  # a thread's failure fails the test, it does not just end the thread
                tally.fail(f"{fn.__name__}: {e!r}")

        clients = [threading.Thread(target=guarded, args=(self.hold_idle, port, tally)) for _ in range(2)]
        clients += [threading.Thread(target=guarded, args=(live, i, tally)) for i in range(CHURN_LIVE)]
        for t in clients:
            t.start()
        for t in clients:
            t.join()
        self.assertEqual(tally.failures, [])
        want = {churn_output(i, k) for i in range(CHURN_LIVE) for k in range(CHURN_LINES)}
        wait_for(lambda: delivered_outputs(self.out) >= want, 15, "every live line in the sink")
        self.assertEqual(delivered_outputs(self.out), want)
        gauge = "saker_source_connections" if source == "tcp" else "saker_http_connections"
        rejected = ("saker_source_connections_rejected_total" if source == "tcp"
                    else "saker_http_connections_rejected_total")
        labels = {"source": source}

        def counted():
            n = sum(metric(self.http_port, m, labels) for m in
                    ("saker_source_connections_evicted_total", rejected, "saker_source_idle_timeouts_total"))
            if source != "tcp":
                n += sum(metric(self.http_port, "saker_http_request_timeouts_total", {"source": source, "phase": p})
                         for p in ("header", "body"))
            return n

        def settled():
            closed, held = tally.look()
            return closed == counted() and metric(self.http_port, gauge, labels) == held

        try:
            wait_for(settled, 15, "the daemon's counts to match what the clients saw")
        except AssertionError:
            closed, held = tally.look()
            self.fail(f"clients saw {closed} closed and hold {held}; daemon counted {counted()} closed and has "
                      f"{metric(self.http_port, gauge, labels)} open")
        self.assertEqual(metric(self.http_port, rejected, labels), 0, "only live senders are ever busy")
        self.assertGreater(metric(self.http_port, "saker_source_connections_evicted_total", labels), 0)

        # Every place comes back: max_connections new idle connections get in without an eviction, and one more
        # evicts exactly the one that came first.
        tally.close_all()
        wait_for(lambda: metric(self.http_port, gauge, labels) == 0, 15, "no connection left open")
        evicted = metric(self.http_port, "saker_source_connections_evicted_total", labels)
        fresh = [connect(port) for _ in range(CHURN_MAX)]
        self.socks.extend(fresh)
        wait_for(lambda: metric(self.http_port, gauge, labels) == CHURN_MAX, 15, f"{CHURN_MAX} open")
        self.assertEqual(metric(self.http_port, "saker_source_connections_evicted_total", labels), evicted)
        self.socks.append(connect(port))
        self.assertTrue(closed_by_daemon(fresh[0]), "the connection idle the longest is the one that came first")
        wait_for(lambda: metric(self.http_port, "saker_source_connections_evicted_total", labels) == evicted + 1 and
                 metric(self.http_port, gauge, labels) == CHURN_MAX, 15, "one eviction, the count back")
        self.assertEqual(metric(self.http_port, rejected, labels), 0)

    def test_tcp_churn_at_max_connections_on_two_io_threads(self):
        self.start(tcp_extra=f", max_connections: {CHURN_MAX}, threads: 2")
        self.churn(self.tcp_port, "tcp", self.live_tcp_sender)

    def test_http_churn_at_max_connections_on_two_io_threads(self):
        # A second http source is churned; the first one answers /metrics without taking part.
        self.churn_port = free_port()
        self.start(more_sources=f'  - {{type: http, name: churn, listen: "127.0.0.1:{self.churn_port}", '
                                f"max_connections: {CHURN_MAX}, threads: 2}}\n")
        wait_for(lambda: Daemon._connectable(self.churn_port), 10, "the churned http source")
        # That probe was a connection too: let it go before counting.
        wait_for(lambda: metric(self.http_port, "saker_http_connections", {"source": "churn"}) == 0, 15, "probe gone")
        self.churn(self.churn_port, "churn", lambda i, tally: self.live_http_client(self.churn_port, i, tally))

    def _workdir(self):
        self.d = Daemon("")
        return self.d.workdir


if __name__ == "__main__":
    unittest.main()
