"""Integration: sealed gossip (issue 13 item 1) with real agents on loopback.

  * A running plaintext cluster of four agents moves to encrypted gossip by
    rolling restarts, one agent at a time, in the three steps of
    agent/gossip_crypto.h (keyring with both verify flags off; then
    verify_outgoing; then verify_incoming). Asserted after every restart: all
    four agents alive in every view, one ring checksum, and no agent other than
    the one restarting ever seen dead or left. At the end no plaintext is
    accepted anywhere and every agent opens sealed gossip.
  * Strangers: a plaintext agent and an agent with the right key but another
    --label join through n1 and are never listed by the cluster (counted as
    crypto_dropped_plaintext / crypto_dropped_auth_failed); a forged plaintext
    "alive" datagram adds no member.
  * Replays: sealed datagrams captured on the loopback interface (AF_PACKET,
    needs root) and sent again are all refused (crypto_dropped_replayed).
  * Key rotation with `ringd keyring` on live agents: `use` is refused while a
    member lacks the key; install everywhere, use everywhere, remove the old key
    everywhere; the cluster stays whole and the keyring files follow.

Run with /usr/bin/python3; RINGD_BIN names the binary.
"""
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import HOST, Agent, RunDir, free_port, ringd_bin, wait_until  # noqa: E402
import gossip_wire as w  # noqa: E402

N = 4
DEATH = re.compile(r" member (\S+) (dead|left) ")


def keygen():
    return subprocess.run([ringd_bin(), "keygen"], check=True, capture_output=True, text=True).stdout.strip()


def write_keyring(path, keys):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(keys, f)


def read_keyring(path):
    with open(path) as f:
        return json.load(f)


def gossip_counters(agent):
    return agent.http_json("/metrics.json")["gossip"]


def deaths_in_log(agent, offset):
    """(member, dead|left) lines the agent logged after byte `offset`."""
    with open(agent.log_path, "rb") as f:
        f.seek(offset)
        text = f.read().decode("utf-8", "replace")
    return [(m.group(1), m.group(2)) for m in DEATH.finditer(text)]


def log_size(agent):
    try:
        return os.path.getsize(agent.log_path)
    except OSError:
        return 0


class Cluster:
    """N agents with fixed ports, so each can be restarted with new flags."""

    def __init__(self, rundir):
        self.rundir = rundir
        self.agents = []
        self.ports = []
        self.generation = 0
        for i in range(N):
            self.ports.append((free_port(udp_too=True), free_port(), free_port()))
        self.services = ["127.0.0.1:%d" % free_port() for _ in range(N)]

    def name(self, i):
        return "n%d" % (i + 1)

    def seed(self):
        return "%s:%d" % (HOST, self.ports[0][0])

    def start_agent(self, i, extra):
        g, r, h = self.ports[i]
        self.generation += 1
        # Every other agent is a seed (a restarted n1 must not start alone).
        seeds = ["%s:%d" % (HOST, p[0]) for j, p in enumerate(self.ports) if j != i and j < max(i, len(self.agents))]
        agent = Agent(self.name(i), self.rundir, join=seeds,
                      service=self.services[i], service_check="none",
                      gossip_port=g, resp_port=r, http_port=h,
                      extra_args=["--profile", "local"] + list(extra))
        # A restarted agent logs into a file of its own generation.
        agent.log_path = self.rundir.sub("%s.%d.log" % (self.name(i), self.generation))
        agent.start()
        return agent

    def start(self, extra):
        for i in range(N):
            self.agents.append(self.start_agent(i, extra))
        for a in self.agents:
            a.wait_ready()
        self.wait_whole(20)

    def views(self):
        return {a.name: a.members() for a in self.agents}

    def whole(self):
        try:
            views = self.views()
            rings = {a.ring()["checksum"] for a in self.agents}
        except (OSError, AssertionError):
            return False
        for members in views.values():
            if sorted(members) != sorted(self.name(i) for i in range(N)):
                return False
            if any(m["state"] != "alive" for m in members.values()):
                return False
        return len(rings) == 1

    def wait_whole(self, timeout):
        wait_until(self.whole, timeout, "all %d agents alive in every view, one ring" % N, interval=0.1)

    def restart(self, i, extra, test):
        """Restarts agent i with `extra` flags; asserts nobody else ever died meanwhile."""
        offsets = {a.name: log_size(a) for a in self.agents}
        others = [a for a in self.agents if a is not self.agents[i]]
        self.agents[i].stop()
        self.agents[i] = self.start_agent(i, extra)
        self.agents[i].wait_ready()
        self.wait_whole(15)
        for a in others:
            for member, state in deaths_in_log(a, offsets[a.name]):
                test.assertEqual(member, self.name(i),
                                 "%s saw %s %s while %s restarted" % (a.name, member, state, self.name(i)))

    def keyring_cli(self, i, *args):
        h = self.ports[i][2]
        return subprocess.run([ringd_bin(), "keyring"] + list(args) + ["--http", "%s:%d" % (HOST, h)],
                              capture_output=True, text=True, timeout=10)


