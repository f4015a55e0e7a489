"""Failures under load through nginx, as a user runs ringd (issue 12,
item 5): default service checks, snapshot mode, wrk at 16 connections.
The scenarios are bench/failures_bench.py's, shorter; each must pass every
request, a killed backend must leave every ring within a second, and nginx
must route on a new ring within 100 ms of the router agent publishing it.

    RINGD_BIN=build/ringd /usr/bin/python3 tests/e2e/test_failures_under_load.py -v
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from failures_bench import Bench  # noqa: E402

SECONDS = 8
FAULT_AT = 2.0


class FailuresUnderLoadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bench = Bench(SECONDS, FAULT_AT)
        try:
            cls.bench.start()
        except BaseException:
            cls.bench.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.bench.close()

    def run_scenario(self, name):
        r = self.bench.scenario(name)
        sys.stderr.write("\n    MEASURED %s: %s\n" % (name, r))
        self.assertGreater(r["requests"], 1000, r)
        self.assertEqual(r["failed"], 0, r)
        return r

    def test_a_backend_host_killed(self):
        self.run_scenario("host-kill")

    def test_b_backend_process_killed(self):
        r = self.run_scenario("backend-kill")
        self.assertLess(r["off_every_ring_s"], 1.0, r)

    def test_c_router_agent_stopped_5s(self):
        self.run_scenario("router-stop")

    def test_d_router_agent_restarted(self):
        self.run_scenario("router-restart")

    def test_e_backend_joins(self):
        r = self.run_scenario("join")
        self.assertLess(r["nginx_after_agent_ms"], 100, r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
