"""Integration: the /ui dashboard in a real browser (Debian's chromium,
headless), served by real agents on loopback.

Three agents with services. chromium loads /ui?key=/users/42, runs the
page's script (--virtual-time-budget) and dumps the DOM; asserted: the three
members appear alive, the ring picture has one slice per endpoint with the
shares /ring reports, the lookup box lists the owners /lookup answers, in
order. Then one agent is SIGKILLed and the page shows it dead within a few
seconds. A screenshot is kept in the build tree (RINGD_ARTIFACTS/ui.png).

Run with /usr/bin/python3; RINGD_BIN names the binary.
"""
import html.parser
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from procs import HOST, Agent, RunDir, require_tool, wait_until  # noqa: E402

CHROMIUM = require_tool("chromium", "install Debian's chromium (deploy/install-deps.sh)")


class Dom(html.parser.HTMLParser):
    """What the test reads from a dumped page: member rows, slices, owners."""

    def __init__(self):
        super().__init__()
        self.members = {}   # name -> state
        self.slices = {}    # endpoint -> title text
        self.owners = []
        self._in, self._slice = None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-name" in a:
            self.members[a["data-name"]] = a.get("data-state")
        elif tag == "path" and a.get("class") == "slice":
            self._slice = a["data-node"]
            self.slices[self._slice] = ""
        elif tag == "ol" and a.get("id") == "owners":
            self._in = "owners"
        elif tag == "li" and self._in == "owners":
            self.owners.append("")

    def handle_endtag(self, tag):
        if tag == "ol":
            self._in = None
        if tag == "path":
            self._slice = None

    def handle_data(self, data):
        if self._slice is not None:
            self.slices[self._slice] += data
        elif self._in == "owners" and self.owners:
            self.owners[-1] += data


class UiTest(unittest.TestCase):
    def setUp(self):
        self.rundir = RunDir("ringd-ui")
        self.addCleanup(self.rundir.cleanup)
        self.profile = tempfile.mkdtemp(prefix="ringd-chromium.")
        self.addCleanup(shutil.rmtree, self.profile, True)

    def chromium(self, url, *extra):
        argv = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--user-data-dir=" + self.profile, "--virtual-time-budget=3000"] + list(extra) + [url]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr[-2000:])
        return out.stdout

    def page(self, agent, query=""):
        dom = Dom()
        dom.feed(self.chromium("http://%s:%d/ui%s" % (HOST, agent.http_port, query), "--dump-dom"))
        return dom

    def test_dashboard(self):
        agents = []
        for i in (1, 2, 3):
            agents.append(Agent("n%d" % i, self.rundir, join=[agents[0].gossip] if agents else [],
                                service="127.0.0.1:1840%d" % i, service_check="none",
                                extra_args=["--profile", "local"]).start())
        for a in agents:
            a.wait_ready()
        n1 = agents[0]
        wait_until(lambda: len(n1.ring()["nodes"]) == 3, 10, "3 endpoints on n1's ring")

        dom = self.page(n1, "?key=/users/42")
        self.assertEqual(dom.members, {"n1": "alive", "n2": "alive", "n3": "alive"})
        ring = n1.ring()
        self.assertEqual(sorted(dom.slices), sorted(ring["nodes"]))
        for node, title in dom.slices.items():
            self.assertEqual(title, "%s: %.2f%%" % (node, ring["shares"][node] * 100))
        self.assertEqual(dom.owners, n1.http_json("/lookup?key=/users/42&n=3")["nodes"])

        agents[2].kill()
        started = time.monotonic()
        wait_until(lambda: self.page(n1).members.get("n3") == "dead", 20, "n3 dead on the page")
        print("ui: n3 shown dead %.1f s after SIGKILL" % (time.monotonic() - started))
        self.assertEqual(len(self.page(n1).slices), 2)

        artifacts = os.environ.get("RINGD_ARTIFACTS", self.rundir.path)
        os.makedirs(artifacts, exist_ok=True)
        shot = os.path.join(artifacts, "ui.png")
        self.chromium("http://%s:%d/ui?key=/users/42" % (HOST, n1.http_port),
                      "--screenshot=" + shot, "--window-size=1100,900", "--hide-scrollbars")
        with open(shot, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        print("ui: screenshot in", shot)


if __name__ == "__main__":
    unittest.main(verbosity=2)
