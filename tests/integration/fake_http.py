"""The base of the test servers that stand in for SOC tools (stdlib only): a keep-alive HTTP/1.1 server on a free
loopback port, optionally TLS, that records every request (gzip bodies decoded), can answer slowly or drop
connections on demand, and leaves the answer to a subclass's handle(request)."""
import gzip
import json
import os
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Request:
    def __init__(self, method, target, headers, raw):
        parts = urlsplit(target)
        self.method = method
        self.path = parts.path
        self.query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self.headers = headers  # email.message.Message: case-insensitive get()
        self.raw = raw          # the body as received
        self.body = raw         # decoded from Content-Encoding
        self.decode_error = None
        if (headers.get("Content-Encoding") or "").lower() == "gzip":
            try:
                self.body = gzip.decompress(raw)
            except (OSError, EOFError) as e:
                self.decode_error = str(e)

    def header(self, name):
        return self.headers.get(name)

    def json(self):
        return json.loads(self.body)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # a client that timed out and left is what some tests are about


class FakeHttpServer:
    """Subclasses implement handle(req) -> (status, headers dict, body bytes or str or JSON-able)."""

    def __init__(self, port=0, tls=None):
        self.requests = []
        self.lock = threading.Lock()
        self.delay = 0.0  # seconds to wait before answering
        self.drop = 0     # close this many connections after reading the request, without an answer
        self.tls = tls
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                server._dispatch(self)

            do_PUT = do_GET = do_HEAD = do_DELETE = do_POST

        self.httpd = _QuietServer(("127.0.0.1", port), Handler)
        if tls:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = None

    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def received(self, path_prefix=""):
        with self.lock:
            return [r for r in self.requests if r.path.startswith(path_prefix)]

    @staticmethod
    def _read_body(h):
        if (h.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            out = b""
            while True:
                size = int(h.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    h.rfile.readline()
                    return out
                out += h.rfile.read(size)
                h.rfile.readline()
        n = int(h.headers.get("Content-Length") or 0)
        return h.rfile.read(n) if n else b""

    def _dispatch(self, h):
        raw = self._read_body(h)
        req = Request(h.command, h.path, h.headers, raw)
        with self.lock:
            self.requests.append(req)
            drop = self.drop > 0
            if drop:
                self.drop -= 1
        if drop:
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if self.delay:
            time.sleep(self.delay)
        if req.decode_error:
            status, headers, body = 400, {"Content-Type": "text/plain"}, f"bad gzip body: {req.decode_error}"
        else:
            status, headers, body = self.handle(req)
        if isinstance(body, (dict, list)):
            body = json.dumps(body, separators=(",", ":"))
            headers = {"Content-Type": "application/json", **(headers or {})}
        if isinstance(body, str):
            body = body.encode()
        try:
            h.send_response(status)
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            if h.command != "HEAD":
                h.wfile.write(body)
        except OSError:
            h.close_connection = True

    def handle(self, req):
        raise NotImplementedError


def make_test_pki(directory):
    """A CA, a server certificate for 127.0.0.1/localhost and a client certificate, made with the openssl CLI.
    Returns a dict of file paths."""
    p = {n: os.path.join(directory, n) for n in
         ("ca.key", "ca.pem", "server.key", "server.pem", "client.key", "client.pem", "other-ca.key", "other-ca.pem")}

    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    for ca in ("ca", "other-ca"):
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p[f"{ca}.key"], "-out", p[f"{ca}.pem"],
            "-days", "2", "-subj", f"/CN=saker test {ca}")
    ext = os.path.join(directory, "san.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:siem.test\n")
    for who, subj in (("server", "/CN=localhost"), ("client", "/CN=saker")):
        csr = os.path.join(directory, f"{who}.csr")
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", p[f"{who}.key"], "-out", csr, "-subj", subj)
        run("x509", "-req", "-in", csr, "-CA", p["ca.pem"], "-CAkey", p["ca.key"], "-CAcreateserial", "-out",
            p[f"{who}.pem"], "-days", "2", *(["-extfile", ext] if who == "server" else []))
    return p


def server_tls_context(pki, require_client_cert=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki["server.pem"], pki["server.key"])
    if require_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(pki["ca.pem"])
    return ctx


class SinkDaemon:
    """saker with an HTTP source on a free port and the given sinks (dicts, written as JSON, which is YAML)."""

    def __init__(self, *sinks):
        from harness import Daemon, free_port
        self.http_port = free_port()
        self.d = Daemon("")
        lines = "\n".join("  - " + json.dumps(s) for s in sinks)
        self.d.write_config(f"data_dir: {self.d.workdir}/data\nshutdown_grace: 2s\nsources:\n"
                            f"  - {{type: http, listen: \"127.0.0.1:{self.http_port}\"}}\nsinks:\n{lines}\n")
        self.workdir = self.d.workdir
        self.d.start(wait_port=self.http_port)

    def post(self, alerts):
        from harness import post_json
        text = "\n".join(a if isinstance(a, str) else json.dumps(a) for a in alerts) + "\n"
        status, _, body = post_json(self.http_port, text)
        assert status == 200, (status, body)

    def metric(self, name, **labels):
        from harness import metric
        return metric(self.http_port, name, labels)

    def dead_letters(self, sink):
        from harness import read_lines
        return [json.loads(line) for line in read_lines(os.path.join(self.workdir, "data", "dead_letter", sink + ".ndjson"))]

    def log(self):
        return self.d.log()

    def alive(self):
        return self.d.proc.poll() is None

    def cleanup(self):
        self.d.cleanup()
