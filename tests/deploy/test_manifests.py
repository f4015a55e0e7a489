"""The container image file and the Kubernetes manifests, checked without a
cluster or a container daemon (neither runs on the test machines):

  * deploy/container/Containerfile: built on debian:bookworm-slim, the
    runtime stage runs as a fixed non-root uid with ENTRYPOINT ringd agent,
    and every Debian package its build stage installs is one
    deploy/install-deps.sh installs too (so the image builds from what CI
    proves builds);
  * deploy/kubernetes/ringd.yaml passes yamllint, and its DaemonSet and
    headless Service fit together: the Service selects the DaemonSet's pods,
    is headless with publishNotReadyAddresses, and its ports are the
    container's; every flag in the container's args is one `ringd agent
    --help` lists, every $(VAR) is defined in env; the seeds are the
    Service's DNS name; the pod is non-root, read-only, without capabilities;
  * against the real binary: the Containerfile's cmake line configures the
    project with no unused -D flag, its HEALTHCHECK command fails without an
    agent and passes with one; the keyring init container's command turns a
    Secret file the agent refuses into one it accepts, and the DaemonSet's
    args (downward API values replaced by loopback ones, ports by free ones,
    the seed name by a real seed) run an agent that passes both probes.

Run with /usr/bin/python3; RINGD_BIN names the binary, RINGD_SRC the tree.
"""
import json
import os
import re
import shlex
import socket
import stat
import subprocess
import sys
import tempfile
import unittest

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from procs import HOST, Agent, Backend, Proc, RunDir, free_port, http_get, require_tool, ringd_bin, ringd_src, wait_until  # noqa: E402,E501

YAMLLINT = require_tool("yamllint", "install Debian's yamllint (deploy/install-deps.sh)")


def read(rel):
    with open(os.path.join(ringd_src(), rel)) as f:
        return f.read()


def install_deps_packages():
    text = read("deploy/install-deps.sh")
    block = re.search(r"^PACKAGES=\((.*?)^\)", text, re.S | re.M).group(1)
    words = set()
    for line in block.splitlines():
        words.update(line.split("#")[0].split())
    return words


