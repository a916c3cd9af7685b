"""A reload never closes a listener whose `listen` is unchanged, through the real binary: the http or tcp source
itself changes every second (its limits, its threads, its TLS certificate files) while senders never stop, and no
connection is refused, no POST fails, every accepted alert is delivered and the listening socket stays the same
socket from start to end. Also: a listen address that moves to another source name, a new address whose port is
taken (the old source goes on), and a new address that frees the old one; a reload that changes only a top-level
setting the sources read (limits:) hands over the same way, and one that changes nothing restarts nothing."""
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import threading
import time
import unittest

from harness import Daemon, free_port, metric, post_json, read_lines, wait_for

STEPS = 12  # reloads, one a second


def alert(uid):
    return json.dumps({"uuid": uid, "rule": "Terminal shell in container", "priority": "Error",
                       "output": f"shell {uid}", "time": "2024-08-28T21:35:04.518808525Z", "hostname": "node-1",
                       "source": "syscall", "output_fields": {"proc.name": "sh"}})


def reloads(d):
    return sum(1 for line in d.log().splitlines() if line.endswith(" reloaded"))


def listen_inodes(port):
    """Inodes of the sockets listening on `port` (state 0A in /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                        found.add(cols[9])
        except FileNotFoundError:
            pass
    return found


class ListenWatch:
    """Watches one port for the whole test: connects to it every few milliseconds (any failure is recorded) and, on
    a thread of its own, reads which socket listens on it (a moment with none, or a second socket, is recorded)."""

    def __init__(self, port):
        self.port = port
        self.stop = threading.Event()
        self.connects = 0
        self.failures = []
        self.inodes = set()
        self.samples = 0
        self.missing = 0
        self.threads = [threading.Thread(target=self._connect, daemon=True),
                        threading.Thread(target=self._sample, daemon=True)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def _connect(self):
        while not self.stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
                # Closed with a reset: thousands of probes leave no TIME_WAIT behind.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()
                self.connects += 1
            except OSError as e:
                self.failures.append(repr(e))
            time.sleep(0.002)

    def _sample(self):
        while not self.stop.is_set():
            inodes = listen_inodes(self.port)
            self.samples += 1
            if not inodes:
                self.missing += 1
            self.inodes |= inodes
            time.sleep(0.005)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(10)
        return self

    def check(self, test, min_connects=500):
        test.assertEqual(self.failures, [], "a connection attempt failed: the port closed")
        test.assertEqual(self.missing, 0, "no socket listened on the port at some moment")
        test.assertEqual(len(self.inodes), 1, f"the port was served by more than one socket: {self.inodes}")
        test.assertGreaterEqual(self.connects, min_connects)
        test.assertGreater(self.samples, 0)


class Senders:
    """Threads that POST batches of 20 alerts, each on a new connection, and one that keeps its connection alive
    (as Falco's libcurl does); every failure and every non-200 answer is recorded."""

    def __init__(self, port, fresh=3, tls=None):
        self.port, self.tls = port, tls
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.sent, self.refused, self.errors = [], [], []
        self.threads = [threading.Thread(target=self._fresh, args=(i,), daemon=True) for i in range(fresh)]
        self.threads.append(threading.Thread(target=self._kept_alive, args=(fresh,), daemon=True))

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def _connection(self):
        if self.tls:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10, context=self.tls)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def _post(self, conn, n, seq):
        ids = [f"s{n}-{seq + i}" for i in range(20)]
        body = "\n".join(alert(u) for u in ids).encode()
        try:
            conn.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as e:
            with self.lock:
                self.errors.append(repr(e))
            conn.close()
            return
        with self.lock:
            if resp.status == 200:
                self.sent.extend(ids)
            else:
                self.refused.append((resp.status, data))

    def _fresh(self, n):
        seq = 0
        while not self.stop.is_set():
            conn = self._connection()
            self._post(conn, n, seq)
            conn.close()
            seq += 20
            time.sleep(0.002)

    def _kept_alive(self, n):
        seq = 0
        conn = self._connection()  # reopened by http.client itself after an answer with Connection: close
        while not self.stop.is_set():
            self._post(conn, n, seq)
            seq += 20
            time.sleep(0.002)
        conn.close()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(30)
        return self

    def check(self, test):
        test.assertEqual(self.errors, [], "POSTs failed during reloads")
        test.assertEqual(self.refused, [], "POSTs were refused during reloads")
        test.assertGreater(len(self.sent), 1000)


