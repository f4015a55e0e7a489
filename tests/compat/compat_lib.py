"""Shared helpers for the ring compatibility tests: run ring_compat_tool and
make reproducible key sets."""

import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))


def tool_path():
    path = os.environ.get("RING_COMPAT_TOOL")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("set RING_COMPAT_TOOL to the built ring_compat_tool (ctest does)")
    return path


def ringd_owners(mode, servers, keys):
    """servers: [(endpoint, weight)]; returns ringd's owner of each key."""
    lines = ["server %s %d" % (s, w) for s, w in servers] + ["key " + k for k in keys]
    out = subprocess.run([tool_path(), mode], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, timeout=120, check=True)
    owners = out.stdout.split("\n")[:len(keys)]
    assert len(owners) == len(keys), out.stderr
    return owners


def make_keys(count, seed):
    """URL-ish keys, safe in a query string without escaping."""
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./"
    keys = ["/documents/%d" % i for i in range(count // 2)]
    while len(keys) < count:
        keys.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 48))))
    return keys
