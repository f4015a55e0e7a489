"""Integration: what an operator trying ringd for the first time runs into
(issue 17). Real ringd agents on loopback, one scenario per test.

Run with /usr/bin/python3. RINGD_BIN names the binary, RINGD_SRC the tree.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from procs import Agent, RunDir, free_port, ringd_bin, ringd_src, wait_until  # noqa: E402


def log_of(agent):
    with open(agent.log_path, "rb") as f:
        return f.read().decode("utf-8", "replace")


class OperatorTest(unittest.TestCase):
    def setUp(self):
        self.rundir = RunDir("ringd-operator")

    def tearDown(self):
        self.rundir.cleanup()

    def run_agent(self, *args, timeout=10):
        return subprocess.run([ringd_bin(), "agent", *args], capture_output=True, text=True, timeout=timeout)

    # item 2
    def test_a_second_agent_with_a_taken_name_stays_out(self):
        seed = Agent("router", self.rundir).start()
        seed.wait_ready()
        first = Agent("dup", self.rundir, join=[seed.gossip], service="127.0.0.1:19101", service_check="none").start()
        first.wait_ready()
        wait_until(lambda: seed.ring()["nodes"] == ["127.0.0.1:19101"], 10, "the first dup on the ring")
        impostor = Agent("dup", self.rundir, join=[seed.gossip], service="127.0.0.1:19102", service_check="none").start()
        wait_until(lambda: "name conflict" in log_of(impostor), 10, "the newcomer to log the conflict")
        # For several seconds (the report saw a flip every ~3 s): one address,
        # one ring, one incarnation, the newcomer not joined.
        incarnation = seed.members()["dup"]["incarnation"]
        deadline = time.monotonic() + 7
        while time.monotonic() < deadline:
            m = seed.members()["dup"]
            self.assertEqual(m["address"], first.gossip)
            self.assertEqual(m["state"], "alive")
            self.assertEqual(m["incarnation"], incarnation)
            self.assertEqual(seed.ring()["nodes"], ["127.0.0.1:19101"])
            self.assertEqual(seed.lookup("/y"), "127.0.0.1:19101")
            self.assertEqual(impostor.http("/health")[0], 503)
            time.sleep(0.2)
        self.assertIn("error name conflict: the name dup is held by a live agent at " + first.gossip, log_of(impostor))
        self.assertIn("error name conflict: an agent at " + impostor.gossip + " uses our name dup", log_of(first))
        self.assertNotIn("member dup updated", log_of(seed))
        # The newcomer leaving does not take the first holder off the ring.
        self.assertEqual(impostor.stop(), 0)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            self.assertEqual(seed.members()["dup"]["state"], "alive")
            self.assertEqual(seed.ring()["nodes"], ["127.0.0.1:19101"])
            time.sleep(0.1)

    # item 5
    def test_a_port_in_use_stops_the_agent_before_it_joins(self):
        seed = Agent("router", self.rundir).start()
        seed.wait_ready()
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            r = self.run_agent("--node", "late", "--bind", "127.0.0.1:%d" % free_port(udp_too=True),
                               "--join", seed.gossip, "--service", "127.0.0.1:19103",
                               "--resp", "127.0.0.1:%d" % port, "--http", "127.0.0.1:%d" % free_port())
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--resp 127.0.0.1:%d: Address already in use" % port, r.stderr)
        self.assertNotIn("late", seed.members())
        self.assertNotIn("member late", log_of(seed))
        self.assertEqual(seed.ring()["nodes"], [])

    # item 6
    def test_a_bad_unix_socket_path_names_its_own_flag(self):
        r = self.run_agent("--node", "u", "--bind", "127.0.0.1:%d" % free_port(udp_too=True),
                           "--resp", "127.0.0.1:%d" % free_port(), "--http", "127.0.0.1:%d" % free_port(),
                           "--resp-unix", "/nonexistent/dir/s.sock")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("--resp-unix /nonexistent/dir/s.sock: No such file or directory", r.stderr)

    # item 7
    def test_sighup_does_not_kill_the_agent(self):
        a = Agent("a", self.rundir, service="127.0.0.1:19104", service_check="none").start()
        a.wait_ready()
        b = Agent("b", self.rundir, join=[a.gossip]).start()
        b.wait_ready()
        a.send_signal(signal.SIGHUP)
        wait_until(lambda: "SIGHUP" in log_of(a), 5, "the SIGHUP line")
        time.sleep(1.5)  # long enough for a killed agent to be suspected
        a.check_alive()
        self.assertEqual(b.members()["a"]["state"], "alive")
        self.assertNotIn("member a suspect", log_of(b))
        self.assertEqual(a.http("/health")[0], 200)

    # item 8
    def test_a_dead_seed_is_reported_with_the_reason(self):
        dead = "127.0.0.1:%d" % free_port(udp_too=True)
        a = Agent("lonely", self.rundir, join=[dead]).start()
        wait_until(lambda: "cannot join through seed %s: Connection refused" % dead in log_of(a), 5,
                   "a warning naming the seed and the reason")
        self.assertRegex(log_of(a), r"warning cannot join through seed %s: Connection refused; retrying every 1000 ms"
                         % re.escape(dead))
        self.assertEqual(a.http("/health")[0], 503)

    # items 3 and 4 (each case in detail: tests/unit/agent_config_test.cc)
    def test_bad_numbers_and_tags_exit_2_with_one_line(self):
        cases = [
            (["--ring-points", "-5"], "--ring-points must be 1 to 65536, got -5"),
            (["--ring-points", "4000000000"], "--ring-points must be 1 to 65536"),
            (["--tag", "weight=abc"], "--tag weight=abc"),
            (["--tag", "weight=0"], "--tag weight=0"),
            (["--tag", "weight=65535"], "--tag weight=65535"),
            (["--node", "x", "stray"], "unexpected argument 'stray'"),
        ]
        for args, text in cases:
            with self.subTest(args=args):
                r = self.run_agent(*args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                self.assertIn(text, r.stderr)

    # item 10: the agent's own usage line does not call optional flags required
    def test_agent_help_shows_every_flag_as_optional(self):
        r = subprocess.run([ringd_bin(), "agent", "--help"], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0)
        usage = r.stdout.split("\n\n")[0]
        for flag in ("--node NAME", "--bind IP:PORT", "--join HOST:PORT", "--resp IP:PORT", "--http IP:PORT"):
            self.assertIn("[" + flag, usage)
        self.assertIn("The first agent starts alone (no --join)", r.stdout)

    # item 11: the README shows what the API returns
    def test_the_readme_shows_every_field_of_health_and_ring(self):
        with open(os.path.join(ringd_src(), "README.md"), encoding="utf-8") as f:
            readme = f.read()
        a = Agent("docs", self.rundir, service="127.0.0.1:19105", service_check="none").start()
        a.wait_ready()
        for path in ("/health", "/ring"):
            with self.subTest(path=path):
                lines = readme.splitlines()
                start = next(i for i, l in enumerate(lines) if l.startswith("- `GET %s`" % path))
                end = start + 1
                while end < len(lines) and lines[end].startswith("  "):  # the bullet's own lines
                    end += 1
                line = "\n".join(lines[start:end])
                documented = set(re.findall(r'"(\w+)":', line))
                _, _, body = a.http(path)
                actual = set(json.loads(body))
                self.assertLessEqual(actual, documented, "README: " + line)
        self.assertEqual(a.ring()["weights"], {})


if __name__ == "__main__":
    unittest.main(verbosity=2)
