"""Stdlib-only stand-ins for a generic webhook, Splunk's HTTP Event Collector and Grafana Loki's push API, faithful
to their published request and answer formats where saker depends on them. Scriptable from the tests through
attributes and methods (fail_requests, reject_event, delay, drop)."""
import json
import re

from fake_http import FakeHttpServer

LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class WebhookServer(FakeHttpServer):
    """Answers 200 {"ok":true}, or the statuses queued by fail_requests(status, …), one per request."""

    def __init__(self, port=0, tls=None, bearer=None):
        super().__init__(port, tls)
        self.bearer = bearer
        self.statuses = []

    def fail_requests(self, *statuses):
        with self.lock:
            self.statuses.extend(statuses)

    def handle(self, req):
        if self.bearer and req.header("Authorization") != f"Bearer {self.bearer}":
            return 401, {"WWW-Authenticate": "Bearer"}, {"error": "invalid bearer token"}
        with self.lock:
            status = self.statuses.pop(0) if self.statuses else 200
        if status == 200:
            return 200, {}, {"ok": True}
        return status, {"Content-Type": "text/plain"}, f"scripted failure {status}: payload refused by the receiver"


class HecServer(FakeHttpServer):
    """/services/collector/event: events back to back ({…}{…}), "Authorization: Splunk <token>". Events before an
    invalid one are indexed; the answer names the invalid one ("invalid-event-number", 0-based)."""

    PATHS = ("/services/collector/event", "/services/collector", "/services/collector/event/1.0")

    def __init__(self, port=0, tls=None, token="00000000-0000-0000-0000-000000000000", indexes=("main",)):
        super().__init__(port, tls)
        self.token = token
        self.indexes = set(indexes)
        self.events = []     # accepted events, in order
        self.busy = 0        # answer this many requests 503 "Server is busy" (code 9)
        self.rejects = []    # predicates: an event matching one is "Invalid data format" (code 6)

    def reject_event(self, predicate):
        self.rejects.append(predicate)

    def handle(self, req):
        if req.path not in self.PATHS:
            return 404, {}, {"text": "The requested URL was not found on this server.", "code": 404}
        auth = req.header("Authorization")
        if not auth:
            return 401, {}, {"text": "Token is required", "code": 2}
        if not auth.startswith("Splunk "):
            return 401, {}, {"text": "Invalid authorization", "code": 3}
        if auth[len("Splunk "):] != self.token:
            return 403, {}, {"text": "Invalid token", "code": 4}
        with self.lock:
            if self.busy > 0:
                self.busy -= 1
                return 503, {}, {"text": "Server is busy", "code": 9}
        text = req.body.decode("utf-8", errors="replace")
        if not text.strip():
            return 400, {}, {"text": "No data", "code": 5}
        decoder, pos, n, accepted = json.JSONDecoder(), 0, 0, []
        answer = (200, {}, {"text": "Success", "code": 0})
        while True:
            while pos < len(text) and text[pos] in " \t\r\n":
                pos += 1
            if pos >= len(text):
                break
            try:
                event, pos = decoder.raw_decode(text, pos)
            except ValueError:
                answer = (400, {}, {"text": "Invalid data format", "code": 6, "invalid-event-number": n})
                break
            problem = self._check(event)
            if problem:
                answer = (400, {}, {**problem, "invalid-event-number": n})
                break
            accepted.append(event)
            n += 1
        with self.lock:
            self.events.extend(accepted)
        return answer

    def _check(self, event):
        if not isinstance(event, dict):
            return {"text": "Invalid data format", "code": 6}
        if "event" not in event:
            return {"text": "Event field is required", "code": 12}
        if event["event"] in ("", None):
            return {"text": "Event field cannot be blank", "code": 13}
        if "time" in event and not isinstance(event["time"], (int, float)):
            try:
                float(event["time"])
            except (TypeError, ValueError):
                return {"text": "Invalid data format", "code": 6}
        if "index" in event and event["index"] not in self.indexes:
            return {"text": "Incorrect index", "code": 7}
        if any(p(event) for p in self.rejects):
            return {"text": "Invalid data format", "code": 6}
        return None


