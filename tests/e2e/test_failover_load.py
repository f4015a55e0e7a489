#!/usr/bin/python3
"""Load through nginx (snapshot mode, the default) while things fail: wrk at
16 connections, GETs over 100,000 random keys, for a bounded time each,
while

  (a) a backend process is SIGKILLed (its agent stays: the ring keeps it, so
      its keys fail over to their next owners);
  (b) the router's agent is SIGSTOPped for 5 s, then SIGCONTed;
  (c) the router's agent is restarted (SIGTERM, then started again).

Each run must have 0 non-2xx responses and 0 socket errors.

    RINGD_BIN=build/ringd /usr/bin/python3 tests/e2e/test_failover_load.py -v

Needs wrk (Debian package wrk).
"""

import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from procs import RunDir, require_tool, wait_until  # noqa: E402
from e2e_cluster import Cluster, keep_dead_services_args, log  # noqa: E402

DURATION = 12        # s of load per scenario
FAULT_AT = 3.0       # s into the run

# wrk's script (GETs over 100,000 random keys, one parsable summary line)
# is bench/failures_bench.py's.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from failures_bench import WRK_SCRIPT, wrk_with_fault  # noqa: E402


class FailoverLoadTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.wrk = require_tool("wrk", "install the Debian package wrk")
        cls.rundir = RunDir("ringd-e2e-load")
        try:
            cls.cluster = Cluster(cls.rundir, agent_args=keep_dead_services_args())
            cls.cluster.start()
            cls.script = cls.rundir.sub("keys.lua")
            with open(cls.script, "w") as f:
                f.write(WRK_SCRIPT)
        except BaseException:
            cls.rundir.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.rundir.cleanup()

    def run_wrk_with(self, fault, what):
        """wrk for DURATION s at c=16; fault() runs FAULT_AT s in. Nothing may fail."""
        r = wrk_with_fault(self.wrk, self.script, self.cluster.nginx.port, DURATION, FAULT_AT, fault)
        log("MEASURED %s: %d requests in %d s at c=16, %d failed (%d non-2xx), p99 %.1f ms, max %.0f ms"
            % (what, r["requests"], DURATION, r["failed"], r["non2xx"], r["p99_ms"], r["max_ms"]))
        self.assertGreater(r["requests"], 1000, r)
        self.assertEqual(r["failed"], 0, r)
        return r

    def test_a_backend_killed(self):
        backend, _ = self.cluster.hosts[1]
        try:
            self.run_wrk_with(backend.kill, "backend SIGKILLed")
        finally:
            backend.start()
            backend.wait_ready()

    def test_b_router_agent_stopped_5s(self):
        router = self.cluster.router

        def stop_5s():
            router.send_signal(signal.SIGSTOP)
            time.sleep(5)  # the fault's length
            router.send_signal(signal.SIGCONT)
        try:
            self.run_wrk_with(stop_5s, "router agent SIGSTOP 5 s")
        finally:
            router.send_signal(signal.SIGCONT)

    def test_c_router_agent_restarted(self):
        router = self.cluster.router

        def restart():
            router.stop(signal.SIGTERM)
            router.start()
        self.run_wrk_with(restart, "router agent restarted")
        router.wait_ready()
        wait_until(lambda: len(router.ring()["nodes"]) == len(self.cluster.hosts), 10,
                   "restarted router's ring complete")


if __name__ == "__main__":
    unittest.main()
