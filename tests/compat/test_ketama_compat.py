#!/usr/bin/env python3
"""ringd's `ketama` mode against the ketama ring of Debian's python3-uhashring
(HashRing(hash_fn="ketama")): the same owner for thousands of keys, equal and
unequal weights.

uhashring takes the first point strictly greater than the key hash, where
libketama (and ringd) take the first point >= it; the two differ only for a
key whose hash equals a point exactly. Random keys essentially never do; the
last test builds such keys on purpose ("server-group" strings hash exactly to
a point) and checks ringd follows libketama there.

    RING_COMPAT_TOOL=build/tests/compat/ring_compat_tool /usr/bin/python3 tests/compat/test_ketama_compat.py -v
"""

import hashlib
import unittest

import compat_lib

try:
    from uhashring import HashRing
except ImportError:  # pragma: no cover - reported as a clear failure below
    HashRing = None


def uhashring_owners(servers, keys):
    ring = HashRing(nodes={name: {"weight": w} for name, w in servers}, hash_fn="ketama")
    return [ring.get_node(k) for k in keys], ring


def ketama_hash(text):
    d = hashlib.md5(text.encode()).digest()
    return int.from_bytes(d[0:4], "little")


class KetamaCompatTest(unittest.TestCase):
    def setUp(self):
        if HashRing is None:
            self.fail("python3-uhashring is not importable: apt-get install python3-uhashring "
                      "(deploy/install-deps.sh), run with /usr/bin/python3")

    def check(self, servers, keys):
        want, ring = uhashring_owners(servers, keys)
        points = set(ring.runtime._keys)
        exact = sum(1 for k in keys if ketama_hash(k) in points)
        self.assertEqual(exact, 0, "a random key hit a point exactly; pick another seed")
        got = compat_lib.ringd_owners("ketama", servers, keys)
        diff = [(k, w, g) for k, w, g in zip(keys, want, got) if w != g]
        self.assertEqual(diff[:5], [], "%d of %d keys disagree" % (len(diff), len(keys)))
        print("ketama %d servers: %d/%d keys agree" % (len(servers), len(keys) - len(diff), len(keys)))

    def test_three_servers(self):
        servers = [("127.0.0.1:11211", 1), ("127.0.0.1:11212", 1), ("127.0.0.1:11213", 1)]
        self.check(servers, compat_lib.make_keys(5000, seed=1))

    def test_fifty_servers(self):
        servers = [("10.0.%d.%d:11211" % (i // 200, i % 200 + 1), 1) for i in range(50)]
        self.check(servers, compat_lib.make_keys(5000, seed=2))

    def test_weighted_servers(self):
        servers = [("10.1.0.%d:11211" % i, 1 + i % 4) for i in range(1, 13)]
        self.check(servers, compat_lib.make_keys(5000, seed=3))

    def test_key_equal_to_a_point_follows_libketama(self):
        servers = [("127.0.0.1:11211", 1), ("127.0.0.1:11212", 1), ("127.0.0.1:11213", 1)]
        # md5("127.0.0.1:11212-7")[0:4] is exactly the first point of group 7.
        keys = ["%s-%d" % (s, g) for s, _ in servers for g in (0, 7, 39)]
        _, ring = uhashring_owners(servers, keys)
        got = compat_lib.ringd_owners("ketama", servers, keys)
        for key, owner in zip(keys, got):
            self.assertEqual(owner, ring.runtime._ring[ketama_hash(key)], key)
            self.assertEqual(owner, key.rsplit("-", 1)[0], key)


if __name__ == "__main__":
    unittest.main()
