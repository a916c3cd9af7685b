"""A stdlib-only stand-in for Elasticsearch's (and OpenSearch's) `_bulk` API, for tests: no Elasticsearch can run here.

Faithful to the published API where saker depends on it:
- POST|PUT /_bulk and /<index>/_bulk; Content-Type application/x-ndjson or application/json (others: 406);
  Content-Encoding gzip bodies.
- NDJSON framing checked as Elasticsearch does: the body must end with "\\n"; every action line is an object with
  one of index/create/update/delete holding _index/_id/… (unknown parameters refused); index/create/update take
  the next line as their source; delete takes none. Framing errors refuse the whole request (400
  illegal_argument_exception / action_request_validation_exception).
- Answers {"took":…,"errors":…,"items":[{"<action>":{"_index","_id","_version","result","_shards","_seq_no",
  "_primary_term","status"}}]} in request order. index over an existing _id: 200 "updated"; create over one: 409
  version_conflict_engine_exception; a source that is not a JSON object: 400 mapper_parsing_exception; invalid
  index names: 400 invalid_index_name_exception; fields declared `long` (long_fields) that do not parse: 400
  mapper_parsing_exception with Elasticsearch's reason text.
- Scriptable: per-_id failures (fail_item), whole-request 429/503/500 (fail_requests), a body-size limit (413),
  slow answers (delay), dropped connections (drop), Basic/ApiKey/Bearer auth (401 with security_exception),
  PUT /_index_template/<name>.
- Lifecycle policies: PUT /_ilm/policy/<name> (Elasticsearch: creates or replaces, 200 {"acknowledged":true}; a body
  without a "policy" object or with unknown phases: 400) and PUT /_plugins/_ism/policies/<name> (OpenSearch: 201 on
  create; 409 version_conflict_engine_exception when it exists and no if_seq_no/if_primary_term is given).
  fail_setup scripts whole-request failures (e.g. 503) for the next policy or template PUTs.
"""
import base64
import json
import random
import string
import time

from fake_http import FakeHttpServer

ACTIONS = ("index", "create", "update", "delete")
META = {"_index", "_id", "routing", "pipeline", "require_alias", "require_data_stream", "if_seq_no",
        "if_primary_term", "version", "version_type", "dynamic_templates", "retry_on_conflict", "op_type", "_source"}
FAILURES = {
    429: ("es_rejected_execution_exception", "rejected execution of coordinating operation [coordinating_and_primary_bytes=0, "
                                             "replica_bytes=0, all_bytes=0, coordinating_operation_bytes=512, "
                                             "max_coordinating_and_primary_bytes=0]"),
    400: ("mapper_parsing_exception", "failed to parse field [output_fields] of type [keyword]"),
    500: ("exception", "internal error while indexing"),
    503: ("unavailable_shards_exception", "[falco][0] primary shard is not active Timeout: [1m]"),
}


def es_error(status, etype, reason, **extra):
    cause = {"type": etype, "reason": reason, **extra}
    return {"error": {"root_cause": [cause], **cause}, "status": status}