class LokiServer(FakeHttpServer):
    """POST /loki/api/v1/push with JSON (Content-Type application/json, optionally gzip): 204 on success.
    ordered=True behaves like Loki before unordered writes: an entry older than its stream's newest is refused
    (400 "entry out of order"), the rest of the request is kept."""

    def __init__(self, port=0, tls=None, ordered=True, require_tenant=False):
        super().__init__(port, tls)
        self.ordered = ordered
        self.require_tenant = require_tenant
        self.streams = {}  # (tenant, frozenset(labels)) -> [(ts, line)]
        self.statuses = []

    def fail_requests(self, *statuses):
        with self.lock:
            self.statuses.extend(statuses)

    def entries(self):
        with self.lock:
            return {k: list(v) for k, v in self.streams.items()}

    def handle(self, req):
        if req.path != "/loki/api/v1/push":
            return 404, {"Content-Type": "text/plain"}, "404 page not found\n"
        tenant = req.header("X-Scope-OrgID")
        if self.require_tenant and not tenant:
            return 401, {"Content-Type": "text/plain"}, "no org id\n"
        with self.lock:
            status = self.statuses.pop(0) if self.statuses else None
        if status == 429:
            return 429, {"Content-Type": "text/plain"}, (
                "Ingestion rate limit exceeded for user fake (limit: 4194304 bytes/sec) while attempting to ingest "
                "'1' lines totaling '100' bytes, reduce log volume or contact your Loki administrator to see if the "
                "limit can be increased\n")
        if status:
            return status, {"Content-Type": "text/plain"}, f"scripted failure {status}\n"
        if (req.header("Content-Type") or "").split(";")[0].strip() != "application/json":
            return 400, {"Content-Type": "text/plain"}, "snappy: corrupt input\n"
        try:
            push = req.json()
            streams = push["streams"]
        except (ValueError, KeyError, TypeError) as e:
            return 400, {"Content-Type": "text/plain"}, f"loghttp.PushRequest: {e}\n"
        errors, total, bad = [], 0, 0
        for s in streams:
            labels = s.get("stream") or {}
            shown = "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
            if not labels:
                return 400, {"Content-Type": "text/plain"}, "error at least one label pair is required per stream\n"
            for k, v in labels.items():
                if not LABEL_NAME.match(k) or k.startswith("__"):
                    return 400, {"Content-Type": "text/plain"}, f"invalid labels '{shown}' with error: invalid label name {k!r}\n"
                if not isinstance(v, str) or len(v.encode()) > 2048:
                    return 400, {"Content-Type": "text/plain"}, f"stream '{shown}' has label value too long\n"
            key = (tenant, frozenset(labels.items()))
            for entry in s.get("values") or []:
                total += 1
                if (not isinstance(entry, list) or len(entry) not in (2, 3) or not isinstance(entry[0], str)
                        or not entry[0].isdigit() or not isinstance(entry[1], str)):
                    return 400, {"Content-Type": "text/plain"}, f"loghttp.PushRequest: bad entry {entry!r}\n"
                ts = int(entry[0])
                with self.lock:
                    kept = self.streams.setdefault(key, [])
                    if kept and kept[-1] == (ts, entry[1]):
                        continue  # Loki drops an exact duplicate of the newest entry
                    if self.ordered and kept and ts < kept[-1][0]:
                        bad += 1
                        errors.append(f"entry with timestamp {ts} ignored, reason: 'entry out of order' for stream: {shown}")
                        continue
                    kept.append((ts, entry[1]))
        if errors:
            return 400, {"Content-Type": "text/plain"}, (
                f"{len(errors)} errors like: {errors[0]}; total ignored: {bad} out of {total}\n")
        return 204, {}, b""
