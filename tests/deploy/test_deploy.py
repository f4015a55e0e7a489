"""Deploy scripts, the README's set-up and usage text, and the systemd unit
(issue 17 items 9, 10 and 12). Needs no ringd build.

Run with /usr/bin/python3 as root (the script checks switch users with
setpriv). RINGD_SRC names the tree (default: two folders up). It never runs
cmake or apt-get: the scripts run from a copy of deploy/ with stubs for those,
on a PATH made of links to the system's tools minus sudo (plus a fake sudo
that only records its arguments, for the re-exec checks).
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

SRC = os.path.abspath(os.environ.get("RINGD_SRC") or
                      os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
UNIT = os.path.join(SRC, "deploy", "systemd", "ringd.service")
SCRIPTS = ("demo.sh", "test.sh", "install-deps.sh")
TOOL_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
EXPOSURE_MAX = 2.0
needs_root = unittest.skipUnless(os.geteuid() == 0, "runs the scripts as root and as nobody: run as root")


def read(rel):
    with open(os.path.join(SRC, rel), encoding="utf-8") as f:
        return f.read()


def section(markdown, title):
    """The text of `## title` up to the next `## ` heading."""
    m = re.search(r"^## " + re.escape(title) + r"\n(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    if not m:
        raise AssertionError("README has no '## %s' section" % title)
    return m.group(1)


def fenced_blocks(text):
    """[(info string, body)] of the ``` blocks in text, in order."""
    return re.findall(r"^```([^\n]*)\n(.*?)^```", text, re.M | re.S)


def unit_settings(path):
    """{key: [values]} of a unit file; a key may repeat."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;[" or "=" not in line:
                continue
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def systemd_analyze():
    tool = shutil.which("systemd-analyze")
    if tool is None:
        raise AssertionError("systemd-analyze not found: install systemd (deploy/install-deps.sh)")
    return tool


STUB = """#!/bin/sh
# Records how it was called, one argument per line, and does nothing else.
printf '%s\\n' "$@" > "$STUB_LOGS/{name}.args"
{extra}
exit {rc}
"""


class Sandbox:
    """A copy of deploy/ (and README.md) in a temp dir that any user can read,
    and a PATH directory: links to every system tool except sudo, plus stubs."""

    def __init__(self, with_sudo=False):
        self.tmp = tempfile.TemporaryDirectory(prefix="ringd-deploy-test.")
        self.root = self.tmp.name
        os.chmod(self.root, 0o755)
        self.src = os.path.join(self.root, "src")
        shutil.copytree(os.path.join(SRC, "deploy"), os.path.join(self.src, "deploy"), symlinks=True)
        shutil.copy2(os.path.join(SRC, "README.md"), self.src)
        self.logs = os.path.join(self.root, "logs")
        os.mkdir(self.logs)
        os.chmod(self.logs, 0o777)
        self.bin = os.path.join(self.root, "bin")
        os.mkdir(self.bin)
        stubs = {
            # cmake makes the build folder (test.sh cds into it), nothing else:
            # no build/ringd, so demo.sh stops right after its build step.
            "cmake": ('case " $* " in *" -B build "*) mkdir -p build ;; esac', 0),
            "ctest": ("", 0),
            "apt-get": ("echo 'apt-get stub: a package is missing; run deploy/install-deps.sh first' >&2", 1),
        }
        if with_sudo:
            stubs["sudo"] = ("", 0)
        for name, (extra, rc) in stubs.items():
            path = os.path.join(self.bin, name)
            with open(path, "w", encoding="utf-8") as f:
                f.write(STUB.format(name=name, extra=extra, rc=rc))
            os.chmod(path, 0o755)
        for d in TOOL_DIRS:
            if not os.path.isdir(d):
                continue
            for name in os.listdir(d):
                dst = os.path.join(self.bin, name)
                src = os.path.join(d, name)
                if name in ("sudo", "sudoedit") or os.path.lexists(dst):
                    continue
                if os.path.isfile(src) and os.access(src, os.X_OK):
                    os.symlink(src, dst)

    def cleanup(self):
        self.tmp.cleanup()

    def script(self, name):
        return os.path.join(self.src, "deploy", name)

    def run(self, name, *args, user=None, env=None, timeout=120):
        """Runs deploy/NAME with a clean environment; user='nobody' drops root."""
        environ = {"PATH": self.bin, "HOME": self.root, "LANG": "C.UTF-8", "STUB_LOGS": self.logs}
        environ.update(env or {})
        cmd = [self.script(name), *args]
        if user is not None:
            cmd = ["/usr/bin/setpriv", "--reuid=" + user, "--regid=nogroup", "--clear-groups", "--", *cmd]
        p = subprocess.run(cmd, cwd=self.root, env=environ, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
        return p.returncode, p.stdout

    def called(self, stub):
        path = os.path.join(self.logs, stub + ".args")
        if not os.path.exists(path):
            return None
        with open(path, encoding="utf-8") as f:
            return f.read().splitlines()


class SetupCommandsTest(unittest.TestCase):
    """Item 9: the set-up commands work as root without sudo, and with sudo."""

    def test_readme_starts_with_two_commands_without_sudo(self):
        readme = read("README.md")
        first_fence = readme.index("```")
        self.assertEqual(readme[:first_fence].strip(), "# ringd", "only the title before the set-up block")
        info, body = fenced_blocks(readme)[0]
        self.assertEqual(info.strip(), "sh")
        commands = [line.split("#", 1)[0].strip() for line in body.splitlines() if line.strip()]
        self.assertEqual(commands, ["./deploy/demo.sh", "./deploy/test.sh"])
        for c in commands:
            self.assertFalse(c.startswith("sudo"), c)
        after = readme[readme.index("```", first_fence + 3) + 3:]
        paragraph = after.strip().split("\n\n", 1)[0]
        self.assertIn("as root (or with sudo)", " ".join(paragraph.split()))

    def test_no_doc_or_script_header_says_sudo_deploy(self):
        readme = read("README.md")
        texts = {
            "README.md (set-up block and Build)": readme[:readme.index("## Usage")],
            "deploy/README.md": read("deploy/README.md"),
        }
        for name in SCRIPTS + ("install.sh",):
            if os.path.exists(os.path.join(SRC, "deploy", name)):
                texts["deploy/" + name] = read("deploy/" + name)
        for where, text in texts.items():
            self.assertIsNone(re.search(r"sudo \.?/?deploy/", text), where)

    @needs_root
    def test_as_root_without_sudo(self):
        box = Sandbox(with_sudo=False)
        self.addCleanup(box.cleanup)
        self.assertIsNone(shutil.which("sudo", path=box.bin))
        rc, out = box.run("install-deps.sh")
        self.assertEqual(rc, 0, out)
        self.assertIn("already installed", out)

        rc, out = box.run("test.sh", "-L", "unit")
        self.assertEqual(rc, 0, out)
        self.assertEqual(box.called("ctest")[-2:], ["-L", "unit"], out)

        # demo.sh installs, then builds: the cmake stub builds nothing, so it
        # stops there, past every root check.
        rc, out = box.run("demo.sh")
        kept = re.search(r"logs kept in (/tmp/ringd-demo\.\w+)", out)
        if kept:  # its run directory, with the stub's empty build log
            shutil.rmtree(kept.group(1), ignore_errors=True)
        self.assertEqual(rc, 1, out)
        self.assertIsNotNone(box.called("cmake"), out)
        self.assertIn("already installed", out)
        self.assertIn("build did not produce", out)
        self.assertNotIn("sudo", out.replace("(or with sudo)", ""))
        self.assertIsNone(box.called("sudo"))

    @needs_root
    def test_not_root_without_sudo_says_so_in_one_line(self):
        box = Sandbox(with_sudo=False)
        self.addCleanup(box.cleanup)
        for name in SCRIPTS:
            with self.subTest(script=name):
                rc, out = box.run(name, user="nobody")
                lines = [line for line in out.splitlines() if line.strip()]
                self.assertEqual(rc, 1, out)
                self.assertEqual(len(lines), 1, out)
                self.assertIn("root", lines[0])
                self.assertIn(name, lines[0], "the line names the script that was run")
                self.assertIsNone(re.search(r"try:? sudo", lines[0]), "sudo is not installed: " + lines[0])
        self.assertIsNone(box.called("cmake"))
        self.assertIsNone(box.called("ctest"))

    @needs_root
    def test_not_root_with_sudo_runs_again_through_sudo(self):
        box = Sandbox(with_sudo=True)
        self.addCleanup(box.cleanup)
        for name, args in (("install-deps.sh", []), ("test.sh", ["-L", "unit"]), ("demo.sh", [])):
            with self.subTest(script=name):
                if box.called("sudo") is not None:
                    os.unlink(os.path.join(box.logs, "sudo.args"))
                rc, out = box.run(name, *args, user="nobody")
                self.assertEqual(rc, 0, out)
                called = box.called("sudo")
                self.assertIsNotNone(called, "%s did not run sudo: %s" % (name, out))
                self.assertIn("--", called)
                rest = called[called.index("--") + 1:]
                self.assertEqual(rest, [box.script(name), *args])
        self.assertIsNone(box.called("cmake"))