def reload_every_second(test, d, config, steps=STEPS, after=None):
    for step in range(1, steps + 1):
        time.sleep(1)
        config(step)
        d.signal(signal.SIGHUP)
        wait_for(lambda: reloads(d) >= step, 15, f"reload {step}")
        if after:
            after(step)


def expect_delivered(test, path, sent):
    want = set(sent)
    wait_for(lambda: len(read_lines(path)) >= len(want), 60, "every accepted alert in the sink")
    got = {json.loads(line)["uuid"] for line in read_lines(path)}
    test.assertEqual(got, want)


def make_pki(directory, servers=2):
    """A CA and `servers` certificates for 127.0.0.1, each with its own key."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    ca_key, ca = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.pem")
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
        "-subj", "/CN=saker handover test CA")
    ext = os.path.join(directory, "san.ext")
    with open(ext, "w", encoding="ascii") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    pairs = []
    for i in range(servers):
        key, pem, csr = (os.path.join(directory, f"server{i}.{x}") for x in ("key", "pem", "csr"))
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN=saker server {i}")
        run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-set_serial", str(1000 + i), "-out", pem,
            "-days", "2", "-extfile", ext)
        pairs.append((pem, key))
    return ca, pairs


def install(src, dst):
    """Replaces dst with a copy of src in one rename, as certificate renewal tools do."""
    tmp = dst + ".new"
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def served_certificate(port, ctx):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            return s.getpeercert(binary_form=True)


def der(pem_path):
    with open(pem_path, encoding="ascii") as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


class HttpHandoverTest(unittest.TestCase):
    def test_http_source_changed_every_second_never_closes_its_port(self):
        port = free_port()
        d = Daemon("")
        try:
            out = os.path.join(d.workdir, "out.ndjson")

            def config(step):
                d.write_config(f"""data_dir: {d.workdir}/data
shutdown_grace: 5s
sources:
  - {{type: http, listen: "127.0.0.1:{port}", max_connections: {1000 + step}, threads: {1 + step % 2},
      idle_timeout: {30 + step}s}}
sinks:
  - {{name: out, type: file, path: {out}}}
""")
            config(0)
            d.start(wait_port=port)
            watch = ListenWatch(port).start()
            senders = Senders(port).start()
            reload_every_second(self, d, config)
            senders.finish()
            watch.finish()
            log = d.log()
            senders.check(self)
            watch.check(self)
            self.assertNotIn("could not start", log)
            # Every reload did replace the source (each new one logs that it listens) and handed the socket over.
            self.assertEqual(log.count(f"listening on 127.0.0.1:{port}"), STEPS + 1)
            self.assertEqual(log.count("handed its listener over"), STEPS)
            expect_delivered(self, out, senders.sent)
            print(f"\n  http handover: {len(senders.sent)} alerts over {STEPS} reloads, {watch.connects} connection "
                  f"probes, 0 refused, one socket in {watch.samples} samples", flush=True)
        finally:
            d.stop()
            d.cleanup()

    def test_certificate_renewed_in_place_reaches_new_connections_and_the_port_stays_open(self):
        port = free_port()
        d = Daemon("")
        try:
            ca, pairs = make_pki(d.workdir)
            cert, key = os.path.join(d.workdir, "tls.pem"), os.path.join(d.workdir, "tls.key")
            install(pairs[0][0], cert)
            install(pairs[0][1], key)
            out = os.path.join(d.workdir, "out.ndjson")
            # The config never changes: only the files behind it do, as when a certificate is renewed.
            d.write_config(f"""data_dir: {d.workdir}/data
shutdown_grace: 5s
sources:
  - {{type: http, listen: "127.0.0.1:{port}", tls: {{cert: {cert}, key: {key}}}}}
sinks:
  - {{name: out, type: file, path: {out}}}
