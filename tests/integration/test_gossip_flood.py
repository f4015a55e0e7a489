"""Integration: a flood of UDP datagrams to one agent's gossip port.

Three real agents on loopback. One source sends n2 up to 100,000 datagrams a
second for FLOOD_SECONDS (at most FLOOD_MAX datagrams): half garbage
(random bytes, truncated, not UTF-8, oversized, bad version, unknown message
type, nested groups), half valid-looking (pings for another member, stale
acks and nacks, suspicions of nobody, relay requests to a closed port,
pings from strangers, old news). Asserted:
  * no false deaths: n1 and n3, polled all along, never see a member dead
    or left, and every agent sees all three alive afterwards;
  * n2 keeps probing through the flood (answers to its own probes);
  * n2's RSS stays under RSS_CEILING_MB and grows by at most RSS_GROWTH_MB;
  * n2's /metrics counts the drops by reason.

Run with /usr/bin/python3; RINGD_BIN names the binary.
"""
import json
import os
import random
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import HOST, Agent, RunDir, free_port, wait_until  # noqa: E402
import gossip_wire as w  # noqa: E402

FLOOD_RATE = 100_000      # datagrams per second, at most
FLOOD_SECONDS = 4.0
FLOOD_MAX = 400_000
RSS_CEILING_MB = 64
RSS_GROWTH_MB = 24
DROP_COUNTERS = ("malformed_oversize", "malformed_decode", "bad_version", "malformed_too_many",
                 "malformed_bad_field")


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise AssertionError("no VmRSS for pid %d" % pid)


def udp_rcvbuf_errors():
    with open("/proc/net/snmp") as f:
        rows = [line.split() for line in f if line.startswith("Udp:")]
    return int(dict(zip(rows[0][1:], rows[1][1:]))["RcvbufErrors"])


def flood_payloads(agent_names, closed_port):
    """A pool of datagrams: even indexes garbage, odd ones valid-looking."""
    rng = random.Random(1313)
    me = "%s:%d" % (HOST, closed_port)
    garbage = [bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 300))) for _ in range(200)]
    good = w.packet(w.msg_alive("n9", "127.0.0.9:7946", 1))
    garbage += [good[:n] for n in range(1, len(good))]                       # truncated
    garbage += [w.packet(w.msg_suspect("n\xff".encode("latin-1"), 1, "x"))]  # not UTF-8
    garbage += [w.packet(w.msg_ack(1, "x"), version=2)]                      # bad version
    garbage += [w.packet(w.len_field(8, b"\x08\x01"))]                       # unknown type
    garbage += [w.packet(*[w.msg_ack(1, "")] * 300)]                         # too many
    garbage += [w.uint_field(1, 1) + w.key(9, 3) * 2000]                     # nested groups
    garbage += [bytes(6000)]                                                 # oversized
    valid = []
    for i in range(50):
        valid.append(w.packet(w.msg_ping(i, "not-" + agent_names[1], "x", me)))
        valid.append(w.packet(w.msg_ack(10_000_000 + i, agent_names[0])))
        valid.append(w.packet(w.msg_nack(10_000_000 + i, agent_names[2])))
        valid.append(w.packet(w.msg_suspect("nobody-%d" % i, 1, "x"), w.msg_dead("ghost-%d" % i, 1, "x")))
        valid.append(w.packet(w.msg_ping_req(i, "n9", me, "x", me)))
        valid.append(w.packet(w.msg_alive(agent_names[0], "127.0.0.1:1", 0)))  # old news
    valid.append(w.packet(w.msg_ping(7, agent_names[1], "stranger", me)))
    rng.shuffle(garbage)
    rng.shuffle(valid)
    out = []
    for i in range(max(len(garbage), len(valid))):
        out.append(garbage[i % len(garbage)])
        out.append(valid[i % len(valid)])
    return out