class EsBulkServer(FakeHttpServer):
    def __init__(self, port=0, tls=None, auth=None, api_key=None, bearer=None, max_content_length=None,
                 long_fields=()):
        super().__init__(port, tls)
        self.auth, self.api_key, self.bearer = auth, api_key, bearer
        self.max_content_length = max_content_length
        self.long_fields = set(long_fields)
        self.indices = {}         # index -> {_id: {"_source": …, "_version": n}}
        self.item_failures = {}   # _id -> [(status, type, reason), …], one used per attempt
        self.request_failures = []  # whole-request statuses, one used per _bulk request
        self.templates = {}
        self.ilm_policies = {}    # name -> {"policy": …, "version": n}
        self.ism_policies = {}    # name -> {"policy": …, "_seq_no": n}
        self.setup_failures = []  # statuses for the next PUTs of policies and templates
        self.seq_no = 0

    # --- scripting -------------------------------------------------------------------------------------------
    def fail_item(self, doc_id, *failures):
        """The next attempts at `doc_id` fail: each failure is a status (429, 400, 500, 503) or (status, type, reason)."""
        with self.lock:
            self.item_failures.setdefault(doc_id, []).extend(
                f if isinstance(f, tuple) else (f, *FAILURES[f]) for f in failures)

    def fail_requests(self, *statuses):
        with self.lock:
            self.request_failures.extend(statuses)

    def docs(self, index=None):
        with self.lock:
            return {(i, d): v["_source"] for i, docs in self.indices.items() if index in (None, i)
                    for d, v in docs.items()}

    def bulk_requests(self):
        return [r for r in self.received() if r.path.endswith("/_bulk")]

    # --- the API ----------------------------------------------------------------------------------------------
    def handle(self, req):
        headers = {"X-elastic-product": "Elasticsearch"}
        if not self._authorized(req):
            return 401, {**headers, "WWW-Authenticate": 'Basic realm="security" charset="UTF-8"'}, es_error(
                401, "security_exception",
                f"{'unable to authenticate user [' + self._user(req) + ']' if req.header('Authorization') else 'missing authentication credentials'}"
                f" for REST request [{req.path}]", header={"WWW-Authenticate": ['Basic realm="security" charset="UTF-8"']})
        parts = [p for p in req.path.split("/") if p]
        if req.method in ("GET", "HEAD") and not parts:
            return 200, headers, {"name": "fake-es", "cluster_name": "saker-test", "version": {"number": "8.13.0",
                                  "distribution": "elasticsearch"}, "tagline": "You Know, for Search"}
        is_setup = req.method == "PUT" and (
            (len(parts) == 2 and parts[0] == "_index_template") or (len(parts) == 3 and parts[:2] == ["_ilm", "policy"])
            or (len(parts) == 4 and parts[:3] == ["_plugins", "_ism", "policies"]))
        if is_setup:
            with self.lock:
                failure = self.setup_failures.pop(0) if self.setup_failures else None
            if failure is not None:
                etype, reason = FAILURES.get(failure, ("exception", "setup failed"))
                return failure, headers, es_error(failure, etype, reason)
        if req.method == "PUT" and len(parts) == 2 and parts[0] == "_index_template":
            return self._template(parts[1], req, headers)
        if is_setup and parts[0] == "_ilm":
            return self._ilm_policy(parts[2], req, headers)
        if is_setup and parts[0] == "_plugins":
            return self._ism_policy(parts[3], req, headers)
        if req.method in ("POST", "PUT") and parts and parts[-1] == "_bulk" and len(parts) <= 2:
            return self._bulk(req, parts[0] if len(parts) == 2 else None, headers)
        return 400, headers, {"error": f"no handler found for uri [{req.path}] and method [{req.method}]", "status": 400}

    def _user(self, req):
        value = req.header("Authorization") or ""
        if value.startswith("Basic "):
            try:
                return base64.b64decode(value[6:]).decode().split(":", 1)[0]
            except ValueError:
                pass
        return "_anonymous"

    def _authorized(self, req):
        if not (self.auth or self.api_key or self.bearer):
            return True
        value = req.header("Authorization") or ""
        if self.auth and value == "Basic " + base64.b64encode(f"{self.auth[0]}:{self.auth[1]}".encode()).decode():
            return True
        if self.api_key and value == f"ApiKey {self.api_key}":
            return True
        return bool(self.bearer) and value == f"Bearer {self.bearer}"

    def _template(self, name, req, headers):
        try:
            body = json.loads(req.body)
        except ValueError as e:
            return 400, headers, es_error(400, "x_content_parse_exception", f"[1:1] {e}")
        if not isinstance(body, dict) or not body.get("index_patterns"):
            return 400, headers, es_error(400, "action_request_validation_exception",
                                          "Validation Failed: 1: index patterns are missing;")
        with self.lock:
            self.templates[name] = body
        return 200, headers, {"acknowledged": True}

    def _policy_body(self, req, headers):
        try:
            body = json.loads(req.body)
        except ValueError as e:
            return None, (400, headers, es_error(400, "x_content_parse_exception", f"[1:1] {e}"))
        if not isinstance(body, dict) or not isinstance(body.get("policy"), dict):
            return None, (400, headers, es_error(400, "x_content_parse_exception",
                                                 "[1:2] [put_lifecycle_request] failed to parse field [policy]"))
        return body, None

    def _ilm_policy(self, name, req, headers):
        body, err = self._policy_body(req, headers)
        if err:
            return err
        unknown = set(body["policy"].get("phases", {})) - {"hot", "warm", "cold", "frozen", "delete"}
        if unknown:
            return 400, headers, es_error(400, "illegal_argument_exception",
                                          f"Timeseries lifecycle does not support phase [{sorted(unknown)[0]}]")
        with self.lock:
            version = self.ilm_policies.get(name, {}).get("version", 0) + 1
            self.ilm_policies[name] = {"policy": body["policy"], "version": version}
        return 200, headers, {"acknowledged": True}

    def _ism_policy(self, name, req, headers):
        body, err = self._policy_body(req, headers)
        if err:
            return err
        with self.lock:
            if name in self.ism_policies and not req.query.get("if_seq_no"):
                return 409, headers, es_error(409, "version_conflict_engine_exception",
                                              f"[{name}]: version conflict, document already exists (current version [1])",
                                              index=".opendistro-ism-config", shard="0")
            self.seq_no += 1
            self.ism_policies[name] = {"policy": body["policy"], "_seq_no": self.seq_no}
        return 201, headers, {"_id": name, "_version": 1, "_primary_term": 1, "_seq_no": self.seq_no,
                              "policy": {"policy": body["policy"]}}

    def _bulk(self, req, path_index, headers):
        start = time.time()
        if self.max_content_length is not None and len(req.body) > self.max_content_length:
            return 413, headers, b""
        with self.lock:
            failure = self.request_failures.pop(0) if self.request_failures else None
        if failure == 429:
            return 429, headers, es_error(429, *FAILURES[429])
        if failure in (500, 503):
            return failure, headers, es_error(failure, "master_not_discovered_exception" if failure == 503 else "exception",
                                              "the cluster is not available" if failure == 503 else "internal error")
        ctype = (req.header("Content-Type") or "").split(";")[0].strip().lower()
        if not ctype:
            return 406, headers, {"error": "Content-Type header is missing", "status": 406}
        if ctype not in ("application/x-ndjson", "application/json"):
            return 406, headers, {"error": f"Content-Type header [{req.header('Content-Type')}] is not supported",
                                  "status": 406}
        try:
            ops = self._parse(req.body, path_index)
        except ValueError as e:
            kind = "action_request_validation_exception" if str(e).startswith("Validation Failed") else "illegal_argument_exception"
            return 400, headers, es_error(400, kind, str(e))
        items = [self._apply(*op, pipeline=req.query.get("pipeline")) for op in ops]
        errors = any("error" in next(iter(i.values())) for i in items)
        return 200, headers, {"took": int((time.time() - start) * 1000), "errors": errors, "items": items}

    def _parse(self, body, path_index):
        """[(action, meta, source or None)] or ValueError with Elasticsearch's message."""
        if not body:
            raise ValueError("Validation Failed: 1: no requests added;")
        if not body.endswith(b"\n"):
            raise ValueError("The bulk request must be terminated by a newline [\\n]")
        lines = body[:-1].split(b"\n")
        ops, i = [], 0
        while i < len(lines):
            n = i + 1
            line = lines[i].rstrip(b"\r")
            try:
                action_obj = json.loads(line) if line.strip() else None
            except ValueError:
                raise ValueError(f"Malformed action/metadata line [{n}], expected START_OBJECT but found [VALUE_STRING]")
            if not isinstance(action_obj, dict):
                raise ValueError(f"Malformed action/metadata line [{n}], expected START_OBJECT but found [null]")
            if len(action_obj) != 1:
                raise ValueError(f"Malformed action/metadata line [{n}], expected END_OBJECT but found [FIELD_NAME]")
            action, meta = next(iter(action_obj.items()))
            if action not in ACTIONS:
                raise ValueError(f"Malformed action/metadata line [{n}], expected field [create], [delete], [index] "
                                 f"or [update] but found [{action}]")
            if not isinstance(meta, dict):
                raise ValueError(f"Malformed action/metadata line [{n}], expected START_OBJECT but found [VALUE_STRING]")
            for k in meta:
                if k not in META:
                    raise ValueError(f"Action/metadata line [{n}] contains an unknown parameter [{k}]")
            meta = dict(meta)
            meta.setdefault("_index", path_index)
            if not meta["_index"]:
                raise ValueError("Validation Failed: 1: index is missing;")
            if len(str(meta.get("_id", "")).encode()) > 512:
                raise ValueError(f"Validation Failed: 1: id [{meta['_id']}] is too long, must be no longer than 512 "
                                 f"bytes but was: {len(str(meta['_id']).encode())};")
            source = None
            if action != "delete":
                if i + 1 >= len(lines):
                    raise ValueError("The bulk request must be terminated by a newline [\\n]")
                source = lines[i + 1].rstrip(b"\r")
                i += 1
            ops.append((action, meta, source))
            i += 1
        return ops

    def _apply(self, action, meta, source, pipeline=None):
        index = meta["_index"]
        doc_id = meta.get("_id") or "".join(random.choices(string.ascii_letters + string.digits + "-_", k=20))
        base = {"_index": index, "_id": doc_id}
        with self.lock:
            scripted = self.item_failures.get(doc_id)
            failure = scripted.pop(0) if scripted else None

        def fail(status, etype, reason, **extra):
            return {action: {**base, "status": status, "error": {"type": etype, "reason": reason, **extra}}}

        if failure:
            return fail(*failure)
        bad_name = self._bad_index_name(index)
        if bad_name:
            return fail(400, "invalid_index_name_exception", f"Invalid index name [{index}], {bad_name}",
                        index_uuid="_na_", index=index)
        doc = None
        if source is not None:
            try:
                doc = json.loads(source)
            except ValueError as e:
                return fail(400, "mapper_parsing_exception", "failed to parse",
                            caused_by={"type": "json_parse_exception", "reason": str(e)})
            if not isinstance(doc, dict):
                return fail(400, "mapper_parsing_exception", "failed to parse",
                            caused_by={"type": "not_x_content_exception",
                                       "reason": "Compressor detection can only be called on some xcontent bytes or "
                                                 "compressed xcontent bytes"})
            if action in ("index", "create"):
                for path, value in _flatten(doc):
                    if path in self.long_fields and not _is_long(value):
                        return fail(400, "mapper_parsing_exception",
                                    f"failed to parse field [{path}] of type [long] in document with id '{doc_id}'. "
                                    f"Preview of field's value: '{value}'",
                                    caused_by={"type": "illegal_argument_exception",
                                               "reason": f'For input string: "{value}"'})
        with self.lock:
            docs = self.indices.setdefault(index, {})
            existing = docs.get(doc_id)
            if action == "create" and existing:
                return fail(409, "version_conflict_engine_exception",
                            f"[{doc_id}]: version conflict, document already exists (current version "
                            f"[{existing['_version']}])", index_uuid="aAsFqTI0Tc2W0LCWgPNrOA", shard="0", index=index)
            if action in ("update", "delete") and not existing:
                if action == "update":
                    return fail(404, "document_missing_exception", f"[{doc_id}]: document missing",
                                index_uuid="aAsFqTI0Tc2W0LCWgPNrOA", shard="0", index=index)
                result, status, version = "not_found", 404, 1
            elif action == "delete":
                del docs[doc_id]
                result, status, version = "deleted", 200, existing["_version"] + 1
            else:
                if action == "update":
                    doc = {**existing["_source"], **(doc.get("doc") or {})}
                version = existing["_version"] + 1 if existing else 1
                docs[doc_id] = {"_source": doc, "_version": version, "pipeline": pipeline}
                result, status = ("updated", 200) if existing else ("created", 201)
            self.seq_no += 1
            seq = self.seq_no
        return {action: {**base, "_version": version, "result": result,
                         "_shards": {"total": 2, "successful": 1, "failed": 0},
                         "_seq_no": seq, "_primary_term": 1, "status": status}}

    @staticmethod
    def _bad_index_name(name):
        if name != name.lower():
            return "must be lowercase"
        if any(c in name for c in '\\/*?"<>| ,#:'):
            return 'must not contain the following characters [ , ", *, \\, <, |, ,, >, /, ?]'
        if name[0] in "-_+":
            return "must not start with '_', '-', or '+'"
        return None


def _flatten(doc, prefix=""):
    for k, v in doc.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict):
            yield from _flatten(v, path + ".")
        else:
            yield path, v


def _is_long(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    try:
        int(str(value))
        return True
    except ValueError:
        return False


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description="A fake Elasticsearch _bulk endpoint for manual testing")
    ap.add_argument("--port", type=int, default=9200)
    args = ap.parse_args()
    s = EsBulkServer(port=args.port).start()
    print(f"listening on {s.url}", flush=True)
    s.thread.join()
