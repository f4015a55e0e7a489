"""Integration: --event-handler scripts run by a real agent (serf's shape).

n1 runs three handlers: member-join,member-failed and member-leave write
their environment and stdin to files; a catch-all one exits 1 on every
event. n2 and n3 join; n3 is SIGKILLed, n2 leaves. Asserted: the join
invocations name n2 and n3 with address and service on stdin, SERF_EVENT
equals RINGD_EVENT, SERF_SELF_NAME is n1; member-failed names n3,
member-leave names n2; the failing handler is logged at warn and counted;
then a handler that sleeps past --event-handler-timeout-ms is killed and
counted, and the agent carries on.

Run with /usr/bin/python3; RINGD_BIN names the binary.
"""
import glob
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from procs import Agent, RunDir, wait_until  # noqa: E402


def records(directory):
    """[(env dict, stdin lines)] of every invocation, oldest first."""
    out = []
    for path in sorted(glob.glob(os.path.join(directory, "*.env"))):
        env = {}
        with open(path) as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    env[k] = v
        with open(path[:-4] + ".in") as f:
            out.append((env, f.read().splitlines()))
    return out


def log_text(agent):
    with open(agent.log_path) as f:
        return f.read()


class EventHandlersTest(unittest.TestCase):
    def setUp(self):
        self.rundir = RunDir("ringd-events")
        self.addCleanup(self.rundir.cleanup)
        self.out = self.rundir.sub("events", "x")[:-2]
        os.makedirs(self.out, exist_ok=True)

    def script(self, tag):
        # One file pair per invocation; $$ (the shell's pid) keeps them apart.
        return ('f=%s/$(date +%%s%%N)-%s-$$; env > $f.env; cat > $f.in; echo handled $RINGD_EVENT'
                % (self.out, tag))

    def test_handlers(self):
        n1 = Agent("n1", self.rundir, service="127.0.0.1:18301", service_check="none",
                   extra_args=["--profile", "local", "--tag", "zone=eu",
                               "--event-handler", "member-join,member-failed=" + self.script("jf"),
                               "--event-handler", "member-leave=" + self.script("l"),
                               "--event-handler", "exit 1"]).start()
        n1.wait_ready()
        n2 = Agent("n2", self.rundir, join=[n1.gossip], service="127.0.0.1:18302", service_check="none",
                   extra_args=["--profile", "local"]).start()
        n3 = Agent("n3", self.rundir, join=[n1.gossip], service="127.0.0.1:18303", service_check="none",
                   extra_args=["--profile", "local"]).start()
        n2.wait_ready()
        n3.wait_ready()

        def joined():
            names = [line.split("\t")[0] for env, lines in records(self.out)
                     if env.get("SERF_EVENT") == "member-join" for line in lines]
            return sorted(set(names)) == ["n2", "n3"]
        wait_until(joined, 10, "member-join invocations for n2 and n3")
        for env, lines in records(self.out):
            self.assertEqual(env["SERF_EVENT"], env["RINGD_EVENT"])
            self.assertEqual(env["SERF_SELF_NAME"], "n1")
            self.assertEqual(env["SERF_SELF_ROLE"], "127.0.0.1:18301")
            self.assertEqual(env["SERF_TAG_ZONE"], "eu")
            for line in lines:
                name, address, service, _tags = line.split("\t")
                agent = {"n2": n2, "n3": n3}[name]
                self.assertEqual(address, agent.gossip)
                self.assertEqual(service, agent.service)

        n3.kill()
        wait_until(lambda: any(env["SERF_EVENT"] == "member-failed" and lines[0].startswith("n3\t")
                               for env, lines in records(self.out)), 10, "member-failed for n3")
        n2.stop()
        wait_until(lambda: any(env["SERF_EVENT"] == "member-leave" and lines[0].startswith("n2\t")
                               for env, lines in records(self.out)), 10, "member-leave for n2")
        # The filtered handler saw only its events.
        for path in glob.glob(os.path.join(self.out, "*-jf-*.env")):
            with open(path) as f:
                self.assertRegex(f.read(), r"(?m)^SERF_EVENT=member-(join|failed)$")
        wait_until(lambda: "handled member-leave" in log_text(n1), 5, "the handler's output logged")
        log = log_text(n1)
        self.assertIn("event handler 'exit 1' (member-join) failed: exit status 1", log)
        counters = n1.http_json("/metrics.json")["gossip"]
        self.assertGreaterEqual(counters["event_handler_runs"], 6)
        self.assertGreaterEqual(counters["event_handler_failures"], 3)  # the catch-all, once per event
        self.assertEqual(counters["event_handler_timeouts"], 0)

    def test_a_handler_past_its_timeout_is_killed(self):
        n1 = Agent("n1", self.rundir, extra_args=["--profile", "local", "--event-handler-timeout-ms", "300",
                                                  "--event-handler", "member-join=sleep 30"]).start()
        n1.wait_ready()
        n2 = Agent("n2", self.rundir, join=[n1.gossip], extra_args=["--profile", "local"]).start()
        n2.wait_ready()
        started = time.monotonic()
        wait_until(lambda: n1.http_json("/metrics.json")["gossip"]["event_handler_timeouts"] == 1, 10,
                   "the sleeping handler killed")
        self.assertLess(time.monotonic() - started, 5)
        self.assertIn("event handler 'sleep 30' (member-join) killed after 300 ms", log_text(n1))
        self.assertEqual(n1.http("/health")[0], 200)  # the agent carries on


if __name__ == "__main__":
    unittest.main(verbosity=2)