""")
            d.start(wait_port=port)
            ctx = ssl.create_default_context(cafile=ca)
            self.assertEqual(served_certificate(port, ctx), der(pairs[0][0]))
            watch = ListenWatch(port).start()
            senders = Senders(port, tls=ctx).start()
            served = []

            def renew(step):
                pem, k = pairs[step % 2]
                install(k, key)
                install(pem, cert)

            def check(step):
                # The reload is done: every new connection is the new source's, with the new certificate.
                served.append(served_certificate(port, ctx) == der(pairs[step % 2][0]))

            reload_every_second(self, d, renew, after=check)
            self.assertEqual(served, [True] * STEPS)

            # A renewal gone wrong (a key that does not parse) changes nothing: the running certificate stays.
            good = served_certificate(port, ctx)
            with open(key + ".new", "w", encoding="ascii") as f:
                f.write("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
            os.replace(key + ".new", key)
            d.signal(signal.SIGHUP)
            wait_for(lambda: "keeping the running config" in d.log(), 15, "the refused reload")
            self.assertEqual(served_certificate(port, ctx), good)
            senders.finish()
            watch.finish()
            senders.check(self)
            watch.check(self)
            self.assertNotIn("could not start", d.log())
            expect_delivered(self, out, senders.sent)
            print(f"\n  certificate renewal: {len(senders.sent)} alerts over HTTPS, {STEPS} renewals each served to "
                  f"the next connection, {watch.connects} connection probes, 0 refused, one socket in {watch.samples} "
                  f"samples", flush=True)
        finally:
            d.stop()
            d.cleanup()


class TcpHandoverTest(unittest.TestCase):
    def test_tcp_source_changed_every_second_never_closes_its_port_and_loses_no_line(self):
        port = free_port()
        d = Daemon("")
        try:
            out = os.path.join(d.workdir, "out.ndjson")

            def config(step):
                # shutdown_grace outlasts the test: the long-lived connection stays with the source that accepted it.
                d.write_config(f"""data_dir: {d.workdir}/data
shutdown_grace: 60s
sources:
  - {{type: tcp, listen: "127.0.0.1:{port}", max_connections: {1000 + step}, decode_threads: {step % 3}}}
sinks:
  - {{name: out, type: file, path: {out}}}
""")
            config(0)
            d.start(wait_port=port)
            watch = ListenWatch(port).start()
            stop = threading.Event()
            lock = threading.Lock()
            sent, errors = [], []

            def short_lived(n):
                seq = 0
                while not stop.is_set():
                    ids = [f"t{n}-{seq + i}" for i in range(50)]
                    seq += 50
                    try:
                        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                            s.sendall("".join(alert(u) + "\n" for u in ids).encode())
                    except OSError as e:
                        with lock:
                            errors.append(repr(e))
                        continue
                    with lock:
                        sent.extend(ids)
                    time.sleep(0.002)

            def long_lived():
                seq = 0
                with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                    while not stop.is_set():
                        uid = f"long-{seq}"
                        seq += 1
                        try:
                            s.sendall((alert(uid) + "\n").encode())
                        except OSError as e:
                            with lock:
                                errors.append(repr(e))
                            return
                        with lock:
                            sent.append(uid)
                        time.sleep(0.002)

            threads = [threading.Thread(target=short_lived, args=(i,), daemon=True) for i in range(3)]
            threads.append(threading.Thread(target=long_lived, daemon=True))
            for t in threads:
                t.start()
            reload_every_second(self, d, config)
            stop.set()
            for t in threads:
                t.join(30)
            watch.finish()
            self.assertEqual(errors, [], "sending failed during reloads")
            watch.check(self)
            log = d.log()
            self.assertNotIn("could not start", log)
            self.assertEqual(log.count(f"listening for NDJSON on tcp 127.0.0.1:{port}"), STEPS + 1)
            self.assertEqual(log.count("handed its listener over"), STEPS)
            self.assertGreater(len(sent), 1000)
            expect_delivered(self, out, sent)
            print(f"\n  tcp handover: {len(sent)} lines over {STEPS} reloads (one connection open throughout), "
                  f"{watch.connects} connection probes, 0 refused, one socket in {watch.samples} samples", flush=True)
        finally:
            d.stop()
            d.cleanup()


class ListenChangesTest(unittest.TestCase):
    def test_address_moves_between_names_a_taken_port_keeps_the_old_source_a_new_port_frees_the_old(self):
        first, second = free_port(), free_port()
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen(8)
        taken_port = taken.getsockname()[1]
        d = Daemon("")
        try:
            out = os.path.join(d.workdir, "out.ndjson")

            def config(name, port, step):
                d.write_config(f"""data_dir: {d.workdir}/data
