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
import re
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from procs import RunDir, require_tool, wait_until  # noqa: E402
from e2e_cluster import Cluster, keep_dead_services_args, log  # noqa: E402

DURATION = 12        # s of load per scenario
CONNECTIONS = 16
FAULT_AT = 3.0       # s into the run

# wrk's script (GETs over 100,000 random keys, one parsable summary line)
# is bench/failures_bench.py's.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from failures_bench import WRK_SCRIPT  # noqa: E402


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
        """wrk for DURATION s; fault() runs FAULT_AT s in. Returns wrk's counts."""
        cmd = [self.wrk, "-t2", "-c%d" % CONNECTIONS, "-d%ds" % DURATION, "--timeout", "3s",
               "-s", self.script, "http://127.0.0.1:%d" % self.cluster.nginx.port]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        try:
            time.sleep(FAULT_AT)  # load time before the fault, not synchronisation
            fault()
            out, _ = proc.communicate(timeout=DURATION + 30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        m = re.search(r"WRK requests=(\d+) non2xx=(\d+) connect=(\d+) read=(\d+) write=(\d+) "
                      r"timeout=(\d+) p50_ms=[\d.]+ p99_ms=([\d.]+) max_ms=([\d.]+)", out)
        self.assertIsNotNone(m, out)
        counts = dict(zip(("requests", "non2xx", "connect", "read", "write", "timeout"),
                          map(int, m.groups()[:6])))
        log("MEASURED %s: %d requests in %d s at c=%d, %d non-2xx, errors connect %d read %d "
            "write %d timeout %d, p99 %s ms, max %s ms"
            % (what, counts["requests"], DURATION, CONNECTIONS, counts["non2xx"],
               counts["connect"], counts["read"], counts["write"], counts["timeout"],
               m.group(7), m.group(8)))
        self.assertGreater(counts["requests"], 1000, out)
        self.assertEqual({k: v for k, v in counts.items() if k != "requests"},
                         dict(non2xx=0, connect=0, read=0, write=0, timeout=0), out)
        return counts

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
