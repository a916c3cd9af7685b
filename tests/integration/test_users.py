"""The users stage through the real binary: a CSV file's entry reaches the sinks, and a real slapd answers the
LDAP lookups apart from the alerts: the first alert of a user goes on without the fields, later ones get them, an
injection in the filter matches nobody, and with the directory stopped alerts still flow and the errors are
counted."""
import json
import os
import shutil
import subprocess
import unittest

from harness import Daemon, free_port, http_request, metric, post_json, read_lines, wait_for

SLAPD = shutil.which("slapd") or ("/usr/sbin/slapd" if os.path.exists("/usr/sbin/slapd") else None)
LDAPADD = shutil.which("ldapadd")
SLAPPASSWD = shutil.which("slappasswd") or ("/usr/sbin/slappasswd" if os.path.exists("/usr/sbin/slappasswd") else None)

SUFFIX = "dc=example,dc=test"
ADMIN = f"cn=admin,{SUFFIX}"
PASSWORD = "s3cret-ldap-pw"

LDIF = f"""dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,{SUFFIX}
objectClass: organizationalUnit
ou: people

dn: uid=alice,ou=people,{SUFFIX}
objectClass: inetOrgPerson
objectClass: posixAccount
uid: alice
cn: alice
sn: Liddell
displayName: Alice Liddell
title: SRE
departmentNumber: Platform
mail: alice@example.test
uidNumber: 1000
gidNumber: 1000
homeDirectory: /home/alice
userPassword: alicepw

dn: uid=bob,ou=people,{SUFFIX}
objectClass: inetOrgPerson
objectClass: posixAccount
uid: bob
cn: Bob Builder
sn: Builder
mail: bob@example.test
uidNumber: 1001
gidNumber: 1001
homeDirectory: /home/bob
"""


def alert(uuid, **fields):
    return json.dumps({"uuid": uuid, "rule": "Terminal shell in container", "priority": "Warning", "output": "shell",
                       "hostname": "web-1", "source": "syscall", "output_fields": fields})


class Slapd:
    """A slapd of the test's own, on a free loopback port, as TESTING-NOTES section 3 runs it."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "slapd")
        os.makedirs(os.path.join(self.dir, "db"))
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}/"
        rootpw = subprocess.run([SLAPPASSWD, "-s", PASSWORD], capture_output=True, text=True, check=True).stdout.strip()
        self.conf = os.path.join(self.dir, "slapd.conf")
        with open(self.conf, "w") as f:
            f.write(f"""include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {self.dir}/slapd.pid
argsfile {self.dir}/slapd.args
database mdb
maxsize 104857600
suffix "{SUFFIX}"
rootdn "{ADMIN}"
rootpw {rootpw}
directory {self.dir}/db
index objectClass eq
index uid eq
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
""")
        test = subprocess.run([SLAPD.replace("slapd", "slaptest") if os.path.exists(SLAPD.replace("slapd", "slaptest")) else "slaptest",
                               "-f", self.conf, "-u"], capture_output=True, text=True)
        if test.returncode != 0:
            raise AssertionError(f"slaptest: {test.stderr}")
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.dir, "slapd.log"), "ab")
        self.proc = subprocess.Popen([SLAPD, "-d", "0", "-h", self.url, "-f", self.conf], stdout=self.log, stderr=self.log)
        wait_for(lambda: self.proc.poll() is not None or self._answers(), 15, "slapd to answer")
        if self.proc.poll() is not None:
            raise AssertionError(f"slapd exited with {self.proc.returncode}")

    def _answers(self):
        r = subprocess.run(["ldapsearch", "-x", "-LLL", "-H", self.url, "-b", "", "-s", "base", "(objectClass=*)"],
                           capture_output=True)
        return r.returncode == 0

    def load(self, ldif_path):
        r = subprocess.run([LDAPADD, "-x", "-H", self.url, "-D", ADMIN, "-w", PASSWORD, "-f", ldif_path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError(f"ldapadd: {r.stderr}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)
        if self.proc:
            self.log.close()


def fields_of(path, uuid):
    for line in read_lines(path):
        a = json.loads(line)
        if a["uuid"] == uuid:
            return a["output_fields"]
    return None


class UsersFileTest(unittest.TestCase):
    def test_a_csv_entry_reaches_the_sinks_by_the_alerts_uid(self):
        port = free_port()
        d = Daemon("")
        try:
            with open(os.path.join(d.workdir, "users.csv"), "w") as f:
                f.write('uid,name,full_name,role,department,email\n1000,alice,"Liddell, Alice",SRE,Platform,alice@example.test\n')
            out, ecs = os.path.join(d.workdir, "out.ndjson"), os.path.join(d.workdir, "ecs.ndjson")
            d.write_config(f"""data_dir: {d.workdir}/data
enrich:
  users: {{path: users.csv}}
sources: [{{type: http, listen: "127.0.0.1:{port}"}}]
sinks:
  - {{name: out, type: file, path: {out}}}
  - {{name: ecs, type: file, path: {ecs}, format: ecs}}
