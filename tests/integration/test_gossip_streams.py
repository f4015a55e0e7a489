"""Integration: hostile TCP state-sync connections to an agent's gossip port.

Two real agents on loopback; the tests play a third host that connects to
n1's gossip port (TCP) and sends frames (4-byte big-endian length + body)
that no agent would. Hostile connections come from other loopback addresses
(127.0.0.2 and up), as other hosts would, so the per-peer cap does not touch
n2 (127.0.0.1). Asserted, with /metrics (gossip) counting each:
  * a frame header over the stream limit (4 MiB) closes the connection at
    once, before any body is read (stream_oversize);
  * a slow sender (a byte every 200 ms) is cut off at the 3 s stream deadline;
  * idle (half-open) connections: at most 8 per peer address and 64 in all
    are served at once, more are closed on accept (stream_rejected), and the
    served ones are closed at the deadline; meanwhile the agent still answers
    a real TCP probe and state sync with n2 goes on;
  * senders that each promise a 4 MiB frame and send part of it: RSS stays
    bounded;
  * a garbage frame gets no reply and is counted (malformed_decode).

Run with /usr/bin/python3; RINGD_BIN names the binary.
"""
import os
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import HOST, Agent, RunDir, wait_until  # noqa: E402
import gossip_wire as w  # noqa: E402

STREAM_TIMEOUT = 3.0       # agent/gossip_driver.cc kStreamTimeout
PER_PEER = 8               # GossipDriver::kMaxInboundStreamsPerPeer
TOTAL = 64                 # GossipDriver::kMaxInboundStreams
MAX_STREAM = 4 << 20       # gossip::Config::max_stream_size
RSS_CEILING_MB = 96


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise AssertionError("no VmRSS")


def connect(port, source_ip):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((source_ip, 0))
    s.settimeout(5.0)
    s.connect((HOST, port))
    return s


def closed_by_peer(s, wait):
    """True when the peer closes (EOF or reset) within `wait` seconds."""
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def recv_frame(s, wait=3.0):
    s.settimeout(wait)
    head = b""
    while len(head) < 4:
        chunk = s.recv(4 - len(head))
        if not chunk:
            return None
        head += chunk
    (size,) = struct.unpack(">I", head)
    body = b""
    while len(body) < size:
        chunk = s.recv(size - len(body))
        if not chunk:
            return None
        body += chunk
    return body


class GossipStreamTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rundir = RunDir("ringd-streams")
        cls.n1 = Agent("n1", cls.rundir, service="127.0.0.1:19601", service_check="none",
                       extra_args=["--push-pull-interval-ms", "1000"]).start()
        cls.n2 = Agent("n2", cls.rundir, join=[cls.n1.gossip], service="127.0.0.1:19602",
                       service_check="none", extra_args=["--push-pull-interval-ms", "1000"]).start()
        for a in (cls.n1, cls.n2):
            wait_until(lambda a=a: len(a.members()) == 2 and
                       all(m["state"] == "alive" for m in a.members().values()),
                       20, "%s sees both alive" % a.name)

    @classmethod
    def tearDownClass(cls):
        cls.rundir.cleanup()

    def metrics(self):
        return self.n1.http_json("/metrics.json")["gossip"]

    def run(self, result=None):
        failures = len(result.failures) + len(result.errors) if result else 0
        super().run(result)
        if result and len(result.failures) + len(result.errors) > failures:
            for a in (self.n1, self.n2):
                sys.stderr.write("--- %s log ---\n%s\n" % (a.name, a.log_tail(20)))

    def tcp_probe_answered(self, source_ip="127.0.0.3"):
        s = connect(self.n1.gossip_port, source_ip)
        try:
            s.sendall(w.stream_frame(w.stream_ping(77, "n1", "prober", "%s:1" % source_ip)))
            reply = recv_frame(s)
            return reply is not None and len(reply) > 2
        finally:
            s.close()

    def test_oversized_frame_is_refused_from_its_header(self):
        before = self.metrics()
        for size in (MAX_STREAM + 1, 0xFFFFFFFF):
            s = connect(self.n1.gossip_port, "127.0.0.2")
            started = time.monotonic()
            s.sendall(struct.pack(">I", size) + b"\x08\x01")
            self.assertTrue(closed_by_peer(s, 2.0), "frame of %d bytes not refused" % size)
            self.assertLess(time.monotonic() - started, 1.0)
            s.close()
        after = self.metrics()
        self.assertEqual(after["stream_oversize"] - before["stream_oversize"], 2)
        # A frame just under the limit is read (and refused as garbage).
        self.assertTrue(self.tcp_probe_answered())

    def test_slow_sender_is_cut_off_at_the_deadline(self):
        before = self.metrics()
        s = connect(self.n1.gossip_port, "127.0.0.2")
        started = time.monotonic()
        s.sendall(struct.pack(">I", 1000))
        closed = False
        for _ in range(40):  # one byte every 200 ms: 8 s if never cut off
            try:
                s.sendall(b"x")
            except OSError:
                closed = True
                break
            if closed_by_peer(s, 0.2):
                closed = True
                break
        took = time.monotonic() - started
        s.close()
        self.assertTrue(closed, "slow sender never cut off")
        self.assertGreater(took, STREAM_TIMEOUT - 0.5)
        self.assertLess(took, STREAM_TIMEOUT + 1.5)
        self.assertGreater(self.metrics()["inbound_stream_errors"], before["inbound_stream_errors"])

    def test_garbage_frame_gets_no_reply_and_is_counted(self):
        before = self.metrics()
        s = connect(self.n1.gossip_port, "127.0.0.2")
        s.sendall(w.stream_frame(b"\xff\xfe garbage \x00"))
        self.assertIsNone(recv_frame(s, 3.0))
        s.close()
        wait_until(lambda: self.metrics()["malformed_decode"] > before["malformed_decode"], 3,
                   "malformed_decode counted")

    def test_idle_connections_are_capped_per_peer_and_in_all(self):
        before = self.metrics()
        held = []
        try:
            # 12 idle connections from one address: 8 served, 4 closed on accept.
            for _ in range(12):
                held.append(connect(self.n1.gossip_port, "127.0.0.2"))
            wait_until(lambda: self.metrics()["stream_rejected"] - before["stream_rejected"] >= 4, 2,
                       "connections over the per-peer cap rejected")
            # (+1: n2's state sync may be in flight)
            self.assertIn(self.metrics()["streams_open"], (PER_PEER, PER_PEER + 1))
            # 10 addresses x 8: 64 served in all.
            for i in range(3, 13):
                for _ in range(PER_PEER):
                    held.append(connect(self.n1.gossip_port, "127.0.0.%d" % i))
            wait_until(lambda: self.metrics()["streams_open"] == TOTAL, 2, "64 streams open")
            rejected = self.metrics()["stream_rejected"] - before["stream_rejected"]
            self.assertGreaterEqual(rejected, 4 + (PER_PEER * 11 - TOTAL))
            # Served ones are closed at the deadline; then the slots are free.
            wait_until(lambda: self.metrics()["streams_open"] == 0, STREAM_TIMEOUT + 2,
                       "idle connections closed at the deadline")
            self.assertTrue(self.tcp_probe_answered())
            # Gossip over UDP never stopped, and state sync resumes.
            served = self.metrics()["streams_served"]
            wait_until(lambda: self.metrics()["streams_served"] > served, 5, "state sync served again")
            for a in (self.n1, self.n2):
                self.assertTrue(all(m["state"] == "alive" for m in a.members().values()))
        finally:
            for s in held:
                s.close()

    def test_partial_big_frames_keep_memory_bounded(self):
        rss_before = rss_mb(self.n1.pid)
        held = []
        chunk = b"\x00" * (256 << 10)
        try:
            # 40 senders promise 4 MiB each and send 1 MiB: at most 32 MiB
            # of bodies are held at once; the rest are dropped.
            for i in range(40):
                s = connect(self.n1.gossip_port, "127.0.%d.%d" % (1 + i // 8, 20 + i % 8))
                held.append(s)
                try:
                    s.sendall(struct.pack(">I", MAX_STREAM))
                    for _ in range(4):
                        s.sendall(chunk)
                except OSError:
                    pass  # refused or dropped: fine
            peak = rss_mb(self.n1.pid)
        finally:
            for s in held:
                s.close()
        sys.stderr.write("partial frames: rss %.1f MB before, %.1f MB with 40 senders\n"
                         % (rss_before, peak))
        self.assertLess(peak, RSS_CEILING_MB)
        wait_until(lambda: self.metrics()["streams_open"] == 0, STREAM_TIMEOUT + 2, "streams closed")
        self.assertTrue(self.tcp_probe_answered())


if __name__ == "__main__":
    unittest.main(verbosity=2)
