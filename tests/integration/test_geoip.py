"""The geoip stage through the real binary, with MaxMind's test databases: the fields reach every format where its
target expects them, and a damaged database stops `saker check` and `saker run` with the reason."""
import json
import os
import subprocess
import unittest

from harness import BINARY, Daemon, free_port, metric, post_json, read_lines, wait_for

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DBS = os.path.join(ROOT, "tests", "data", "geoip")


def geoip(city="GeoIP2-City-Test.mmdb", asn="GeoLite2-ASN-Test.mmdb"):
    return (f"enrich:\n  geoip: {{city_database: {os.path.join(DBS, city)}, "
            f"asn_database: {os.path.join(DBS, asn)}}}\n")


def alert(uid, **fields):
    return json.dumps({"uuid": uid, "rule": "Outbound connection to C2", "priority": "Critical",
                       "output": "connection", "time": "2024-08-28T21:35:04.518808525Z", "hostname": "node-1",
                       "source": "syscall", "tags": ["network"], "output_fields": fields})


class GeoipTest(unittest.TestCase):
    def test_fields_reach_every_format(self):
        port = free_port()
        d = Daemon("")
        try:
            paths = {f: os.path.join(d.workdir, f"{f}.out") for f in ("json", "ecs", "ocsf", "cef")}
            sinks = "\n".join(f"  - {{name: {f}, type: file, path: {p}, format: {f}}}" for f, p in paths.items())
            d.write_config(f"data_dir: {d.workdir}/data\n{geoip()}sources: [{{type: http, listen: \"127.0.0.1:{port}\"}}]\n"
                           f"sinks:\n{sinks}\n")
            d.start(wait_port=port)
            status, _, body = post_json(port, alert("g-1", **{"fd.sip": "81.2.69.142", "fd.cip": "10.1.2.3",
                                                             "fd.rip": "216.160.83.56", "proc.name": "curl"}))
            self.assertEqual(status, 200, body)
            out = {f: wait_for(lambda p=p: read_lines(p), 10, f"the {f} record")[0] for f, p in paths.items()}
            of = json.loads(out["json"])["output_fields"]
            self.assertEqual(of["fd.sip.geo.city_name"], "London")
            self.assertEqual(of["fd.sip.geo.country_iso_code"], "GB")
            self.assertAlmostEqual(of["fd.rip.geo.location.lat"], 47.2513)
            self.assertEqual(of["fd.rip.as.number"], 209)
            self.assertEqual(of["fd.cip.geo.network"], "private")
            self.assertEqual(of["fd.sip"], "81.2.69.142")  # Falco's own field untouched
            ecs = json.loads(out["ecs"])
            self.assertEqual(ecs["server"]["ip"], "81.2.69.142")
            self.assertEqual(ecs["server"]["geo"]["city_name"], "London")
            self.assertEqual(ecs["server"]["geo"]["country_iso_code"], "GB")
            self.assertEqual(ecs["destination"]["geo"]["location"], {"lat": 47.2513, "lon": -122.3149})
            self.assertEqual(ecs["destination"]["as"]["number"], 209)
            self.assertEqual(ecs["labels"]["fd_cip_geo_network"], "private")
            self.assertNotIn("fd_sip_geo_city_name", ecs.get("labels", {}))
            ocsf = json.loads(out["ocsf"])
            city = [e for e in ocsf["enrichments"] if e["name"] == "fd.sip.geo.city_name"]
            self.assertEqual(len(city), 1, ocsf["enrichments"])
            self.assertEqual(city[0]["value"], "London")
            self.assertEqual(city[0]["type"], "Location")
            self.assertEqual(city[0]["provider"], "MaxMind database")
            self.assertIn("London", out["cef"])
            self.assertEqual(metric(port, "saker_enrich_hits_total", {"stage": "geoip"}), 1)
            self.assertEqual(metric(port, "saker_enrich_lookups_total", {"stage": "geoip", "result": "found"}), 2)
            self.assertEqual(metric(port, "saker_enrich_lookups_total", {"stage": "geoip", "result": "not_public"}), 1)
        finally:
            d.cleanup()

    def test_a_filter_routes_on_the_added_country(self):
        port = free_port()
        d = Daemon("")
        try:
            abroad, home = (os.path.join(d.workdir, n) for n in ("abroad.ndjson", "home.ndjson"))
            d.write_config(f"data_dir: {d.workdir}/data\n{geoip()}sources: [{{type: http, listen: \"127.0.0.1:{port}\"}}]\n"
                           f"sinks:\n  - {{name: abroad, type: file, path: {abroad}, filter: 'fd.sip.geo.country_iso_code = US'}}\n"
                           f"  - {{name: home, type: file, path: {home}, filter: 'not fd.sip.geo.country_iso_code = US'}}\n")
            d.start(wait_port=port)
            body = "\n".join([alert("us", **{"fd.sip": "216.160.83.56"}), alert("gb", **{"fd.sip": "81.2.69.142"}),
                              alert("none", **{"proc.name": "sh"})])
            self.assertEqual(post_json(port, body)[0], 200)
            got_abroad = wait_for(lambda: len(read_lines(abroad)) == 1 and read_lines(abroad), 10, "the US alert")
            got_home = wait_for(lambda: len(read_lines(home)) == 2 and read_lines(home), 10, "the other two")
            self.assertEqual(json.loads(got_abroad[0])["uuid"], "us")
            self.assertEqual(sorted(json.loads(l)["uuid"] for l in got_home), ["gb", "none"])
        finally:
            d.cleanup()

    def test_a_damaged_database_is_refused_by_check_and_run(self):
        d = Daemon("")
        try:
            cfg = os.path.join(d.workdir, "bad.yaml")
            with open(cfg, "w") as f:
                f.write(f"data_dir: {d.workdir}/data\n{geoip(city='GeoIP2-City-Test-Broken-Double-Format.mmdb')}"
                        "sources: [{type: stdin}]\nsinks: [{name: out, type: stdout}]\n")
            for cmd in (["check", "-c", cfg], ["run", "-c", cfg]):
                r = subprocess.run([BINARY, *cmd], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
                self.assertNotEqual(r.returncode, 0, r.stdout)
                self.assertIn("enrich.geoip.city_database: MaxMind database", r.stderr)
                self.assertIn("is damaged", r.stderr)
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