""")
            d.start(wait_port=port)
            body = "\n".join([alert("a1", **{"user.uid": 1000, "user.name": "alice"}), alert("a2", **{"user.uid": 4242})])
            self.assertEqual(post_json(port, body)[0], 200)
            wait_for(lambda: len(read_lines(out)) == 2, 10, "two alerts")
            a1 = fields_of(out, "a1")
            self.assertEqual(a1["user.full_name"], "Liddell, Alice")
            self.assertEqual(a1["user.role"], "SRE")
            self.assertEqual(a1["user.department"], "Platform")
            self.assertEqual(a1["user.email"], "alice@example.test")
            self.assertNotIn("user.full_name", fields_of(out, "a2"))
            ecs_doc = [e for e in map(json.loads, wait_for(lambda: len(read_lines(ecs)) == 2 and read_lines(ecs), 10, "ECS"))
                       if e["falco"]["uuid"] == "a1"][0]
            self.assertEqual(ecs_doc["user"]["full_name"], "Liddell, Alice")
            self.assertEqual(ecs_doc["user"]["roles"], ["SRE"])
            self.assertEqual(metric(port, "saker_enrich_hits_total", {"stage": "users"}), 1)
        finally:
            d.cleanup()


@unittest.skipUnless(SLAPD and LDAPADD and SLAPPASSWD, "slapd and ldap-utils are not installed (scripts/setup.sh installs them)")
class UsersLdapTest(unittest.TestCase):
    def test_a_real_directory_answers_apart_from_the_alerts(self):
        port = free_port()
        d = Daemon("")
        slapd = Slapd(d.workdir)
        try:
            slapd.start()
            ldif = os.path.join(d.workdir, "users.ldif")
            with open(ldif, "w") as f:
                f.write(LDIF)
            slapd.load(ldif)
            with open(os.path.join(d.workdir, "ldap-password"), "w") as f:
                f.write(PASSWORD + "\n")
            out = os.path.join(d.workdir, "out.ndjson")
            d.write_config(f"""data_dir: {d.workdir}/data
enrich:
  users:
    ldap:
      url: "{slapd.url}"
      bind_dn: "{ADMIN}"
      password: "${{file:ldap-password}}"
      base_dn: "ou=people,{SUFFIX}"
      filter: "(|(uidNumber={{user.uid}})(uid={{user.name}}))"
      ttl: 10m
      timeout: 2s
sources: [{{type: http, listen: "127.0.0.1:{port}"}}]
sinks:
  - {{name: out, type: file, path: {out}}}
""")
            d.start(wait_port=port)
            sent = []

            def post(uuid, **fields):
                sent.append(uuid)
                self.assertEqual(post_json(port, alert(uuid, **fields))[0], 200)
                return uuid

            # The first alert goes on without the fields; one after the answer came has them.
            def enriched():
                u = post(f"alice-{len(sent)}", **{"user.uid": 1000, "user.name": "alice"})
                f = wait_for(lambda: fields_of(out, u), 10, f"alert {u}")
                return f if "user.full_name" in f else None

            got = wait_for(enriched, 20, "an alert enriched from the directory")
            self.assertEqual(got["user.full_name"], "Alice Liddell")
            self.assertEqual(got["user.role"], "SRE")
            self.assertEqual(got["user.department"], "Platform")
            self.assertEqual(got["user.email"], "alice@example.test")
            self.assertIsNone(fields_of(out, "alice-0").get("user.full_name"))  # the first did not wait
            self.assertGreaterEqual(metric(port, "saker_enrich_misses_total", {"stage": "users"}), 1)
            self.assertEqual(metric(port, "saker_enrich_lookups_total", {"stage": "users", "result": "found"}), 1)

            # An injection matches nobody: the directory answers "no such user" and nothing is added.
            injection = "*)(uid=*"
            wait_for(lambda: post(f"inj-{len(sent)}", **{"user.uid": injection, "user.name": injection}) and
                     metric(port, "saker_enrich_lookups_total", {"stage": "users", "result": "not_found"}) >= 1,
                     20, "the injection's lookup")
            last = post("inj-last", **{"user.uid": injection, "user.name": injection})
            wait_for(lambda: len(read_lines(out)) == len(sent), 10, "every alert")
            for u in sent:
                if u.startswith("inj"):
                    self.assertNotIn("user.full_name", fields_of(out, u), u)
            self.assertNotIn("user.email", fields_of(out, last))

            # The directory goes away: alerts still flow, without the fields of an uncached user, and errors count.
            slapd.stop()
            wait_for(lambda: post(f"bob-{len(sent)}", **{"user.uid": 1001, "user.name": "bob"}) and
                     metric(port, "saker_enrich_lookups_total", {"stage": "users", "result": "error"}) >= 1,
                     20, "a failed lookup counted")
            post("bob-last", **{"user.uid": 1001, "user.name": "bob"})
            post("alice-cached", **{"user.uid": 1000, "user.name": "alice"})
            wait_for(lambda: len(read_lines(out)) == len(sent), 10, "every alert with the directory down")
            for u in sent:
                if u.startswith("bob"):
                    self.assertNotIn("user.full_name", fields_of(out, u), u)
            self.assertEqual(fields_of(out, "alice-cached")["user.full_name"], "Alice Liddell")  # from the cache

            # The password shows nowhere.
            _, _, body = http_request(port, "GET", "/metrics")
            self.assertNotIn(PASSWORD, body.decode())
            self.assertNotIn(PASSWORD, d.log())
        finally:
            slapd.stop()
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
