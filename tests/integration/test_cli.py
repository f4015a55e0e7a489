"""Integration: the serf-shaped CLI against real agents on loopback.

  * members -status / -format json; lookup -n against /lookup; ring;
  * join merges two running clusters;
  * tags -set / -delete reach the other members;
  * monitor prints a killed member's death and the ring rebuild;
  * force-leave turns the dead member into left everywhere (and refuses a
    live one);
  * reload and SIGHUP re-read the config file (tags and log level apply);
  * leave: the agent exits 0 and the others record it as left.

Run with /usr/bin/python3; RINGD_BIN names the binary.
"""
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from procs import HOST, Agent, RunDir, ringd_bin, wait_until  # noqa: E402


def cli(agent, *args, check=True):
    out = subprocess.run([ringd_bin()] + list(args) + ["-http", "%s:%d" % (HOST, agent.http_port)],
                         capture_output=True, text=True, timeout=20)
    if check and out.returncode != 0:
        raise AssertionError("ringd %s -> %d: %s%s" % (" ".join(args), out.returncode, out.stdout, out.stderr))
    return out


def state_everywhere(agents, name, state):
    return all(a.members().get(name, {}).get("state") == state for a in agents)


class CliTest(unittest.TestCase):
    def setUp(self):
        self.rundir = RunDir("ringd-cli")
        self.addCleanup(self.rundir.cleanup)

    def agent(self, name, join=(), extra=(), service=True):
        port = 18200 + int(name[1:])
        return Agent(name, self.rundir, join=join, service="127.0.0.1:%d" % port if service else None,
                     service_check="none", extra_args=["--profile", "local"] + list(extra)).start()

    def test_cluster_commands(self):
        a1 = self.agent("n1")
        a2 = self.agent("n2", join=[a1.gossip])
        b3 = self.agent("n3")  # a second cluster of one
        for a in (a1, a2, b3):
            a.wait_ready()
        self.assertNotIn("n3", a1.members())

        out = cli(a1, "join", b3.gossip)
        self.assertIn("Successfully joined cluster by contacting 1 node.", out.stdout)
        wait_until(lambda: all(len(a.members()) == 3 for a in (a1, a2, b3)), 10, "one cluster of 3")
        bad = cli(a1, "join", "127.0.0.1:1", check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("no member answered", bad.stderr)

        doc = json.loads(cli(a2, "members", "-format", "json").stdout)
        self.assertEqual(sorted(m["name"] for m in doc["members"]), ["n1", "n2", "n3"])
        table = cli(a2, "members", "-status", "alive").stdout.splitlines()
        self.assertEqual(table[0].split()[:3], ["Node", "Address", "State"])
        self.assertEqual(len(table), 4)
        self.assertEqual(cli(a2, "members", "-status", "dead").stdout.splitlines()[1:], [])
        self.assertEqual(cli(a2, "members", "-status", "gone", check=False).returncode, 2)

        wait_until(lambda: len(a1.ring()["nodes"]) == 3, 10, "3 endpoints on n1's ring")
        owners = cli(a1, "lookup", "/users/42", "-n", "3").stdout.split()
        self.assertEqual(owners, a1.http_json("/lookup?key=/users/42&n=3")["nodes"])
        self.assertEqual(len(set(owners)), 3)
        ring = cli(a1, "ring").stdout
        self.assertIn(a1.ring()["checksum"], ring)
        self.assertEqual(ring.count("%"), 3)

        cli(a2, "tags", "-set", "zone=eu", "-set", "rack=7")
        wait_until(lambda: a1.members()["n2"]["tags"] == {"zone": "eu", "rack": "7"}, 5, "n2's tags on n1")
        self.assertEqual(cli(a2, "tags", "-delete", "rack").stdout.strip(), "zone=eu")
        wait_until(lambda: a1.members()["n2"]["tags"] == {"zone": "eu"}, 5, "n2's tag removed on n1")
        refused = cli(a2, "tags", "-set", "weight=0", check=False)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("weight", refused.stderr)

        monitor = subprocess.Popen([ringd_bin(), "monitor", "-http", "%s:%d" % (HOST, a1.http_port)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(0.5)  # its first request marks "from now on"
            refused = cli(a1, "force-leave", "n3", check=False)
            self.assertEqual(refused.returncode, 1)
            self.assertIn("not failed", refused.stderr)
            b3.kill()
            wait_until(lambda: state_everywhere([a1, a2], "n3", "dead"), 10, "n3 dead on n1 and n2")
            cli(a2, "force-leave", "n3")
            wait_until(lambda: state_everywhere([a1, a2], "n3", "left"), 5, "n3 left on n1 and n2")
            time.sleep(0.5)
        finally:
            monitor.send_signal(signal.SIGINT)
            out, err = monitor.communicate(timeout=5)
        self.assertEqual(monitor.returncode, 0, err)
        self.assertRegex(out, r"member n3 dead \(address %s" % b3.gossip)
        self.assertRegex(out, r"ring rebuilt: 2 endpoints")
        self.assertRegex(out, r"member n3 left ")
        self.assertLess(out.index(" n3 dead "), out.index(" n3 left "))

        cli(a2, "leave")
        self.assertEqual(a2.popen.wait(timeout=10), 0)
        wait_until(lambda: a1.members()["n2"]["state"] == "left", 5, "n2 left on n1")

    def test_reload_and_sighup_reread_the_config_file(self):
        config = self.rundir.sub("n1.json")
        with open(config, "w") as f:
            json.dump({"tag": ["zone=a"], "log_level": "info"}, f)
        a1 = Agent("n1", self.rundir, service="127.0.0.1:18201", service_check="none",
                   extra_args=["--profile", "local", "--config", config])
        # Flags win over the file: drop the harness's --log-level so the
        # file's log_level is the one a reload re-reads.
        i = a1.argv.index("--log-level")
        del a1.argv[i:i + 2]
        a1.start()
        a2 = self.agent("n2", join=[a1.gossip])
        a1.wait_ready()
        a2.wait_ready()
        wait_until(lambda: a2.members().get("n1", {}).get("tags") == {"zone": "a"}, 5, "n1's tags on n2")

        with open(config, "w") as f:
            json.dump({"tag": ["zone=b", "rack=1"], "log_level": "debug", "ring_points": 64}, f)
        out = cli(a1, "reload").stdout
        self.assertIn('applied: ["log-level","tags"]', out)
        self.assertIn('needs a restart: ["ring"]', out)
        wait_until(lambda: a2.members()["n1"]["tags"] == {"zone": "b", "rack": "1"}, 5, "n1's new tags on n2")
        # At debug level n1 logs each failed stream, e.g. a join nobody answers.
        cli(a1, "join", "127.0.0.1:1", check=False)
        wait_until(lambda: "stream request to 127.0.0.1:1 failed" in open(a1.log_path).read(), 5,
                   "a debug line in n1's log")

        with open(config, "w") as f:
            json.dump({"tag": ["zone=c"]}, f)
        a1.send_signal(signal.SIGHUP)
        wait_until(lambda: a2.members()["n1"]["tags"] == {"zone": "c"}, 5, "tags of the SIGHUP reload on n2")
        with open(config, "w") as f:
            f.write("{not json")
        bad = cli(a1, "reload", check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("not valid JSON", bad.stderr)
        a1.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        a1.check_alive()
        self.assertEqual(a2.members()["n1"]["tags"], {"zone": "c"})  # nothing changed
        with open(a1.log_path) as f:
            self.assertIn("SIGHUP: the configuration was not reloaded", f.read())


if __name__ == "__main__":
    unittest.main(verbosity=2)