class ContainerfileTest(unittest.TestCase):
    def setUp(self):
        text = read("deploy/container/Containerfile")
        # Instructions with their continuation lines joined.
        joined = re.sub(r"\\\n", " ", text)
        self.lines = [line.strip() for line in joined.splitlines() if line.strip() and not line.startswith("#")]
        self.stages = []
        for line in self.lines:
            if line.startswith("FROM "):
                self.stages.append([])
            self.stages[-1].append(line)

    def test_stages_base_and_user(self):
        self.assertEqual(len(self.stages), 2)
        for stage in self.stages:
            self.assertRegex(stage[0], r"^FROM debian:bookworm-slim( AS \w+)?$")
        runtime = self.stages[-1]
        users = [line.split()[1] for line in runtime if line.startswith("USER ")]
        self.assertEqual(len(users), 1)
        uid = users[0].split(":")[0]
        self.assertNotIn(uid, ("root", "0"))
        self.assertTrue(any(re.search(r"useradd .*--uid %s\b" % uid, line) for line in runtime))
        self.assertIn('ENTRYPOINT ["/usr/bin/ringd", "agent"]', runtime)
        self.assertIn("COPY --from=build /build/ringd /usr/bin/ringd", runtime)
        self.assertTrue(any(line.startswith("HEALTHCHECK") and "ringd" in line for line in runtime))
        for line in self.lines:
            self.assertNotRegex(line, r"(curl|wget)[^|]*\|\s*(ba)?sh")

    def test_cmake_line_configures_the_project(self):
        build = " ".join(self.stages[0])
        cmd = shlex.split(re.search(r"cmake -S /src -B \S+((?: -D\S+)*)", build).group(1))
        with tempfile.TemporaryDirectory() as tmp:
            p = subprocess.run(["cmake", "-S", ringd_src(), "-B", tmp] + cmd, capture_output=True, text=True,
                               timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotIn("not used by the project", p.stderr, "a misspelt -D flag")

    def test_healthcheck_fails_without_an_agent_and_passes_with_one(self):
        line = next(line for line in self.stages[-1] if line.startswith("HEALTHCHECK"))
        cmd = json.loads(line.split(" CMD ", 1)[1])
        self.assertEqual(cmd[:2], ["/usr/bin/ringd", "members"])
        rundir = RunDir("ringd-healthcheck")
        self.addCleanup(rundir.cleanup)
        agent = Agent("box", rundir)
        http = "%s:%d" % (HOST, agent.http_port)
        probe = [ringd_bin()] + [http if a == "127.0.0.1:7948" else a for a in cmd[1:]]
        self.assertIn(http, probe)
        self.assertNotEqual(subprocess.run(probe, capture_output=True, timeout=10).returncode, 0)
        agent.start()
        agent.wait_ready()
        self.assertEqual(subprocess.run(probe, capture_output=True, timeout=10).returncode, 0)

    def test_build_packages_are_install_deps_packages(self):
        build = " ".join(self.stages[0])
        installed = re.search(r"apt-get install -y --no-install-recommends (.*?)&&", build).group(1).split()
        self.assertIn("nettle-dev", installed)  # sealed gossip
        self.assertEqual(sorted(set(installed) - install_deps_packages()), [])


class KubernetesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.path = os.path.join(ringd_src(), "deploy/kubernetes/ringd.yaml")
        with open(cls.path) as f:
            cls.docs = [d for d in yaml.safe_load_all(f) if d]
        cls.by_kind = {d["kind"]: d for d in cls.docs}

    def test_yamllint(self):
        out = subprocess.run([YAMLLINT, "-c", os.path.join(ringd_src(), "deploy/kubernetes/.yamllint"), self.path],
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def test_service_is_headless_and_fits_the_daemonset(self):
        self.assertEqual(sorted(self.by_kind), ["ConfigMap", "DaemonSet", "Service"])
        svc, ds = self.by_kind["Service"], self.by_kind["DaemonSet"]
        self.assertEqual(svc["spec"]["clusterIP"], "None")
        self.assertTrue(svc["spec"]["publishNotReadyAddresses"])
        pod_labels = ds["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(ds["spec"]["selector"]["matchLabels"], pod_labels)
        for k, v in svc["spec"]["selector"].items():
            self.assertEqual(pod_labels.get(k), v)
        container = ds["spec"]["template"]["spec"]["containers"][0]
        ports = {(p["containerPort"], p["protocol"]) for p in container["ports"]}
        self.assertEqual({(p["port"], p["protocol"]) for p in svc["spec"]["ports"]}, ports)
        self.assertEqual(ports, {(7946, "UDP"), (7946, "TCP")})
        args = container["args"]
        join = [a.split("=", 1)[1] for a in args if a.startswith("--join=")]
        self.assertEqual(join, ["%s.$(POD_NAMESPACE).svc.cluster.local:7946" % svc["metadata"]["name"]])
        bind = [a.split("=", 1)[1] for a in args if a.startswith("--bind=")][0]
        self.assertTrue(bind.endswith(":7946"))

    def test_args_are_ringd_flags_and_env_is_defined(self):
        helptext = subprocess.run([ringd_bin(), "agent", "--help"], capture_output=True, text=True).stdout
        known = set(re.findall(r"--([a-z][a-z-]*)", helptext))
        ds = self.by_kind["DaemonSet"]
        spec = ds["spec"]["template"]["spec"]
        container = spec["containers"][0]
        env = {e["name"] for e in container["env"]}
        for arg in container["args"]:
            flag = re.match(r"--([a-z-]+)=", arg)
            self.assertTrue(flag, arg)
            self.assertIn(flag.group(1), known, arg)
            for var in re.findall(r"\$\((\w+)\)", arg):
                self.assertIn(var, env, arg)
        config = self.by_kind["ConfigMap"]
        for e in container["env"]:
            ref = e.get("valueFrom", {}).get("configMapKeyRef")
            if ref:
                self.assertEqual(ref["name"], config["metadata"]["name"])
                self.assertIn(ref["key"], config["data"])
        # The keyring the agent reads is the one the init container writes.
        keyring = [a.split("=", 1)[1] for a in container["args"] if a.startswith("--keyring=")][0]
        init = spec["initContainers"][0]
        self.assertEqual(init["command"][-1], keyring)
        self.assertIn("0600", init["command"])

    def test_pod_security(self):
        spec = self.by_kind["DaemonSet"]["spec"]["template"]["spec"]
        self.assertTrue(spec["securityContext"]["runAsNonRoot"])
        uid = spec["securityContext"]["runAsUser"]
        self.assertNotEqual(uid, 0)
        self.assertIn("--uid %d" % uid, read("deploy/container/Containerfile"))
        for c in spec["containers"] + spec["initContainers"]:
            sc = c["securityContext"]
            self.assertFalse(sc["allowPrivilegeEscalation"], c["name"])
            self.assertTrue(sc["readOnlyRootFilesystem"], c["name"])
            self.assertEqual(sc["capabilities"]["drop"], ["ALL"], c["name"])
        probe = spec["containers"][0]["readinessProbe"]["httpGet"]
        self.assertEqual((probe["host"], probe["port"], probe["path"]), ("127.0.0.1", 7948, "/health"))



class KubernetesRunTest(unittest.TestCase):
    """The DaemonSet's containers, run here with the real binary."""

    # What the downward API gives the pod, by fieldPath.
    SAMPLES = {"spec.nodeName": "node-a", "status.hostIP": HOST, "metadata.namespace": "ringd"}

    @classmethod
    def setUpClass(cls):
        with open(os.path.join(ringd_src(), "deploy/kubernetes/ringd.yaml")) as f:
            cls.by_kind = {d["kind"]: d for d in yaml.safe_load_all(f) if d}
        spec = cls.by_kind["DaemonSet"]["spec"]["template"]["spec"]
        cls.container, cls.init = spec["containers"][0], spec["initContainers"][0]
        cls.volumes = {v["name"]: v for v in spec["volumes"]}

    def init_keyring(self, tmp):
        """Runs the init container's command on a Secret file as the kubelet
        would mount it; returns (secret file, keyring the agent reads)."""
        mounts = {m["name"]: m["mountPath"] for m in self.init["volumeMounts"]}
        secret = next(v for v in self.volumes.values() if "secret" in v)
        key = subprocess.run([ringd_bin(), "keygen"], capture_output=True, text=True).stdout.strip()
        command = list(self.init["command"])
        for path in mounts.values():
            os.makedirs(tmp + path)
            command = [tmp + a if a.startswith(path + "/") else a for a in command]
        source = next(a for a in command if a.startswith(tmp + mounts[secret["name"]] + "/"))
        with open(source, "w") as f:
            json.dump([key], f)
        os.chmod(source, secret["secret"]["defaultMode"])
        subprocess.run(command, check=True, timeout=30)
        return source, command[-1]

    def test_init_container_makes_a_keyring_the_agent_accepts(self):
        with tempfile.TemporaryDirectory() as tmp:
            source, keyring = self.init_keyring(tmp)
            self.assertEqual(stat.S_IMODE(os.stat(keyring).st_mode) & 0o077, 0)
            refused = subprocess.run([ringd_bin(), "agent", "--keyring", source, "--bind", "%s:%d" % (HOST, free_port())],
                                     capture_output=True, text=True, timeout=30)
            self.assertEqual(refused.returncode, 2, "the Secret as mounted is accepted: no init container needed")
            rundir = RunDir("ringd-k8s-keyring")
            self.addCleanup(rundir.cleanup)
            agent = Agent("sealed", rundir, extra_args=["--keyring", keyring])
            agent.start()
            agent.wait_ready()

    def test_daemonset_args_run_an_agent_that_passes_both_probes(self):
        data = self.by_kind["ConfigMap"]["data"]
        env = {}
        for e in self.container["env"]:
            ref = e["valueFrom"]
            env[e["name"]] = (self.SAMPLES[ref["fieldRef"]["fieldPath"]] if "fieldRef" in ref
                              else data[ref["configMapKeyRef"]["key"]])
        flags = dict(re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], a)[2:].split("=", 1)
                     for a in self.container["args"])
        rundir = RunDir("ringd-k8s-run")
        self.addCleanup(rundir.cleanup)
        tmp = tempfile.mkdtemp(dir=rundir.path)
        _, keyring = self.init_keyring(tmp)
        self.assertEqual(flags["keyring"], keyring[len(tmp):])
        flags["keyring"] = keyring
        security = ["--keyring", keyring, "--label", flags["label"]]
        seed = Agent("seed", rundir, extra_args=security)
        seed.start()
        seed.wait_ready()
        flags["join"] = seed.gossip
        # Every host:port the pod listens on, moved to a free port here.
        ports = {}
        for name in ("bind", "resp", "http"):
            host, port = flags[name].rsplit(":", 1)
            ports[int(port)] = free_port(udp_too=name == "bind")
            flags[name] = "%s:%d" % (host, ports[int(port)])
        backend = Backend("node-backend", rundir)
        backend.start()
        backend.wait_ready()
        self.assertEqual(flags["service"], "%s:%s" % (HOST, data["service-port"]))
        flags["service"] = backend.address
        agent = Proc("daemonset", rundir, [ringd_bin(), "agent"] + ["--%s=%s" % kv for kv in flags.items()])
        agent.start()

        def probe(name):
            agent.check_alive()
            p = self.container[name]
            if "httpGet" in p:
                return http_get(ports[p["httpGet"]["port"]], p["httpGet"]["path"], timeout=0.5)[0] == 200
            with socket.create_connection((HOST, ports[p["tcpSocket"]["port"]]), timeout=0.5):
                return True
        wait_until(lambda: probe("readinessProbe"), 20, "the readiness probe")
        self.assertTrue(probe("livenessProbe"))
        # Joined through the sealed seed, with the node's backend on the ring.
        members = seed.members()
        self.assertEqual(members["node-a"]["state"], "alive")
        wait_until(lambda: backend.address in seed.ring()["nodes"], 10, "the node's backend on the ring")
        self.assertEqual(agent.stop(), 0, agent.log_tail())


if __name__ == "__main__":
    unittest.main(verbosity=2)