shutdown_grace: 5s
sources:
  - {{type: http, name: {name}, listen: "127.0.0.1:{port}"}}
sinks:
  - {{name: out, type: file, path: {out}}}
""")
                if step:
                    d.signal(signal.SIGHUP)
                    wait_for(lambda: reloads(d) >= step, 15, f"reload {step}")

            config("falco", first, 0)
            d.start(wait_port=first)
            watch = ListenWatch(first).start()
            self.assertEqual(post_json(first, alert("a1"))[0], 200)

            # The same address under another name: handed over, not closed.
            config("edge", first, 1)
            self.assertIn("source falco: handed its listener over", d.log())
            self.assertEqual(post_json(first, alert("a2"))[0], 200)
            self.assertTrue(self._answered_by(first, "edge"))

            # A new address whose port is taken: the source cannot start there and goes on where it was.
            config("edge", taken_port, 2)
            self.assertIn("could not start", d.log())
            self.assertIn("goes on with its previous config", d.log())
            self.assertEqual(post_json(first, alert("a3"))[0], 200)
            watch.finish()
            watch.check(self, min_connects=1)

            # A free new address: the source moves there and the old address closes.
            config("edge", second, 3)
            self.assertEqual(post_json(second, alert("a4"))[0], 200)
            wait_for(lambda: not Daemon._connectable(first), 15, "the old address to close")
            self.assertIn("source edge: closed its listener", d.log())
            expect_delivered(self, out, ["a1", "a2", "a3", "a4"])
        finally:
            taken.close()
            d.stop()
            d.cleanup()

    @staticmethod
    def _answered_by(port, name):
        """True when the source named `name` has answered a request on `port` (its series in /metrics)."""
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/metrics")
            return f'saker_http_requests_total{{source="{name}",code="200"}}' in conn.getresponse().read().decode()
        finally:
            conn.close()


def big_alert(uid, size=3000):
    """An alert of about `size` bytes of JSON."""
    a = json.loads(alert(uid))
    a["output_fields"]["pad"] = ""
    a["output_fields"]["pad"] = "p" * (size - len(json.dumps(a)))
    return json.dumps(a)


def send_tcp(port, *lines):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall("".join(line + "\n" for line in lines).encode())


class SettingsReloadTest(unittest.TestCase):
    """Top-level settings the sources and sinks are built with count as their config: a reload that changes only
    `limits:` replaces them through the handover, with the new limit in effect for the next alert; a reload that
    changes nothing, or only settings applied where they are used (shutdown_grace, log_format), restarts nothing."""

    def config(self, d, http_port, tcp_port, out, max_alert_bytes, grace="5s", log_format="text"):
        d.write_config(f"""data_dir: {d.workdir}/data
shutdown_grace: {grace}
log_format: {log_format}
limits: {{max_alert_bytes: {max_alert_bytes}}}
sources:
  - {{type: http, listen: "127.0.0.1:{http_port}"}}
  - {{type: tcp, listen: "127.0.0.1:{tcp_port}"}}
sinks:
  - {{name: out, type: file, path: {out}}}
