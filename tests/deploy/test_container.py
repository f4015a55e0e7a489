"""deploy/container/Containerfile (issue 14 item 3). Without a container
engine it is read as a Dockerfile and checked: stages on debian:bookworm-slim,
build packages in step with deploy/install-deps.sh, its cmake line accepted
by the project, a non-root USER that the image creates, the gossip port (the
agent's default --bind) exposed, the HEALTHCHECK command failing without an
agent and passing with one (the real binary), ENTRYPOINT ringd agent. With a
docker daemon that already has debian:bookworm-slim, the image is built too.

Run with /usr/bin/python3. RINGD_BIN names the binary, RINGD_SRC the tree.
"""
import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from procs import HOST, Agent, RunDir, free_port, ringd_bin, ringd_src  # noqa: E402

SRC = ringd_src()
CONTAINERFILE = os.path.join(SRC, "deploy", "container", "Containerfile")
BASE = "debian:bookworm-slim"
# Packages of install-deps.sh that only tests, benchmarks and cpack use.
NOT_FOR_THE_BUILD = {"libgtest-dev", "libgmock-dev", "libbenchmark-dev", "libclang-rt-14-dev", "dpkg-dev"}


def read(*parts):
    with open(os.path.join(SRC, *parts), encoding="utf-8") as f:
        return f.read()


def default_of(helptext, flag):
    """The "(default X)" of a flag in ringd's --help text."""
    return re.search(r"--%s arg [^(]*\(default\s+([^)\s]+)\)" % flag, helptext).group(1)


