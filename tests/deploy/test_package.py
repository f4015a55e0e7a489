"""The Debian package (cmake/packaging.cmake): built, inspected, installed,
run, purged.

  * `cpack -G DEB` in the build tree makes ringd_<version>_amd64.deb;
  * its control data: package ringd, section net, the conffile
    /etc/ringd/ringd.json, postinst/postrm; its files: /usr/bin/ringd, the
    unit (ExecStart=/usr/bin/ringd ... sandboxed), the example config, the
    nginx files under /usr/share/ringd/nginx, the README;
  * dpkg installs it into a scratch root (`--root`, with the maintainer
    scripts run outside a chroot and DPKG_ROOT set, so they touch only that
    root): this machine's dpkg database, /usr and systemd never see it, and
    tests of other trees may run at the same time. The test needs root (the
    files belong to root). The installed usr/bin/ringd reports the build's
    version and runs with the packaged config (only addresses overridden, on
    loopback) until /health answers 200; a local edit of the conffile
    survives a reinstall;
  * `dpkg --purge` removes every file again, and postrm the link
    `systemctl enable ringd` made.

Run with /usr/bin/python3; RINGD_BUILD names the build tree, RINGD_SRC the source.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from procs import HOST, Proc, RunDir, free_port, http_get, wait_until  # noqa: E402

BUILD = os.environ.get("RINGD_BUILD", "build")


def run(argv, **kw):
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)
    if out.returncode != 0:
        raise AssertionError("%s -> %d:\n%s%s" % (" ".join(argv), out.returncode, out.stdout, out.stderr))
    return out.stdout


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise AssertionError("test_package installs a .deb with dpkg: run it as root")
        cls.out = tempfile.mkdtemp(prefix="ringd-deb.")
        run(["cpack", "-G", "DEB", "-B", cls.out], cwd=BUILD)
        debs = [f for f in os.listdir(cls.out) if f.endswith(".deb")]
        assert len(debs) == 1, debs
        cls.deb = os.path.join(cls.out, debs[0])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out, ignore_errors=True)

    def test_control_and_contents(self):
        info = run(["dpkg-deb", "--info", self.deb])
        self.assertIn("Package: ringd", info)
        self.assertIn("Section: net", info)
        self.assertIn("Suggests: nginx, libnginx-mod-http-lua", info)
        control = tempfile.mkdtemp(prefix="ringd-ctrl.")
        try:
            run(["dpkg-deb", "--control", self.deb, control])
            with open(os.path.join(control, "conffiles")) as f:
                self.assertEqual(f.read().split(), ["/etc/ringd/ringd.json"])
            for script in ("postinst", "prerm", "postrm"):
                self.assertTrue(os.access(os.path.join(control, script), os.X_OK), script)
        finally:
            shutil.rmtree(control)
        files = {line.split()[-1].lstrip(".") for line in run(["dpkg-deb", "--contents", self.deb]).splitlines()}
        for path in ("/usr/bin/ringd", "/usr/lib/systemd/system/ringd.service", "/etc/ringd/ringd.json",
                     "/usr/share/ringd/nginx/nginx.conf.template", "/usr/share/ringd/nginx/render.sh",
                     "/usr/share/ringd/nginx/lua/ringd/snapshot.lua", "/usr/share/doc/ringd/README.md"):
            self.assertIn(path, files)

        root = tempfile.mkdtemp(prefix="ringd-x.")
        try:
            run(["dpkg-deb", "-x", self.deb, root])
            with open(os.path.join(root, "usr/lib/systemd/system/ringd.service")) as f:
                unit = f.read()
            self.assertIn("ExecStart=/usr/bin/ringd agent --config /etc/ringd/ringd.json", unit)
            self.assertIn("Documentation=file:///usr/share/doc/ringd/README.md", unit)
            self.assertNotIn("/usr/local", unit)
            for hardening in ("DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes",
                              "CapabilityBoundingSet=\n", "RestrictAddressFamilies="):
                self.assertIn(hardening, unit)
        finally:
            shutil.rmtree(root)

    def test_install_run_and_purge(self):
        rundir = RunDir("ringd-deb-run")
        self.addCleanup(rundir.cleanup)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        root = tempfile.mkdtemp(prefix="ringd-deb-root.")
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        admin = os.path.join(root, "var/lib/dpkg")
        for d in ("info", "updates", "triggers"):
            os.makedirs(os.path.join(admin, d))
        open(os.path.join(admin, "status"), "w").close()
        dpkg = ["dpkg", "--root=" + root, "--force-script-chrootless", "--log=" + os.path.join(root, "dpkg.log")]
        run(dpkg + ["-i", self.deb], env=env)
        binary, config = root + "/usr/bin/ringd", root + "/etc/ringd/ringd.json"
        version = run([binary, "version"]).split()[-1]
        build_version = run([os.path.join(BUILD, "ringd"), "version"]).split()[-1]
        self.assertEqual(version, build_version)

        # The packaged config as it ships, its made-up addresses replaced by
        # loopback ones through flags (flags win over the file).
        with open(config) as f:
            self.assertIn("join", json.load(f))
        gossip, http, resp = free_port(udp_too=True), free_port(), free_port()
        me = "%s:%d" % (HOST, gossip)
        agent = Proc("installed", rundir, [binary, "agent", "--config", config,
                                           "--node", "pkg-test", "--bind", me, "--join", me,
                                           "--service", "%s:%d" % (HOST, free_port()), "--service-check", "none",
                                           "--http", "%s:%d" % (HOST, http), "--resp", "%s:%d" % (HOST, resp)])
        agent.start()
        wait_until(lambda: agent.check_alive() or http_get(http, "/health", timeout=0.5)[0] == 200, 15,
                   "the installed agent's /health")
        self.assertEqual(agent.stop(), 0)

        # A local edit of the conffile survives reinstalling the package.
        with open(config, "a") as f:
            f.write("\n")
        with open(config) as f:
            edited = f.read()
        run(dpkg + ["-i", "--force-confold", self.deb], env=env)
        with open(config) as f:
            self.assertEqual(f.read(), edited)

        # The link `systemctl enable ringd` makes goes with the purge (postrm).
        link = root + "/etc/systemd/system/multi-user.target.wants/ringd.service"
        os.makedirs(os.path.dirname(link))
        os.symlink("/usr/lib/systemd/system/ringd.service", link)

        run(dpkg + ["--purge", "ringd"], env=env)
        self.assertFalse(os.path.lexists(link))
        left = [os.path.join(d, f) for d, _, files in os.walk(root) for f in files
                if not d.startswith(admin) and f != "dpkg.log"]
        self.assertEqual(left, [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