""")

    def start(self, max_alert_bytes):
        http_port, tcp_port = free_port(), free_port()
        d = Daemon("")
        self.addCleanup(d.cleanup)
        self.addCleanup(d.stop)
        out = os.path.join(d.workdir, "out.ndjson")
        self.config(d, http_port, tcp_port, out, max_alert_bytes)
        d.start(wait_port=http_port)
        wait_for(lambda: Daemon._connectable(tcp_port), 15, "the tcp source to listen")
        return d, http_port, tcp_port, out

    def test_a_new_max_alert_bytes_alone_reaches_both_listeners_through_the_handover(self):
        d, http_port, tcp_port, out = self.start(2000)
        big_http, big_tcp = big_alert("big-http"), big_alert("big-tcp")
        self.assertGreater(len(big_http), 2900)
        self.assertLess(len(big_tcp), 3100)

        def refused(source):
            return metric(http_port, "saker_alerts_refused_total", {"source": source, "reason": "too_large"})

        watches = [ListenWatch(p).start() for p in (http_port, tcp_port)]
        senders = Senders(http_port).start()
        send_tcp(tcp_port, alert("small-tcp-1"))
        status, _, body = post_json(http_port, big_http)
        self.assertEqual(status, 400)
        self.assertIn(b"too_large", body)
        send_tcp(tcp_port, big_tcp)
        wait_for(lambda: refused("tcp") == 1, 15, "the tcp source to refuse the big line")
        self.assertEqual(refused("http"), 1)

        self.config(d, http_port, tcp_port, out, 8000)  # nothing else changes
        d.signal(signal.SIGHUP)
        wait_for(lambda: reloads(d) >= 1, 15, "the reload")
        sent_at_reload = len(senders.sent)
        status, _, body = post_json(http_port, big_http)
        self.assertEqual(status, 200, f"the new max_alert_bytes is not in effect: {body!r}")
        send_tcp(tcp_port, big_tcp, alert("small-tcp-2"))
        wait_for(lambda: len(senders.sent) > max(sent_at_reload + 200, 1000), 30, "senders to go on after the reload")
        wait_for(lambda: min(w.connects for w in watches) >= 50, 30, "connection probes")
        senders.finish()
        for w in watches:
            w.finish()

        log = d.log()
        self.assertIn("http source http: handed its listener over", log)
        self.assertIn("source tcp: handed its listener over", log)
        self.assertIn("reload: 0 of 2 source(s) and 0 of 1 sink(s) unchanged", log)
        self.assertNotIn("could not start", log)
        senders.check(self)
        for w in watches:
            w.check(self, min_connects=50)
        expect_delivered(self, out, senders.sent + ["small-tcp-1", "big-http", "big-tcp", "small-tcp-2"])
        self.assertEqual((refused("http"), refused("tcp")), (1, 1))

    def test_a_reload_that_changes_nothing_restarts_nothing(self):
        d, http_port, tcp_port, out = self.start(2000)
        watches = [ListenWatch(p).start() for p in (http_port, tcp_port)]
        d.signal(signal.SIGHUP)  # the same file
        wait_for(lambda: reloads(d) >= 1, 15, "the reload")
        self.assertIn("reload: 2 of 2 source(s) and 1 of 1 sink(s) unchanged", d.log())

        # shutdown_grace and log_format are read where they are used: a reload applies them and restarts nothing.
        self.config(d, http_port, tcp_port, out, 2000, grace="7s", log_format="json")
        d.signal(signal.SIGHUP)

        def json_messages():
            messages = []
            for line in d.log().splitlines():
                try:
                    messages.append(json.loads(line)["message"])
                except ValueError:
                    pass  # a text line, from before the switch
            return messages

        wait_for(lambda: "reloaded" in json_messages(), 15, "the reload, logged as JSON")
        self.assertIn("reload: 2 of 2 source(s) and 1 of 1 sink(s) unchanged", json_messages())
        self.assertEqual(post_json(http_port, alert("after"))[0], 200)
        send_tcp(tcp_port, alert("after-tcp"))
        expect_delivered(self, out, ["after", "after-tcp"])
        wait_for(lambda: min(w.connects for w in watches) >= 10, 30, "connection probes")
        for w in watches:
            w.finish()
            w.check(self, min_connects=10)
        log = d.log()
        self.assertEqual(log.count(f"listening on 127.0.0.1:{http_port}"), 1)
        self.assertEqual(log.count(f"listening for NDJSON on tcp 127.0.0.1:{tcp_port}"), 1)
        self.assertNotIn("handed its listener over", log)
        self.assertNotIn("reload: sink", log)
        self.assertEqual(d.stop(), 0)
        # The new shutdown_grace is the one shutdown uses.
        self.assertIn("grace 7000 ms", d.log())


if __name__ == "__main__":
    unittest.main()