def instructions(path):
    """[(INSTRUCTION, args)] of a Dockerfile: comments dropped, continuations joined."""
    out, pending = [], ""
    with open(path, encoding="utf-8") as f:
        for line in f:
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if stripped.endswith("\\"):
                pending += stripped[:-1] + " "
                continue
            full = pending + stripped
            pending = ""
            word, _, rest = full.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def stages(path):
    """[(base image, stage name or None, [(INSTRUCTION, args)])]."""
    result = []
    for word, args in instructions(path):
        if word == "FROM":
            m = re.fullmatch(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", args, re.I)
            result.append((m.group(1), m.group(2), []))
        else:
            result[-1][2].append((word, args))
    return result


def install_deps_packages():
    text = read("deploy", "install-deps.sh")
    block = re.search(r"^PACKAGES=\((.*?)^\)", text, re.M | re.S).group(1)
    return {w for line in block.splitlines() for w in line.split("#", 1)[0].split()}


class ContainerfileTest(unittest.TestCase):
    def setUp(self):
        self.stages = stages(CONTAINERFILE)
        self.build = self.stages[0][2]
        self.runtime = self.stages[-1][2]

    def args_of(self, stage, word):
        return [a for w, a in stage if w == word]

    def test_stages_on_bookworm_slim(self):
        self.assertGreaterEqual(len(self.stages), 2, "multi-stage: build, then runtime")
        self.assertEqual({base for base, _, _ in self.stages}, {BASE})
        copies = self.args_of(self.runtime, "COPY")
        self.assertEqual(len(copies), 1, "the runtime stage takes only the binary: %r" % copies)
        src_dest = copies[0].split()
        self.assertEqual(src_dest[0], "--from=" + self.stages[0][1])
        # The interface contract: the binary lands at <build dir>/ringd.
        build_dir = re.search(r"cmake -S \. -B (\S+)", " ".join(self.args_of(self.build, "RUN"))).group(1)
        self.assertEqual(src_dest[1:], [build_dir + "/ringd", "/usr/bin/ringd"])
        self.assertEqual(self.args_of(self.runtime, "RUN")[0].count("apt-get install"), 0)

    def test_build_packages_match_install_deps(self):
        runs = " ".join(self.args_of(self.build, "RUN"))
        m = re.search(r"apt-get install ((?:\S+\s+)+?)&&", runs)
        packages = {w for w in m.group(1).split() if not w.startswith("-")}
        wanted = {p for p in install_deps_packages()
                  if p.endswith("-dev") or p in ("build-essential", "cmake", "pkg-config", "protobuf-compiler")}
        self.assertEqual(packages, wanted - NOT_FOR_THE_BUILD)
        self.assertIn("--no-install-recommends", m.group(1))
        self.assertIn("rm -rf /var/lib/apt/lists", runs)

    def test_cmake_line_is_accepted_by_the_project(self):
        runs = " ".join(self.args_of(self.build, "RUN"))
        cmd = shlex.split(re.search(r"(cmake -S \. -B \S+(?: -D\S+)*)", runs).group(1))
        with tempfile.TemporaryDirectory() as tmp:
            argv = ["cmake", "-S", SRC, "-B", tmp] + cmd[5:]
            p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            # A misspelt -D flag would configure fine, with this warning.
            self.assertNotIn("not used by the project", p.stderr)
        copied = {w for a in self.args_of(self.build, "COPY") for w in a.split()[:-1]}
        top = read("CMakeLists.txt")
        needed = {"CMakeLists.txt"} | set(re.findall(r"^add_subdirectory\((\w+)\)", top, re.M)) - {"tests", "bench"}
        for inc in re.findall(r"^include\((\w+/[\w/.]+)\)", top, re.M):
            needed.add(inc.split("/")[0])
            text = read(inc)
            needed |= set(re.findall(r"\$\{PROJECT_SOURCE_DIR\}/([\w.-]+)", text))
        self.assertEqual(needed - copied, set(), "sources the build reads but the image does not copy")
        ignored = [line.strip() for line in read(".dockerignore").splitlines()
                   if line.strip() and not line.startswith("#")]
        for path in copied:
            self.assertFalse(any(fnmatch.fnmatch(path, pat) for pat in ignored), path + " is in .dockerignore")

    def test_runs_as_a_user_the_image_creates(self):
        users = self.args_of(self.runtime, "USER")
        self.assertEqual(len(users), 1)
        uid, _, gid = users[0].partition(":")
        self.assertRegex(uid, r"^\d+$", "numeric, so Kubernetes can check runAsNonRoot")
        self.assertNotEqual(int(uid), 0)
        runs = " ".join(self.args_of(self.runtime, "RUN"))
        self.assertIn("useradd --system --uid %s --gid %s" % (uid, gid or uid), runs)
        self.assertIn("groupadd --system --gid %s" % (gid or uid), runs)

    def test_no_pipe_to_shell_anywhere(self):
        text = read(CONTAINERFILE)
        self.assertIsNone(re.search(r"\b(curl|wget)\b[^\n]*\|\s*(ba|da)?sh\b", text))
        self.assertNotIn("ADD http", text)

    def test_exposes_the_default_gossip_port(self):
        helptext = subprocess.run([ringd_bin(), "agent", "--help"], capture_output=True, text=True).stdout
        port = default_of(helptext, "bind").rsplit(":", 1)[1]
        exposed = " ".join(self.args_of(self.runtime, "EXPOSE")).split()
        self.assertEqual(sorted(exposed), sorted([port + "/udp", port + "/tcp"]))

    def test_entrypoint_and_healthcheck(self):
        self.assertEqual([json.loads(a) for a in self.args_of(self.runtime, "ENTRYPOINT")], [["ringd", "agent"]])
        health = self.args_of(self.runtime, "HEALTHCHECK")
        self.assertEqual(len(health), 1)
        cmd = json.loads(health[0].split(" CMD ", 1)[1])
        self.assertEqual(cmd[0], "ringd")
        # The check's premise, with the real binary: it fails while no agent
        # answers and passes once one does (same command, on a free port).
        run_dir = RunDir("ringd-container-test")
        self.addCleanup(run_dir.cleanup)
        agent = Agent("box", run_dir)
        probe = [ringd_bin()] + cmd[1:] + ["--http", "%s:%d" % (HOST, agent.http_port)]
        self.assertEqual(subprocess.run(probe, capture_output=True, timeout=10).returncode, 1)
        agent.start()
        agent.wait_ready()
        p = subprocess.run(probe, capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("box", p.stdout)

    def test_default_http_address_is_what_the_healthcheck_asks(self):
        # The HEALTHCHECK passes no --http: it relies on `ringd members` and
        # `ringd agent` having the same default.
        helptext = subprocess.run([ringd_bin(), "agent", "--help"], capture_output=True, text=True).stdout
        agent_default = default_of(helptext, "http")
        members = subprocess.run([ringd_bin(), "members", "--help"], capture_output=True, text=True)
        self.assertIn(agent_default, members.stdout + members.stderr)


def docker_with_base_image():
    docker = shutil.which("docker")
    if not docker:
        return None
    for cmd in (["info"], ["image", "inspect", BASE]):
        if subprocess.run([docker] + cmd, capture_output=True, timeout=30).returncode != 0:
            return None
    return docker


class ContainerBuildTest(unittest.TestCase):
    def test_image_builds_and_runs(self):
        docker = docker_with_base_image()
        if docker is None:
            self.skipTest("no docker daemon with %s here: the Containerfile was only read" % BASE)
        tag = "ringd-test:%d" % os.getpid()
        p = subprocess.run([docker, "build", "--pull=false", "-f", CONTAINERFILE, "-t", tag, SRC],
                           capture_output=True, text=True, timeout=3000)
        self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr[-3000:])
        self.addCleanup(subprocess.run, [docker, "image", "rm", "-f", tag], capture_output=True)
        out = subprocess.run([docker, "run", "--rm", "--entrypoint", "ringd", tag, "version"],
                             capture_output=True, text=True, timeout=60)
        version = subprocess.run([ringd_bin(), "version"], capture_output=True, text=True).stdout
        self.assertEqual(out.stdout, version)
        user = subprocess.run([docker, "run", "--rm", "--entrypoint", "id", tag, "-u"],
                              capture_output=True, text=True, timeout=60).stdout.strip()
        self.assertNotEqual(user, "0")


if __name__ == "__main__":
    unittest.main(verbosity=2)