class UsageTest(unittest.TestCase):
    """Item 10: the Usage section says what is optional and how to run a cluster."""

    def setUp(self):
        self.usage = section(read("README.md"), "Usage")

    def test_usage_block_shows_every_agent_flag_as_optional(self):
        block = fenced_blocks(self.usage)[0][1]
        agent = block.split("ringd members")[0]
        self.assertIn("ringd agent", agent)
        for flag in ("--join", "--resp", "--http", "--node", "--bind"):
            self.assertIn("[" + flag, agent)
        # Take out the [...] groups: no flag may be left outside brackets.
        bare = agent
        while True:
            stripped = re.sub(r"\[[^\[\]]*\]", "", bare)
            if stripped == bare:
                break
            bare = stripped
        self.assertEqual(re.findall(r"--[a-z-]+", bare), [], "flags shown as required")

    def test_usage_text_says_how_to_run_a_cluster(self):
        text = " ".join(re.sub(r"^```.*?^```", "", self.usage, flags=re.M | re.S).split())
        self.assertRegex(text, r"first (agent|node)[^.]*(no|without) `--join`")
        self.assertRegex(text, r"[Nn]ames?[^.]* must be unique")
        self.assertRegex(text, r"gossip port[^.]*UDP and TCP")
        self.assertRegex(text, r"`--resp` and `--http`[^.]*loopback")
        self.assertRegex(text, r"Without `--keyring`[^.]*plaintext")
        self.assertRegex(text, r"(private network|firewall)")


