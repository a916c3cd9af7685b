"""Fault test: the Elasticsearch-compatible receiver goes down in the middle of a 200,000-alert stream into HTTP and
TCP; once it is back it holds every alert saker acknowledged (compared by uuid), duplicates counted and reported."""
import json
import os
import socket
import threading
import time
import unittest

from es_bulk_server import EsBulkServer
from harness import Daemon, free_port, metric, post_json, wait_for

TOTAL_HTTP = 100_000
TOTAL_TCP = 100_000


def alert(uid):
    return json.dumps({"uuid": uid, "rule": "Outbound Connection to C2 Servers", "priority": "Warning",
                       "output": "outage test " + uid, "time": "2024-05-07T18:54:19.341081180Z", "hostname": "node-7",
                       "output_fields": {"proc.name": "curl", "fd.sip": "89.160.20.112"}})


class SinkOutageTest(unittest.TestCase):
    def test_receiver_down_mid_stream_loses_nothing(self):
        es_port = free_port()
        servers = [EsBulkServer(port=es_port).start()]
        d = Daemon("")
        try:
            http_port, tcp_port = free_port(), free_port()
            d.write_config(f"""
data_dir: {d.workdir}/data
sources:
  - {{type: http, listen: "127.0.0.1:{http_port}"}}
  - {{type: tcp, listen: "127.0.0.1:{tcp_port}"}}
sinks:
  - name: es
    type: elasticsearch
    url: http://127.0.0.1:{es_port}
    format: json
    index: "falco-%Y.%m.%d"
    buffer: {{type: disk, max_bytes: 1GiB}}
    retry: {{initial: 50ms, max: 500ms}}
""")
            d.start(wait_port=http_port)
            acked = set()
            sent_tcp = [f"t-{i}" for i in range(TOTAL_TCP)]

            def http_sender():
                for start in range(0, TOTAL_HTTP, 500):
                    ids = [f"h-{i}" for i in range(start, start + 500)]
                    body = "\n".join(alert(u) for u in ids)
                    while post_json(http_port, body)[0] != 200:  # 503: saker pushed back, the sender retries
                        time.sleep(0.05)
                    acked.update(ids)

            def tcp_sender():
                with socket.create_connection(("127.0.0.1", tcp_port)) as s:
                    for start in range(0, TOTAL_TCP, 1000):
                        s.sendall("".join(alert(u) + "\n" for u in sent_tcp[start:start + 1000]).encode())

            threads = [threading.Thread(target=http_sender), threading.Thread(target=tcp_sender)]
            for t in threads:
                t.start()
            # Let a part through, then take the receiver down: connections are dropped, then refused.
            wait_for(lambda: len(servers[0].docs()) > 20_000, 120, "the first alerts to reach the receiver")
            servers[0].drop = 10 ** 9
            servers[0].stop()
            down_at = time.time()
            time.sleep(3)
            self.assertEqual(metric(http_port, "saker_sink_healthy", {"sink": "es"}), 0)
            servers.append(EsBulkServer(port=es_port).start())
            print(f"\n  outage: receiver down for {time.time() - down_at:.1f} s")
            for t in threads:
                t.join()
            expected = acked | set(sent_tcp)

            def received():
                ids = set()
                for s in servers:
                    ids.update(doc_id for (_, doc_id) in s.docs())
                    with s.lock:
                        s.requests.clear()  # keep the test's memory flat
                return ids

            wait_for(lambda: expected <= received(), 180, "every alert at the receiver after the outage")
            second = {i for (_, i) in servers[1].docs()}
            both = sum(1 for (_, i) in servers[0].docs() if i in second)
            indexed = sum(metric(http_port, "saker_es_items_total", {"sink": "es", "result": r}) for r in ("created", "updated"))
            updated = metric(http_port, "saker_es_items_total", {"sink": "es", "result": "updated"})
            print(f"  outage: {len(expected)} alerts sent, all received; duplicates: {int(updated)} re-indexed "
                  f"(same _id) + {both} delivered to both receiver instances; {int(indexed)} index operations")
        finally:
            d.stop()
            d.cleanup()
            for s in servers[1:]:
                s.stop()