class GossipFloodTest(unittest.TestCase):
    def setUp(self):
        self.rundir = RunDir("ringd-flood")
        a1 = Agent("n1", self.rundir, service="127.0.0.1:19501", service_check="none").start()
        a2 = Agent("n2", self.rundir, join=[a1.gossip], service="127.0.0.1:19502",
                   service_check="none").start()
        a3 = Agent("n3", self.rundir, join=[a1.gossip], service="127.0.0.1:19503",
                   service_check="none").start()
        self.agents = [a1, a2, a3]

    def tearDown(self):
        self.rundir.cleanup()

    def dump_logs(self):
        for a in self.agents:
            sys.stderr.write("--- %s log ---\n%s\n" % (a.name, a.log_tail(20)))

    def gossip_metrics(self, agent):
        return agent.http_json("/metrics.json", timeout=5.0)["gossip"]

    def all_alive(self, agent):
        states = {n: m["state"] for n, m in agent.members().items()}
        return len(states) == 3 and all(s == "alive" for s in states.values())

    def test_flood_changes_nothing_but_counters(self):
        try:
            self.flood_and_check()
        except Exception:
            self.dump_logs()
            raise

    def flood_and_check(self):
        for a in self.agents:
            wait_until(lambda a=a: self.all_alive(a), 20, "%s sees 3 alive" % a.name)
        victim = self.agents[1]
        # Let start-up allocations settle before the baseline.
        time.sleep(1.0)
        rss_before = rss_mb(victim.pid)
        before = self.gossip_metrics(victim)
        kernel_drops_before = udp_rcvbuf_errors()

        # Watch n1 and n3 all along: any member dead or left is a false death.
        bad_states = []
        stop = threading.Event()

        def watch():
            while not stop.is_set():
                for a in (self.agents[0], self.agents[2]):
                    try:
                        for name, m in a.members().items():
                            if m["state"] in ("dead", "left"):
                                bad_states.append((a.name, name, m["state"]))
                    except Exception:  # noqa: BLE001 - a slow answer is not a death
                        pass
                stop.wait(0.2)
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()

        closed_port = free_port(udp_too=True)
        payloads = flood_payloads(["n1", "n2", "n3"], closed_port)
        target = (HOST, victim.gossip_port)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((HOST, closed_port))  # one source; replies pile up unread
        sent = 0
        start = time.monotonic()
        n = len(payloads)
        try:
            while sent < FLOOD_MAX:
                elapsed = time.monotonic() - start
                if elapsed >= FLOOD_SECONDS:
                    break
                allowed = min(FLOOD_MAX, int((elapsed + 0.01) * FLOOD_RATE))
                if sent >= allowed:
                    time.sleep(0.001)
                    continue
                for i in range(sent, min(allowed, sent + 2000)):
                    try:
                        sock.sendto(payloads[i % n], target)
                    except OSError:  # ENOBUFS / ECONNREFUSED surfaced: still sent
                        pass
                sent = min(allowed, sent + 2000)
        finally:
            sock.close()
        took = time.monotonic() - start
        stop.set()
        watcher.join()

        after = self.gossip_metrics(victim)
        rss_after = rss_mb(victim.pid)
        kernel_drops = udp_rcvbuf_errors() - kernel_drops_before
        delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        drops = sum(delta[k] for k in DROP_COUNTERS)
        received = delta["packets_received"]
        report = {
            "sent": sent, "seconds": round(took, 2), "rate_per_s": int(sent / took),
            "received_by_n2": received, "kernel_rcvbuf_drops": kernel_drops,
            "dropped_by_reason": {k: delta[k] for k in DROP_COUNTERS},
            "wrong_target": delta["wrong_target"], "stale_acks": delta["stale_acks"],
            "relays_dropped": delta["relays_dropped"], "probes_acked": delta["acks_received"],
            "probes_failed": delta["probes_failed"], "awareness_after": after["awareness"],
            "suspicions_n1_n3": [self.gossip_metrics(a)["suspicions"] for a in (self.agents[0], self.agents[2])],
            "rss_mb_before": round(rss_before, 1), "rss_mb_after": round(rss_after, 1),
        }
        sys.stderr.write("flood: %s\n" % json.dumps(report))

        self.assertGreaterEqual(sent, 100_000, "the flood itself was too slow: %r" % report)
        self.assertEqual(bad_states, [], "false deaths during the flood")
        for a in self.agents:
            wait_until(lambda a=a: self.all_alive(a), 10, "%s sees 3 alive after the flood" % a.name)
            self.assertEqual(self.gossip_metrics(a)["members_dead"], 0, a.name)
        # n2 kept probing: one probe per 300 ms interval, and at least half
        # of them answered (acks_received counts answers to its own probes;
        # pings_sent also counts the pings it relays for the flood).
        self.assertGreaterEqual(delta["acks_received"], int(took / 0.3 / 2), report)
        self.assertLess(rss_after, RSS_CEILING_MB, report)
        self.assertLess(rss_after - rss_before, RSS_GROWTH_MB, report)
        # The drops are in /metrics, by reason.
        self.assertGreater(received, sent // 10, report)
        for k in ("malformed_decode", "malformed_oversize", "bad_version", "malformed_too_many",
                  "malformed_bad_field"):
            self.assertGreater(delta[k], 0, k)
        self.assertGreater(delta["wrong_target"], 0)
        self.assertGreater(delta["stale_acks"], 0)
        self.assertEqual(victim.members().keys(), {"n1", "n2", "n3"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