class SystemdUnitTest(unittest.TestCase):
    """Item 12: the unit is sandboxed and its Documentation= gets installed."""

    def test_exposure_rating(self):
        p = subprocess.run([systemd_analyze(), "security", "--offline=yes", "--no-pager", UNIT],
                           capture_output=True, text=True, timeout=60)
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", p.stdout + p.stderr)
        self.assertIsNotNone(m, p.stdout + p.stderr)
        print("\n    systemd-analyze security: exposure %s (at most %.1f)" % (m.group(1), EXPOSURE_MAX))
        self.assertLessEqual(float(m.group(1)), EXPOSURE_MAX, p.stdout)

    def test_unit_settings(self):
        s = unit_settings(UNIT)
        self.assertEqual(s.get("RuntimeDirectory"), ["ringd"])
        self.assertIn("UMask", s)
        self.assertIn("@system-service", " ".join(s.get("SystemCallFilter", [])))
        self.assertEqual(s.get("CapabilityBoundingSet"), [""])
        self.assertEqual(s.get("ExecStart"), ["/usr/local/bin/ringd agent --config /etc/ringd/ringd.json"])
        # The agent gossips with other hosts: no network sandbox that would cut it off.
        self.assertNotIn("IPAddressDeny", s)
        self.assertNotIn("yes", s.get("PrivateNetwork", []))
        self.assertIn("AF_INET AF_INET6 AF_UNIX", " ".join(s.get("RestrictAddressFamilies", [])))

    def test_sandbox_settings(self):
        # Issue 14 item 3: the settings the sandbox rests on, each by name (the
        # exposure rating above could stay low with one of them gone).
        s = unit_settings(UNIT)
        for key, value in (("DynamicUser", "yes"), ("ProtectSystem", "strict"), ("NoNewPrivileges", "yes"),
                           ("CapabilityBoundingSet", ""), ("AmbientCapabilities", ""), ("PrivateTmp", "yes"),
                           ("ProtectHome", "yes"), ("PrivateDevices", "yes"), ("RestrictNamespaces", "yes"),
                           ("MemoryDenyWriteExecute", "yes"), ("SystemCallArchitectures", "native")):
            self.assertEqual(s.get(key), [value], key)
        families = " ".join(s.get("RestrictAddressFamilies", [])).split()
        self.assertEqual(sorted(families), ["AF_INET", "AF_INET6", "AF_UNIX"])

    def test_unit_verifies_cleanly(self):
        # verify wants ExecStart= to exist; point it at a real executable.
        with tempfile.TemporaryDirectory() as tmp:
            copy = os.path.join(tmp, "ringd.service")
            with open(UNIT, encoding="utf-8") as f, open(copy, "w", encoding="utf-8") as g:
                g.write(f.read().replace("/usr/local/bin/ringd", "/bin/true"))
            p = subprocess.run([systemd_analyze(), "verify", "--man=no", copy],
                               capture_output=True, text=True, timeout=60)
        self.assertEqual((p.returncode, p.stdout + p.stderr), (0, ""))

    def test_install_puts_documentation_unit_config_and_binary_under_destdir(self):
        install = os.path.join(SRC, "deploy", "install.sh")
        self.assertTrue(os.access(install, os.X_OK), "deploy/install.sh is missing or not executable")
        with tempfile.TemporaryDirectory() as tmp:
            dummy = os.path.join(tmp, "ringd-dummy")
            with open(dummy, "w", encoding="utf-8") as f:
                f.write("#!/bin/sh\nexit 0\n")
            os.chmod(dummy, 0o755)
            dest = os.path.join(tmp, "root")
            env = dict(os.environ, DESTDIR=dest, RINGD_BIN=dummy)
            p = subprocess.run([install], env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            print("\n    " + p.stdout.strip().replace("\n", "\n    "))

            docs = unit_settings(UNIT).get("Documentation", [])
            files = [u[len("file://"):] for d in docs for u in d.split() if u.startswith("file://")]
            self.assertTrue(files, "Documentation= names no file:// page")
            for path in files:
                self.assertTrue(os.path.isfile(dest + path), "Documentation= %s is not installed" % path)

            binary = dest + "/usr/local/bin/ringd"
            self.assertTrue(os.access(binary, os.X_OK))
            with open(binary, encoding="utf-8") as f:
                self.assertEqual(f.read(), "#!/bin/sh\nexit 0\n")
            with open(dest + "/etc/systemd/system/ringd.service", encoding="utf-8") as f:
                self.assertEqual(f.read(), read("deploy/systemd/ringd.service"))
            config = dest + "/etc/ringd/ringd.json"
            with open(config, encoding="utf-8") as f:
                self.assertEqual(f.read(), read("deploy/systemd/ringd.json"))
            for rel in ("render.sh", "nginx.conf.template", "lua/ringd/resp.lua", "lua/ringd/route.lua"):
                self.assertTrue(os.path.isfile(dest + "/usr/local/share/ringd/nginx/" + rel), rel)
            self.assertTrue(os.access(dest + "/usr/local/share/ringd/nginx/render.sh", os.X_OK))
            self.assertIn("nothing was reloaded or started", p.stdout)

            # A second run keeps an edited config.
            with open(config, "w", encoding="utf-8") as f:
                f.write('{"node": "edited"}\n')
            p = subprocess.run([install], env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            with open(config, encoding="utf-8") as f:
                self.assertEqual(f.read(), '{"node": "edited"}\n')


if __name__ == "__main__":
    unittest.main(verbosity=2)
