"""Integration: five real ringd agents on loopback.

Run with /usr/bin/python3 (Debian's python3-redis). RINGD_BIN names the binary.
The tests run in order (they share one cluster): converge, redis clients,
SIGKILL -> dead, SIGTERM -> left, restart -> back in the ring.
"""
import json
import os
import signal
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from procs import Agent, RunDir, free_port, ringd_bin, wait_until  # noqa: E402

import redis  # python3-redis (Debian), run under /usr/bin/python3

N = 5
CONVERGE_TIMEOUT = 20
DETECT_TIMEOUT = 30


def service_of(i):
    # Service endpoints only need to exist on the ring; nothing connects to
    # them, and nothing checks them (--service-check none).
    return f"127.0.0.1:{19000 + i}"


class ClusterTest(unittest.TestCase):
    agents = []

    @classmethod
    def setUpClass(cls):
        cls.rundir = RunDir("ringd-integration")
        first = Agent("n1", cls.rundir, service=service_of(1), log_level="debug",
                      service_check="none").start()
        cls.agents = [first]
        for i in range(2, N + 1):
            cls.agents.append(Agent(f"n{i}", cls.rundir, join=[first.gossip], service=service_of(i),
                                    service_check="none",
                                    log_level="debug").start())

    @classmethod
    def tearDownClass(cls):
        cls.rundir.cleanup()

    def others(self, victim):
        return [a for a in self.agents if a is not victim and a.alive()]

    @staticmethod
    def states(agent):
        return {name: m["state"] for name, m in agent.members().items()}

    def assert_converged(self, agents, expected_nodes):
        """Every agent sees every other alive, and all rings agree."""
        names = {a.name for a in agents}

        def ok():
            checksums = set()
            for a in agents:
                states = self.states(a)
                if any(states.get(n) != "alive" for n in names):
                    return False
                ring = a.ring()
                if len(ring["nodes"]) != expected_nodes:
                    return False
                checksums.add(ring["checksum"])
            return len(checksums) == 1
        wait_until(ok, CONVERGE_TIMEOUT, f"{len(agents)} agents to converge")

    def dump_logs(self):
        for a in self.agents:
            sys.stderr.write(f"--- {a.name} log (last lines) ---\n{a.log_tail()}\n")

    def run(self, result=None):
        failures = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        if result and len(result.failures) + len(result.errors) > failures:
            self.dump_logs()
        return out

    def test_1_converge(self):
        self.assert_converged(self.agents, N)
        for a in self.agents:
            status, _, body = a.http("/health")
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["status"], "ok")
            members = a.http_json("/members")
            self.assertEqual(members["self"], a.name)
            for m in members["members"]:
                self.assertIn(m["service"], [service_of(i) for i in range(1, N + 1)])
                self.assertIsInstance(m["incarnation"], int)

    def test_2_lookup_agrees_everywhere(self):
        self.assert_converged(self.agents, N)
        for k in range(200):
            key = f"/documents/{k}"
            answers = {a.lookup(key) for a in self.agents}
            self.assertEqual(len(answers), 1, key)
            self.assertIn(answers.pop(), [service_of(i) for i in range(1, N + 1)])

    def test_3_redis_cli(self):
        a = self.agents[1]
        def cli(*args):
            return subprocess.run(["redis-cli", "-p", str(a.resp_port), *args], capture_output=True,
                                  text=True, timeout=10).stdout.strip()
        self.assertEqual(cli("PING"), "PONG")
        self.assertEqual(cli("GET", "/documents/abc"), a.lookup("/documents/abc"))
        self.assertEqual(cli("SELECT", "0"), "OK")
        self.assertIn("unknown command", cli("FLUSHALL"))

    def test_4_python_redis(self):
        a = self.agents[2]
        r = redis.Redis(host="127.0.0.1", port=a.resp_port, socket_timeout=5)
        self.assertTrue(r.ping())
        keys = [f"/documents/py{k}" for k in range(100)]
        pipe = r.pipeline(transaction=False)
        for key in keys:
            pipe.get(key)
        answers = pipe.execute()
        for key, answer in zip(keys, answers):
            self.assertEqual(answer.decode(), a.lookup(key))
        self.assertEqual(r.get(keys[0]).decode(), answers[0].decode())
        r.close()

    def test_5_sigkill_marked_dead(self):
        self.assert_converged(self.agents, N)
        victim = self.agents[-1]
        started = time.monotonic()
        victim.stop(signal.SIGKILL)
        others = self.others(victim)
        wait_until(lambda: all(self.states(a).get(victim.name) == "dead" for a in others),
                   DETECT_TIMEOUT, f"{victim.name} dead everywhere")
        elapsed = time.monotonic() - started
        wait_until(lambda: all(victim.service not in a.ring()["nodes"] for a in others),
                   5, f"{victim.name} off every ring")
        print(f"\nMEASURED sigkill_to_dead_everywhere_s={elapsed:.3f} (N={N})", file=sys.stderr)
        self.assertEqual(len({a.ring()["checksum"] for a in others}), 1)

    def test_6_sigterm_marked_left(self):
        victim = self.agents[-2]
        self.assertTrue(victim.alive())
        started = time.monotonic()
        victim.send_signal(signal.SIGTERM)
        others = self.others(victim)
        wait_until(lambda: all(self.states(a).get(victim.name) == "left" for a in others),
                   DETECT_TIMEOUT, f"{victim.name} left everywhere")
        elapsed = time.monotonic() - started
        self.assertEqual(victim.stop(timeout=10), 0, "graceful leave must exit 0")
        wait_until(lambda: all(victim.service not in a.ring()["nodes"] for a in others),
                   5, f"{victim.name} off every ring")
        print(f"\nMEASURED sigterm_to_left_everywhere_s={elapsed:.3f} (N={N})", file=sys.stderr)

    def test_7_restart_rejoins(self):
        victim = self.agents[-2]
        self.assertFalse(victim.alive())
        victim.start()  # same name, same flags, same ports
        live = [a for a in self.agents if a.alive()]
        self.assert_converged(live, len(live))
        for a in live:
            self.assertIn(victim.service, a.ring()["nodes"])


