#!/usr/bin/python3
"""nginx's snapshot mode against images a test writes (tests/lib/fake_agent.py
plays the agent: RING.CHECKSUM and RING.DUMP only). Needs no ringd binary.

  * small rings of every mode, with a key exactly on a position and keys
    past the last position (wrap), give the owners and failover order of an
    independent reader written here from ring/dump.h;
  * an image with an unknown format version or ring mode, or a broken one,
    is refused with one error line; nginx keeps routing on the last good
    ring (X-Ringd-Stale: 1) and does not fetch that image again;
  * no image yet -> 503 "no ring yet"; an empty ring -> 503 "no backend".

    /usr/bin/python3 tests/e2e/test_nginx_snapshot_image.py -v
"""

import ctypes
import hashlib
import http.client
import os
import re
import struct
import sys
import unittest
import zlib
from bisect import bisect_left

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from fake_agent import FakeAgent, build_image  # noqa: E402
from procs import Backend, Nginx, RunDir, http_get, wait_until  # noqa: E402

_xxh = ctypes.CDLL("libxxhash.so.0")
_xxh.XXH3_64bits.restype = ctypes.c_uint64
_xxh.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]


def xxh3(key):
    return _xxh.XXH3_64bits(key, len(key))


def position(mode, key):
    if mode == 0:
        return xxh3(key)
    if mode == 2:
        return zlib.crc32(key) << 32
    return struct.unpack("<I", hashlib.md5(key).digest()[:4])[0] << 32


M64 = (1 << 64) - 1


def multiprobe_owners(names, positions, nodes, key, n, probes):
    """ring/dump.h's multiprobe rule: per probe, the nearest point of a node
    not yet chosen (a linear walk); the nearest over probes is next."""
    h = xxh3(key)
    out = []
    while len(out) < min(n, len(names)):
        best = None
        for i in range(probes):
            x = h ^ ((i * 0x9e3779b97f4a7c15) & M64)
            x ^= x >> 32
            x = (x * 0xd6e8feb86659fd93) & M64
            x ^= x >> 32
            at = bisect_left(positions, x) % len(positions)
            for _ in range(len(positions)):
                if names[nodes[at]] not in out:
                    d = (positions[at] - x) & M64
                    if best is None or d < best[0]:
                        best = (d, names[nodes[at]])
                    break
                at = (at + 1) % len(positions)
        if best is None:
            break
        out.append(best[1])
    return out


def owners(mode, names, positions, nodes, key, n=3, probes=13):
    """ring/dump.h's lookup, in Python."""
    if not nodes:
        return []
    if mode == 4:
        return multiprobe_owners(names, positions, nodes, key, n, probes)
    if mode == 1:
        i = (xxh3(key) * len(nodes)) >> 64
    else:
        i = bisect_left(positions, position(mode, key))
        if i == len(positions):
            i = 0
    out = []
    for _ in range(len(nodes)):
        name = names[nodes[i]]
        if name not in out:
            out.append(name)
        if len(out) == min(n, len(names)):
            break
        i = (i + 1) % len(nodes)
    return out


class SnapshotImageTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.rundir = RunDir("ringd-e2e-image")
        try:
            cls.agent = FakeAgent()
            cls.backends = [Backend("b%d" % i, cls.rundir).start() for i in range(3)]
            cls.names = [b.address for b in cls.backends]
            cls.nginx = Nginx("nginx", cls.rundir, cls.agent.address)
            cls.nginx.test_config()
            cls.nginx.start()
            for p in cls.backends + [cls.nginx]:
                p.wait_ready()
        except BaseException:
            cls.rundir.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.agent.close()
        cls.rundir.cleanup()

    # helpers ------------------------------------------------------------

    def serve(self, image):
        """Hands nginx an image and waits until both workers use it."""
        self.agent.set_image(image)
        checksum = image[16:32].decode()
        wait_until(lambda: self.ring_status().get("workers") and all(
            w and w.split()[0] == checksum for w in self.ring_status()["workers"].values()),
            5, "nginx workers on %s" % checksum, interval=0.02)

    def ring_status(self):
        import json
        return json.loads(http_get(self.nginx.port, "/ringd/ring")[2])

    def nginx_owners(self, keys):
        conn = http.client.HTTPConnection("127.0.0.1", self.nginx.port, timeout=30)
        try:
            conn.request("POST", "/ringd/owners", body=b"\n".join(keys))
            resp = conn.getresponse()
            body = resp.read()
            self.assertEqual(resp.status, 200, body)
        finally:
            conn.close()
        return [line.split(" ") for line in body.decode().split("\n")[:-1]]

    def error_log(self):
        with open(self.nginx.error_log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def ring(self, mode, checksum, entries=300, seed=1):
        """A random ring over the three backends: (image, positions, nodes)."""
        import random
        rnd = random.Random(seed)
        nodes = [rnd.randrange(3) for _ in range(entries)]
        positions = [] if mode == 1 else sorted(rnd.getrandbits(64) for _ in range(entries))
        if mode in (2, 3):  # positions as those modes make them: hash << 32
            positions = sorted(p & ~0xffffffff for p in positions)
        probes = 13 if mode == 4 else 0
        return build_image(mode, checksum, self.names, positions, nodes, probes), positions, nodes

    # tests --------------------------------------------------------------

    def test_1_no_image_yet_is_503(self):
        status, headers, body = http_get(self.nginx.port, "/documents/x")
        self.assertEqual(status, 503)
        self.assertEqual(headers["x-ringd-error"], "no-ring")
        self.assertEqual(body, ("ringd: no ring yet (agent %s not reached)\n"
                                % self.agent.address).encode())

    def test_every_mode_finds_the_owners_of_the_format(self):
        keys = [b"/documents/%d" % i for i in range(3000)] + [b"", b"\xff\x00 x"]
        for mode in (0, 1, 2, 3, 4):
            with self.subTest(mode=mode):
                checksum = "%016x" % (0xabc0 + mode)
                image, positions, nodes = self.ring(mode, checksum, seed=mode)
                self.serve(image)
                want = [owners(mode, self.names, positions, nodes, k) for k in keys]
                self.assertEqual(self.nginx_owners(keys), want)

    def test_exact_position_and_wrap(self):
        # nginx mode: a key whose position equals a point belongs to it; a
        # key past the last point wraps to the first.
        k_exact, k_low, k_high = b"/documents/exact", b"/documents/low", b"/documents/high"
        crc = {k: zlib.crc32(k) for k in (k_exact, k_low, k_high)}
        order = sorted(crc, key=crc.get)
        # Points: one exactly at the middle key, one just above it, one just
        # below the highest key; the highest key wraps to point 0.
        mid, top = order[1], order[2]
        positions = [crc[mid] << 32, (crc[mid] << 32) + 1, (crc[top] << 32) - 1]
        nodes = [0, 1, 2]
        self.serve(build_image(2, "00000000000e0a01", self.names, positions, nodes))
        got = dict(zip(order, self.nginx_owners(order)))
        self.assertEqual(got[mid], [self.names[0], self.names[1], self.names[2]])
        self.assertEqual(got[top], [self.names[0], self.names[1], self.names[2]])  # wrap
        self.assertEqual(got[order[0]][0], self.names[0])
        # And a request goes to the owner.
        status, headers, _ = http_get(self.nginx.port, mid.decode())
        self.assertEqual((status, headers["x-ringd-backend"]), (200, self.names[0]))

    def test_unknown_version_or_mode_is_refused_once_and_the_last_ring_kept(self):
        good, _, _ = self.ring(0, "00000000000000a1")
        self.serve(good)
        status, headers, _ = http_get(self.nginx.port, "/documents/k")
        self.assertEqual(status, 200)
        owner = headers["x-ringd-backend"]
        bad_version = b"RINGDMP2" + good[8:16] + b"00000000000000b2" + good[32:]
        bad_mode = good[:8] + bytes([9]) + good[9:16] + b"00000000000000b3" + good[32:]
        truncated = good[:16] + b"00000000000000b4" + good[32:-4]
        cases = [(bad_version, "unknown image format version '2'"),
                 (bad_mode, "unknown ring mode 9"),
                 (truncated, "sizes in the header do not match")]
        for image, reason in cases:
            with self.subTest(reason=reason):
                log_before = len(self.error_log())
                dumps_before = self.agent.dumps
                self.agent.set_image(image)
                checksum = image[16:32].decode()
                wait_until(lambda: checksum in self.error_log()[log_before:], 5,
                           "the refusal logged")
                # Ten polls later: still the good ring, marked stale.
                polls_before = self.agent.polls
                wait_until(lambda: self.agent.polls >= polls_before + 10, 5, "10 more polls")
                for _ in range(20):
                    status, headers, _ = http_get(self.nginx.port, "/documents/k")
                    self.assertEqual(status, 200)
                    self.assertEqual(headers["x-ringd-ring"], "00000000000000a1")
                    self.assertEqual(headers["x-ringd-backend"], owner)
                    self.assertEqual(headers.get("x-ringd-stale"), "1")
                text = self.error_log()[log_before:]
                lines = [l for l in text.splitlines() if "refusing the ring image" in l]
                self.assertEqual(len(lines), 1, text)
                self.assertIn(reason, lines[0])
                self.assertIn("[error]", lines[0])
                self.assertIn("routing on the last good ring 00000000000000a1", lines[0])
                # Each worker fetched it once, not once per poll.
                self.assertLessEqual(self.agent.dumps - dumps_before, 2)
        good2, _, _ = self.ring(0, "00000000000000a5", seed=5)
        self.serve(good2)
        status, headers, _ = http_get(self.nginx.port, "/documents/k")
        self.assertEqual((status, headers.get("x-ringd-stale")), (200, None))

    def test_empty_ring_is_503_no_backend(self):
        self.serve(build_image(0, "00000000000000e0", [], [], []))
        status, headers, body = http_get(self.nginx.port, "/documents/x")
        self.assertEqual((status, body), (503, b"no backend\n"))
        self.assertEqual(headers["x-ringd-error"], "no-backend")
        self.assertEqual(self.nginx_owners([b"a", b"b"]), [["-"], ["-"]])

    def test_render_refuses_an_unknown_lookup(self):
        import subprocess
        render = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                              "deploy", "nginx", "render.sh")
        out = subprocess.run([render, "--rundir", self.rundir.sub("r", "x"), "--listen",
                              "127.0.0.1:1", "--agent", "127.0.0.1:2", "--lookup", "dns"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 2)
        self.assertEqual(out.stdout, "")
        self.assertEqual(out.stderr.count("\n"), 1, out.stderr)
        self.assertTrue(re.match(r"render\.sh: --lookup must be snapshot or resp", out.stderr))


if __name__ == "__main__":
    unittest.main()