class GossipEncryptionTest(unittest.TestCase):
    def setUp(self):
        self.rundir = RunDir("ringd-crypto")
        self.addCleanup(self.rundir.cleanup)
        self.key = keygen()

    def keyring_file(self, name, keys):
        path = self.rundir.sub(name + ".keyring.json")
        write_keyring(path, keys)
        return path

    def test_rolling_move_from_plaintext_to_encrypted(self):
        c = Cluster(self.rundir)
        c.start([])
        files = [self.keyring_file(c.name(i), [self.key]) for i in range(N)]
        steps = [("false", "false"), ("false", "true"), ("true", "true")]
        for verify_in, verify_out in steps:
            for i in range(N):
                c.restart(i, ["--keyring", files[i], "--label", "move",
                              "--verify-incoming", verify_in, "--verify-outgoing", verify_out], self)
        # Now sealed everywhere: over a quiet second nothing plaintext gets in.
        before = [gossip_counters(a) for a in c.agents]
        time.sleep(1.5)
        after = [gossip_counters(a) for a in c.agents]
        for a, b0, b1 in zip(c.agents, before, after):
            self.assertEqual(b1["plaintext_accepted"], b0["plaintext_accepted"], a.name)
            self.assertGreater(b1["crypto_opened"], b0["crypto_opened"], a.name)
            self.assertGreater(b1["crypto_sealed"], b0["crypto_sealed"], a.name)
            for reason in ("auth_failed", "replayed", "too_short", "bad_version", "no_keyring"):
                self.assertEqual(b1["crypto_dropped_" + reason], 0, "%s %s" % (a.name, reason))
        listing = c.keyring_cli(0, "list")
        self.assertEqual(listing.returncode, 0, listing.stderr)
        self.assertRegex(listing.stdout, r"%s\s+\w{8}\s+4/4\s+4/4 \*" % re.escape(self.key))

    def test_strangers_forgeries_and_replays_are_dropped(self):
        c = Cluster(self.rundir)
        files = [self.keyring_file(c.name(i), [self.key]) for i in range(N)]
        c.agents = []
        for i in range(N):
            c.agents.append(c.start_agent(i, ["--keyring", files[i], "--label", "prod"]))
        for a in c.agents:
            a.wait_ready()
        c.wait_whole(20)
        n1 = c.agents[0]
        before = gossip_counters(n1)

        plain = Agent("stranger", self.rundir, join=[c.seed()], extra_args=["--profile", "local"]).start()
        other_label = Agent("labelled", self.rundir, join=[c.seed()],
                            extra_args=["--profile", "local", "--keyring", self.keyring_file("labelled", [self.key]),
                                        "--label", "staging"]).start()
        forger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(forger.close)
        for inc in range(20):
            forger.sendto(w.packet(w.msg_alive("evil", "127.0.0.1:9", inc + 1)), (HOST, c.ports[0][0]))
            time.sleep(0.05)
        time.sleep(3)  # both strangers retry their join every second
        for a in c.agents:
            names = set(a.members())
            self.assertEqual(names, {c.name(i) for i in range(N)}, "%s lists %s" % (a.name, names))
        for stranger in (plain, other_label):
            self.assertEqual(set(stranger.members()), {stranger.name})
        after = gossip_counters(n1)
        self.assertGreaterEqual(after["crypto_dropped_plaintext"] - before["crypto_dropped_plaintext"], 20)
        self.assertGreater(after["crypto_dropped_auth_failed"], before["crypto_dropped_auth_failed"])
        with open(plain.log_path) as f:
            self.assertIn("do both use the same --keyring and --label?", f.read())
        plain.stop()
        other_label.stop()

        # Replays: capture what reaches n2's gossip port, then send it again.
        n2 = c.agents[1]
        captured = capture_udp(c.ports[1][0], seconds=1.5, limit=40)
        self.assertGreaterEqual(len(captured), 5, "captured only %d datagrams to n2" % len(captured))
        self.assertTrue(all(p[0] == 0xE1 for p in captured), "a plaintext datagram on the wire")
        before = gossip_counters(n2)
        for p in captured:
            forger.sendto(p, (HOST, c.ports[1][0]))
        wait_until(lambda: gossip_counters(n2)["crypto_dropped_replayed"] - before["crypto_dropped_replayed"]
                   >= len(captured), 5, "n2 refuses all %d replays" % len(captured))
        self.assertEqual(gossip_counters(n2)["crypto_dropped_replayed"] - before["crypto_dropped_replayed"],
                         len(captured))
        c.wait_whole(5)

    def test_rotation_with_the_cli(self):
        c = Cluster(self.rundir)
        files = [self.keyring_file(c.name(i), [self.key]) for i in range(N)]
        c.agents = []
        for i in range(N):
            c.agents.append(c.start_agent(i, ["--keyring", files[i]]))
        for a in c.agents:
            a.wait_ready()
        c.wait_whole(20)
        new = keygen()
        offsets = {a.name: log_size(a) for a in c.agents}

        out = c.keyring_cli(0, "install", new)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("installed " + new, out.stdout)
        refused = c.keyring_cli(0, "use", new)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("lack it", refused.stderr)
        for i in range(1, N):
            self.assertEqual(c.keyring_cli(i, "install", new).returncode, 0)
        # The tags spread: every member lists the new key as installed.
        wait_until(lambda: re.search(r"%s\s+\w{8}\s+4/4" % re.escape(new), c.keyring_cli(0, "list").stdout),
                   5, "the new key installed on 4/4 members")
        for i in range(N):
            out = c.keyring_cli(i, "use", new)
            self.assertEqual(out.returncode, 0, out.stderr)
            if i == 0:  # n2..n4 still seal with the old key: it cannot go yet
                early = c.keyring_cli(1, "remove", self.key)
                self.assertEqual(early.returncode, 1)
                self.assertIn("primary", early.stderr)
        wait_until(lambda: re.search(r"%s\s+\w{8}\s+4/4\s+4/4 \*" % re.escape(new), c.keyring_cli(0, "list").stdout),
                   5, "the new key the primary of 4/4 members")
        for i in range(N):
            out = c.keyring_cli(i, "remove", self.key)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(read_keyring(files[i]), [new])
        c.wait_whole(5)
        for a in c.agents:
            self.assertEqual(deaths_in_log(a, offsets[a.name]), [], a.name)
        # A restart reads the rotated file and rejoins.
        c.restart(2, ["--keyring", files[2]], self)
        self.assertEqual(c.keyring_cli(2, "install", "not-a-key").returncode, 2)


def capture_udp(port, seconds, limit):
    """UDP payloads sent to 127.0.0.1:`port`, seen on the loopback interface."""
    ETH_P_ALL = 0x0003
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind(("lo", 0))
    s.settimeout(0.2)
    out = []
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline and len(out) < limit:
            try:
                frame, addr = s.recvfrom(65535)
            except socket.timeout:
                continue
            if addr[2] == socket.PACKET_OUTGOING:  # loopback shows each frame twice
                continue
            payload = udp_payload(frame, port)
            if payload is not None:
                out.append(payload)
    finally:
        s.close()
    return out


def udp_payload(frame, port):
    """The payload of an Ethernet + IPv4 + UDP frame to `port`, or None."""
    if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[9] != 17:  # UDP
        return None
    udp = ip[ihl:]
    dport, length = struct.unpack(">HH", udp[2:6])
    if dport != port:
        return None
    return bytes(udp[8:length])


if __name__ == "__main__":
    unittest.main(verbosity=2)
