"""The README's first command, run for real: deploy/demo.sh with the built
binary (RINGD_BIN skips install and build). It starts agents, backends and
nginx on fixed loopback ports, routes documents, kills a backend process
under load and a whole backend host, and checks what it shows.

Run with /usr/bin/python3. RINGD_BIN names the binary, RINGD_SRC the tree.
"""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from procs import ringd_bin, ringd_src  # noqa: E402


class DemoTest(unittest.TestCase):
    def test_demo_runs_and_shows_what_it_promises(self):
        env = dict(os.environ, RINGD_BIN=ringd_bin())
        r = subprocess.run(["bash", os.path.join(ringd_src(), "deploy", "demo.sh")], env=env,
                           capture_output=True, text=True, timeout=240)
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, 0, out[-3000:])
        self.assertIn("20 of 20 keys went to the same backend both times", out)
        self.assertRegex(out, r"nginx tried each of backend3's keys on its next owner: \d+ requests, 0 failed")
        self.assertRegex(out, r"the service left the ring 0\.\d+s after the kill")
        self.assertRegex(out, r"\d+ keys moved -- exactly the \d+ that lived on host2")
        self.assertIn("nginx (pid", out)  # stopped what it started


if __name__ == "__main__":
    unittest.main(verbosity=2)
