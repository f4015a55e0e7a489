"""The Debian package (issue 14 item 3): built by cpack from the build tree,
its metadata and files read back with dpkg-deb, installed with dpkg into a
scratch root (--root, maintainer scripts run chrootless with DPKG_ROOT set,
so the machine's own dpkg database and systemd are never touched), the
installed binary run with the installed config, then purged.

Run with /usr/bin/python3 as root. RINGD_BUILD names the build tree,
RINGD_SRC the source tree, RINGD_VERSION the project's version.
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
from procs import HOST, Agent, Proc, RunDir, free_port, http_get, wait_until  # noqa: E402
from test_deploy import EXPOSURE_MAX, systemd_analyze, unit_settings  # noqa: E402

SRC = os.environ.get("RINGD_SRC") or os.path.join(HERE, "..", "..")
BUILD = os.environ.get("RINGD_BUILD", "")
VERSION = os.environ.get("RINGD_VERSION", "")
UNIT = "/lib/systemd/system/ringd.service"
CONFIG = "/etc/ringd/ringd.json"
WANTS_LINK = "/etc/systemd/system/multi-user.target.wants/ringd.service"


def run(*cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=kw.pop("timeout", 60),
                       stdin=subprocess.DEVNULL, **kw)
    if p.returncode != 0:
        raise AssertionError("%s exited %d:\n%s%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
    return p.stdout


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def source_nginx_files():
    """{path relative to deploy/nginx: executable?} of the source tree."""
    top = os.path.join(SRC, "deploy", "nginx")
    out = {}
    for d, _, files in os.walk(top):
        for f in files:
            path = os.path.join(d, f)
            out[os.path.relpath(path, top)] = os.access(path, os.X_OK)
    return out


@unittest.skipUnless(os.geteuid() == 0, "dpkg --root installs files owned by root: run as root")
class DebianPackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not (BUILD and os.path.isfile(os.path.join(BUILD, "CPackConfig.cmake"))):
            raise AssertionError("RINGD_BUILD=%r holds no CPackConfig.cmake (configure with cmake first)" % BUILD)
        cls.tmp = tempfile.TemporaryDirectory(prefix="ringd-package-test.")
        out = run("cpack", "-G", "DEB", "-B", cls.tmp.name, cwd=BUILD, timeout=300)
        debs = [f for f in os.listdir(cls.tmp.name) if f.endswith(".deb")]
        if len(debs) != 1:
            raise AssertionError("cpack made %r, not one .deb:\n%s" % (debs, out))
        cls.deb = os.path.join(cls.tmp.name, debs[0])

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def field(self, name):
        return run("dpkg-deb", "--field", self.deb, name).strip()

    def test_1_metadata(self):
        self.assertTrue(VERSION, "RINGD_VERSION is not set (tests/deploy/CMakeLists.txt passes it)")
        self.assertEqual(os.path.basename(self.deb), "ringd_%s_%s.deb" % (
            VERSION, run("dpkg", "--print-architecture").strip()))
        self.assertEqual(self.field("Package"), "ringd")
        self.assertEqual(self.field("Version"), VERSION)
        self.assertEqual(self.field("Section"), "net")
        self.assertRegex(self.field("Maintainer"), r"^[^<>]+ <[^<>@\s]+@[^<>\s]+>$")
        self.assertTrue(self.field("Description"))
        suggests = [s.strip() for s in self.field("Suggests").split(",")]
        self.assertIn("nginx", suggests)
        self.assertIn("libnginx-mod-http-lua", suggests)
        self.assertEqual(run("dpkg-deb", "--info", self.deb, "conffiles").split(), [CONFIG])
        info = run("dpkg-deb", "--info", self.deb)
        for script in ("postinst", "prerm", "postrm"):
            self.assertRegex(info, r"\d+ bytes,\s+\d+ lines\s+\*\s+%s\s" % script, "%s missing or not executable" % script)

    def test_2_contents(self):
        listing = {}
        for line in run("dpkg-deb", "--contents", self.deb).splitlines():
            mode, _, _, _, _, path = line.split(None, 5)
            listing[path[1:].rstrip("/") or "/"] = mode
        for path in ("/usr/bin/ringd", UNIT, CONFIG, "/usr/share/doc/ringd/README.md"):
            self.assertIn(path, listing)
        self.assertTrue(listing["/usr/bin/ringd"].startswith("-rwxr-xr-x"))
        nginx = source_nginx_files()
        self.assertIn("render.sh", nginx)
        for rel, executable in nginx.items():
            mode = listing.get("/usr/share/ringd/nginx/" + rel)
            self.assertIsNotNone(mode, rel + " is not packaged")
            self.assertEqual(mode[3] == "x", executable, rel + " " + mode)
        packaged = {p for p in listing if p.startswith("/usr/share/ringd/nginx/") and not listing[p].startswith("d")}
        self.assertEqual(packaged, {"/usr/share/ringd/nginx/" + r for r in nginx})

    def test_3_install_run_purge(self):
        root = os.path.join(self.tmp.name, "root")
        admin = os.path.join(root, "var", "lib", "dpkg")
        for d in ("info", "updates", "triggers"):
            os.makedirs(os.path.join(admin, d))
        open(os.path.join(admin, "status"), "w").close()
        dpkg = ["dpkg", "--root=" + root, "--force-script-chrootless",
                "--log=" + os.path.join(self.tmp.name, "dpkg.log")]

        out = run(*dpkg, "--install", self.deb)
        self.assertIn("systemctl enable --now ringd", out, "postinst says what to do next")
        status = run("dpkg-query", "--admindir=" + admin, "--show", "--showformat=${db:Status-Abbrev}${Version}", "ringd")
        self.assertEqual(status, "ii %s" % VERSION)
        self.assertEqual(run(*dpkg, "--verify", "ringd"), "")
        with open(os.path.join(SRC, "README.md"), "rb") as a, \
                open(root + "/usr/share/doc/ringd/README.md", "rb") as b:
            self.assertEqual(a.read(), b.read())

        # dpkg-shlibdeps computes Depends from the binary's shared libraries:
        # none for the static build, at least libc6 for a shared one.
        linkage = run("file", "--brief", root + "/usr/bin/ringd")
        depends = self.field("Depends")
        if "static" in linkage:
            self.assertEqual(depends, "", linkage)
        else:
            self.assertIn("libc6", depends, linkage)

        self.check_unit(root)
        self.check_installed_agent(root)

        # A conffile: an edit survives reinstalling, and dpkg --verify reports it.
        with open(root + CONFIG, "a", encoding="utf-8") as f:
            f.write("\n")
        edited = read(root + CONFIG)
        run(*dpkg, "--force-confold", "--install", self.deb)
        self.assertEqual(read(root + CONFIG), edited)
        self.assertRegex(subprocess.run(dpkg + ["--verify", "ringd"], capture_output=True, text=True).stdout,
                         r"^\S*5\S* c %s$" % re.escape(CONFIG))

        # Purge: every file goes, the conffile too; postrm drops an enable link.
        os.makedirs(os.path.dirname(root + WANTS_LINK))
        os.symlink(UNIT, root + WANTS_LINK)
        run(*dpkg, "--purge", "ringd")
        self.assertFalse(os.path.lexists(root + WANTS_LINK))
        left = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs
                if not os.path.join(d, f).startswith(admin)]
        self.assertEqual(left, [])
        self.assertFalse(os.path.exists(root + "/etc/ringd"))
        self.assertEqual(subprocess.run(["dpkg-query", "--admindir=" + admin, "--show", "ringd"],
                                        capture_output=True).returncode, 1)

    def check_unit(self, root):
        """The packaged unit: the source unit's settings, with the package's paths."""
        unit = root + UNIT
        source = unit_settings(os.path.join(SRC, "deploy", "systemd", "ringd.service"))
        packaged = unit_settings(unit)
        self.assertEqual(packaged.pop("ExecStart"), ["/usr/bin/ringd agent --config " + CONFIG])
        self.assertEqual(packaged.pop("Documentation"), ["file:///usr/share/doc/ringd/README.md"])
        for key in ("ExecStart", "Documentation"):
            source.pop(key)
        self.assertEqual(packaged, source)
        p = subprocess.run([systemd_analyze(), "security", "--offline=yes", "--no-pager", unit],
                           capture_output=True, text=True, timeout=60)
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", p.stdout + p.stderr)
        self.assertIsNotNone(m, p.stdout + p.stderr)
        print("\n    packaged unit: systemd-analyze security exposure %s (at most %.1f)" % (m.group(1), EXPOSURE_MAX))
        self.assertLessEqual(float(m.group(1)), EXPOSURE_MAX)
        # verify checks that ExecStart= exists: point it into the scratch root.
        with tempfile.TemporaryDirectory() as tmp:
            copy = os.path.join(tmp, "ringd.service")
            with open(unit, encoding="utf-8") as f, open(copy, "w", encoding="utf-8") as g:
                g.write(f.read().replace("ExecStart=/usr/bin/ringd", "ExecStart=" + root + "/usr/bin/ringd"))
            p = subprocess.run([systemd_analyze(), "verify", "--man=no", copy], capture_output=True, text=True, timeout=60)
        self.assertEqual((p.returncode, p.stdout + p.stderr), (0, ""))

    def check_installed_agent(self, root):
        """The installed binary with the installed config: only addresses
        overridden, so the node name comes from the config."""
        binary = root + "/usr/bin/ringd"
        self.assertEqual(run(binary, "version").strip(), "ringd " + VERSION)
        config = json.loads(read(root + CONFIG))
        run_dir = RunDir("ringd-package-test")
        self.addCleanup(run_dir.cleanup)
        service = socket.socket()  # the "backend": the agent's TCP check connects to it
        self.addCleanup(service.close)
        service.bind((HOST, 0))
        service.listen(128)
        service_addr = "%s:%d" % (HOST, service.getsockname()[1])

        seed = Agent("seed", run_dir, binary=binary)
        seed.start()
        seed.wait_ready()
        gossip, http = free_port(udp_too=True), free_port()
        agent = Proc("packaged", run_dir, [
            binary, "agent", "--config", root + CONFIG, "--bind", "%s:%d" % (HOST, gossip),
            "--join", seed.gossip, "--service", service_addr,
            "--resp", "%s:%d" % (HOST, free_port()), "--http", "%s:%d" % (HOST, http)])
        agent.start()

        def health():
            agent.check_alive()
            status, _, body = http_get(http, "/health", timeout=0.5)
            return status == 200 and json.loads(body)
        self.assertEqual(wait_until(health, 20, "the installed agent's /health 200")["self"], config["node"])

        def owner():
            status, _, body = http_get(http, "/lookup?key=k", timeout=0.5)
            return status == 200 and json.loads(body)["node"]
        self.assertEqual(wait_until(owner, 10, "the service on the ring"), service_addr)
        self.assertIn(config["node"], seed.members())
        self.assertEqual(agent.stop(), 0, agent.log_tail())
        self.assertEqual(seed.stop(), 0, seed.log_tail())


if __name__ == "__main__":
    unittest.main(verbosity=2)
