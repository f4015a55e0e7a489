"""Integration: /metrics in the Prometheus text format, from real agents.

Three agents on loopback with sealed gossip and services on a service ring.
After RESP traffic (single GETs, one pipeline, an unknown command) and one
agent killed, asserted on the survivor's GET /metrics:
  * `promtool check metrics` (Debian's prometheus package) accepts it;
  * members by state (2 alive, 1 dead), our service's health, build info
    equal to `ringd version`;
  * per-command RESP calls equal to what was sent, a latency histogram whose
    count is the reads that carried one GET, and a "pipeline" series;
  * gossip messages by type both ways, sealed and opened counts, drops by
    reason present (0 here);
  * one ringd_ring_info per ring whose checksums equal /ring's, a rebuild
    count and duration histogram;
  * /metrics.json still serves the JSON document.

Run with /usr/bin/python3; RINGD_BIN names the binary.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from procs import Agent, RunDir, http_get, ringd_bin, require_tool, wait_until  # noqa: E402

PROMTOOL = require_tool("promtool", "install Debian's prometheus package (deploy/install-deps.sh)")
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, frozenset(labels.items())): value} of every sample."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        labels = frozenset(LABEL.findall(m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def value(samples, name, **labels):
    key = (name, frozenset(labels.items()))
    assert key in samples, "no sample %s%s" % (name, labels)
    return samples[key]


def series(samples, name):
    return {k[1]: v for k, v in samples.items() if k[0] == name}


class MetricsTest(unittest.TestCase):
    def setUp(self):
        self.rundir = RunDir("ringd-metrics")
        self.addCleanup(self.rundir.cleanup)
        key = subprocess.run([ringd_bin(), "keygen"], check=True, capture_output=True, text=True).stdout.strip()
        keyring = self.rundir.sub("keyring.json")
        fd = os.open(keyring, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump([key], f)
        extra = ["--profile", "local", "--keyring", keyring, "--tag", "service=api"]
        self.n1 = Agent("n1", self.rundir, service="127.0.0.1:18101", service_check="none", extra_args=extra).start()
        self.others = [Agent("n%d" % i, self.rundir, join=[self.n1.gossip], service="127.0.0.1:1810%d" % i,
                             service_check="none", extra_args=extra).start() for i in (2, 3)]
        for a in [self.n1] + self.others:
            a.wait_ready()
        wait_until(lambda: len(self.n1.ring()["nodes"]) == 3, 10, "3 endpoints on n1's ring")

    def test_prometheus_text(self):
        r = self.n1.redis()
        gets = 25
        for i in range(gets):
            r.get("key-%d" % i)
        pipe = r.pipeline(transaction=False)
        for i in range(10):
            pipe.get("pipelined-%d" % i)
        pipe.execute()
        try:
            r.execute_command("NOSUCHCOMMAND")
        except Exception:  # noqa: BLE001 - the error reply is the point
            pass
        self.others[-1].kill()
        wait_until(lambda: self.n1.members()["n3"]["state"] == "dead", 10, "n3 dead on n1")

        status, headers, body = http_get(self.n1.http_port, "/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8")
        text = body.decode()
        check = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, "promtool: %s%s" % (check.stdout, check.stderr))
        s = parse(text)

        version = subprocess.run([ringd_bin(), "version"], capture_output=True, text=True).stdout.split()[-1]
        self.assertEqual(value(s, "ringd_build_info", version=version), 1)
        self.assertEqual(value(s, "ringd_members", state="alive"), 2)
        self.assertEqual(value(s, "ringd_members", state="dead"), 1)
        self.assertEqual(value(s, "ringd_service_health", service="127.0.0.1:18101", health="passing"), 1)
        self.assertEqual(value(s, "ringd_service_health", service="127.0.0.1:18101", health="failing"), 0)

        # RESP: redis-py sends nothing before the first command (no HELLO).
        self.assertEqual(value(s, "ringd_resp_command_calls_total", command="get"), gets + 10)
        self.assertGreaterEqual(value(s, "ringd_resp_unknown_commands_total"), 1)
        # One observation per read that held one GET: the 25 single GETs, and
        # any read that caught the pipeline's last GET alone.
        reads = value(s, "ringd_resp_command_duration_seconds_count", command="get")
        self.assertGreaterEqual(reads, gets)
        self.assertLessEqual(reads, gets + 10)
        self.assertEqual(value(s, "ringd_resp_command_duration_seconds_bucket", command="get", le="+Inf"), reads)
        self.assertGreater(value(s, "ringd_resp_command_duration_seconds_sum", command="get"), 0)
        self.assertGreaterEqual(value(s, "ringd_resp_command_duration_seconds_count", command="pipeline"), 1)

        # Gossip, by message type and by drop reason; all of it sealed.
        self.assertGreater(value(s, "ringd_gossip_messages_sent_total", type="ping"), 0)
        self.assertGreater(value(s, "ringd_gossip_messages_received_total", type="ack"), 0)
        self.assertGreater(value(s, "ringd_gossip_message_bytes_received_total", type="ping"), 0)
        self.assertGreater(value(s, "ringd_gossip_messages_received_total", type="dead")
                           + value(s, "ringd_gossip_messages_received_total", type="suspect")
                           + value(s, "ringd_gossip_messages_sent_total", type="suspect"), 0)
        self.assertGreater(value(s, "ringd_gossip_crypto_opened_total"), 0)
        self.assertEqual(value(s, "ringd_gossip_plaintext_accepted_total"), 0)
        self.assertEqual(set(dict(k)["reason"] for k in series(s, "ringd_gossip_crypto_dropped_total")),
                         {"plaintext", "no_keyring", "too_short", "bad_version", "auth_failed", "replayed"})
        self.assertIn(frozenset({("reason", "decode")}), series(s, "ringd_gossip_malformed_total"))
        self.assertGreater(value(s, "ringd_gossip_probes_failed_total"), 0)  # n3 stopped answering

        # Rings: the checksums /ring reports, rebuilds timed.
        ring = self.n1.ring()
        self.assertEqual(value(s, "ringd_ring_info", ring="*", db="0", checksum=ring["checksum"], mode="default"), 1)
        api = ring["services"][0]
        self.assertEqual(value(s, "ringd_ring_info", ring="api", db="1", checksum=api["checksum"], mode="default"), 1)
        self.assertEqual(value(s, "ringd_ring_nodes", ring="*", db="0"), 2)
        self.assertGreaterEqual(value(s, "ringd_ring_rebuilds_total"), 2)  # joins, then n3's death
        self.assertGreaterEqual(value(s, "ringd_ring_rebuild_duration_seconds_count"),
                                value(s, "ringd_ring_rebuilds_total"))
        self.assertGreaterEqual(value(s, "ringd_http_requests_total"), 1)

        doc = self.n1.http_json("/metrics.json")
        self.assertGreater(doc["gossip"]["crypto_opened"], 0)
        self.assertIn("rejected_malformed", doc["http"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