class BadInputTest(unittest.TestCase):
    def run_agent(self, *args):
        return subprocess.run([ringd_bin(), "agent", *args], capture_output=True, text=True, timeout=10)

    def test_bad_flag_exits_2_with_one_line(self):
        cases = [
            ["--bogus"],
            ["--node", "x", "--bind", "not-an-address"],
            ["--node", "x", "--bind", "127.0.0.1:99999"],
            ["--node", "x", "--service", "host:1"],
            ["--node", "x", "--config", "/nonexistent/ringd.json"],
        ]
        for args in cases:
            with self.subTest(args=args):
                r = self.run_agent(*args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)

    def setUp(self):
        self.rundir = RunDir("ringd-badinput")

    def tearDown(self):
        self.rundir.cleanup()

    def test_port_in_use_exits_2(self):
        a = Agent("busy", self.rundir).start()
        a.wait_ready()
        # Each listener in use is named by its own flag.
        for flag, taken in (("--bind", a.gossip_port), ("--http", a.http_port), ("--resp", a.resp_port)):
            ports = {"--bind": free_port(udp_too=True), "--http": free_port(), "--resp": free_port()}
            ports[flag] = taken
            args = ["--node", "y"]
            for f, p in ports.items():
                args += [f, f"127.0.0.1:{p}"]
            r = self.run_agent(*args)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertEqual(r.stderr.strip(), f"ringd agent: {flag} 127.0.0.1:{taken}: Address already in use")

    def test_http_errors(self):
        a = Agent("solo", self.rundir).start()
        a.wait_ready()
        status, _, body = a.http("/nope")
        self.assertEqual(status, 404)
        self.assertIn("error", json.loads(body))
        req = urllib.request.Request(f"http://127.0.0.1:{a.http_port}/members", method="POST", data=b"")
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(req, timeout=2)
        self.assertEqual(refused.exception.code, 405)
        self.assertIsNone(a.lookup("x"))  # alone, no service: empty ring
        self.assertEqual(a.redis().get("x"), None)


if __name__ == "__main__":
    unittest.main(verbosity=2)
