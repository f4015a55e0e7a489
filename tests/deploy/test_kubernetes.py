"""deploy/kubernetes/ringd.yaml (issue 14 item 3): yamllint with the
folder's config, then the objects read with python3-yaml and checked against
each other, against the Containerfile and against the real binary: the
DaemonSet's args (downward API variables replaced by sample values, ports by
free ones) start a real agent that passes the readiness and liveness probes,
and the keyring init container's script gives a file the agent accepts.

Run with /usr/bin/python3 (python3-yaml). RINGD_BIN names the binary,
RINGD_SRC the tree, RINGD_VERSION the project's version.
"""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from procs import HOST, Agent, Proc, RunDir, free_port, http_get, ringd_bin, ringd_src, wait_until  # noqa: E402

SRC = ringd_src()
FOLDER = os.path.join(SRC, "deploy", "kubernetes")
MANIFEST = os.path.join(FOLDER, "ringd.yaml")
VERSION = os.environ.get("RINGD_VERSION", "")
# What the downward API would give the pod (the fieldPath each one reads).
SAMPLES = {"status.podIP": HOST, "spec.nodeName": "node-a", "metadata.namespace": "ringd"}


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def agent_flags():
    helptext = subprocess.run([ringd_bin(), "agent", "--help"], capture_output=True, text=True).stdout
    return set(re.findall(r"^\s+(?:-\w \[ )?--([\w-]+)", helptext, re.M))


def pairs(args):
    """{flag: value} of ["--flag", "value", ...] (no flag repeats here)."""
    out = {}
    for i in range(0, len(args), 2):
        if not args[i].startswith("--"):
            raise AssertionError("not a --flag VALUE pair at %r" % args[i:i + 2])
        out[args[i][2:]] = args[i + 1]
    return out


class KubernetesManifestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.docs = [d for d in yaml.safe_load_all(read(MANIFEST)) if d]
        cls.objects = {(d["kind"], d["metadata"]["name"]): d for d in cls.docs}
        cls.ds = cls.objects[("DaemonSet", "ringd")]
        cls.pod = cls.ds["spec"]["template"]["spec"]
        cls.agent = next(c for c in cls.pod["containers"] if c["name"] == "ringd")
        cls.init = next(c for c in cls.pod["initContainers"] if c["name"] == "keyring")
        cls.volumes = {v["name"]: v for v in cls.pod["volumes"]}

    def test_yamllint(self):
        tool = shutil.which("yamllint")
        self.assertIsNotNone(tool, "yamllint not found: install yamllint (deploy/install-deps.sh)")
        p = subprocess.run([tool, "-c", os.path.join(FOLDER, "yamllint.yaml"), "-s", "-f", "parsable", FOLDER],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual((p.returncode, p.stdout + p.stderr), (0, ""))

    def test_objects(self):
        self.assertEqual(sorted(self.objects), [("ConfigMap", "ringd-config"), ("DaemonSet", "ringd"),
                                                ("Service", "ringd-gossip"), ("Service", "ringd-resp")])
        self.assertEqual(len(self.docs), len(self.objects))
        self.assertEqual(self.ds["apiVersion"], "apps/v1")
        labels = self.ds["spec"]["template"]["metadata"]["labels"]
        self.assertLessEqual(self.ds["spec"]["selector"]["matchLabels"].items(), labels.items())
        self.assertFalse(self.pod.get("hostNetwork", False), "agents gossip pod to pod")
        self.assertEqual(self.agent["image"], self.init["image"], "the init container runs the agent's image")
        self.assertEqual(self.agent["image"].rsplit(":", 1)[1], VERSION)

    def container_ports(self):
        return {p["name"]: (p["protocol"], p["containerPort"]) for p in self.agent["ports"]}

    def test_gossip_service_is_headless_and_matches_the_pods(self):
        svc = self.objects[("Service", "ringd-gossip")]["spec"]
        self.assertEqual(svc["clusterIP"], "None")
        self.assertIs(svc["publishNotReadyAddresses"], True)
        labels = self.ds["spec"]["template"]["metadata"]["labels"]
        self.assertLessEqual(svc["selector"].items(), labels.items())
        ports = self.container_ports()
        for p in svc["ports"]:
            self.assertEqual(ports[p["targetPort"]], (p["protocol"], p["port"]), p)
        self.assertEqual({p["protocol"] for p in svc["ports"]}, {"UDP", "TCP"})
        # The seeds are this Service's name, on its port.
        flags = pairs(self.agent["args"])
        self.assertEqual(flags["join"], "ringd-gossip.$(POD_NAMESPACE).svc:%d" % svc["ports"][0]["port"])
        self.assertEqual(flags["bind"].rsplit(":", 1)[1], str(svc["ports"][0]["port"]))
        self.assertEqual(flags["advertise"], "$(POD_IP):%d" % svc["ports"][0]["port"])

    def test_resp_service_stays_on_the_node(self):
        svc = self.objects[("Service", "ringd-resp")]["spec"]
        self.assertEqual(svc["internalTrafficPolicy"], "Local")
        self.assertEqual(svc["selector"], self.ds["spec"]["selector"]["matchLabels"])
        (port,) = svc["ports"]
        self.assertEqual(self.container_ports()[port["targetPort"]], ("TCP", port["port"]))
        self.assertEqual(pairs(self.agent["args"])["resp"].rsplit(":", 1)[1], str(port["port"]))

    def test_security_context(self):
        user = re.search(r"^USER (\d+):(\d+)$", read(os.path.join(SRC, "deploy", "container", "Containerfile")), re.M)
        pod = self.pod["securityContext"]
        self.assertIs(pod["runAsNonRoot"], True)
        self.assertEqual((pod["runAsUser"], pod["runAsGroup"], pod["fsGroup"]),
                         (int(user.group(1)), int(user.group(2)), int(user.group(2))))
        self.assertIs(self.pod["automountServiceAccountToken"], False)
        for c in self.pod["containers"] + self.pod["initContainers"]:
            sc = c["securityContext"]
            self.assertIs(sc["allowPrivilegeEscalation"], False, c["name"])
            self.assertIs(sc["readOnlyRootFilesystem"], True, c["name"])
            self.assertEqual(sc["capabilities"], {"drop": ["ALL"]}, c["name"])
            self.assertIn("memory", c["resources"]["limits"], c["name"])
            self.assertIn("memory", c["resources"]["requests"], c["name"])

    def substituted_args(self):
        """The agent's args with every $(VAR) replaced as the kubelet would."""
        env = {e["name"]: SAMPLES[e["valueFrom"]["fieldRef"]["fieldPath"]] for e in self.agent["env"]}
        out = []
        for arg in self.agent["args"]:
            for var in re.findall(r"\$\((\w+)\)", arg):
                self.assertIn(var, env, "$(%s) is not in env: the kubelet would pass it on as is" % var)
            out.append(re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], arg))
        return out

    def test_args_and_config_parse_with_the_real_binary(self):
        args = self.substituted_args()
        flags = agent_flags()
        self.assertIn("keyring", flags)
        self.assertLessEqual(pairs(args).keys(), flags)
        # --help parses every flag (names, arity) before it prints.
        p = subprocess.run([ringd_bin(), "agent"] + args + ["--help"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        config = json.loads(self.objects[("ConfigMap", "ringd-config")]["data"]["ringd.json"])
        self.assertLessEqual(config.keys(), flags)

    def test_listeners_reachable_from_outside_the_pod(self):
        # The kubelet probes the pod IP, and nginx pods reach RESP through
        # ringd-resp: neither may listen on loopback only. (The run below
        # cannot tell: there the pod IP is 127.0.0.1.)
        flags = pairs(self.agent["args"])
        for name in ("http", "resp", "bind"):
            host = flags[name].rsplit(":", 1)[0]
            self.assertIn(host, ("0.0.0.0", "$(POD_IP)"), name)

    def test_agent_runs_with_these_args_and_passes_both_probes(self):
        # Ports swapped for free ones, the seed name for a real seed.
        run_dir = RunDir("ringd-k8s-test")
        self.addCleanup(run_dir.cleanup)
        seed = Agent("seed", run_dir)
        seed.start()
        seed.wait_ready()
        config = os.path.join(run_dir.path, "ringd.json")
        with open(config, "w", encoding="utf-8") as f:
            f.write(self.objects[("ConfigMap", "ringd-config")]["data"]["ringd.json"])
        mount = next(m for m in self.agent["volumeMounts"] if m["name"] == "config")
        ports = {p["containerPort"]: free_port(udp_too=p["protocol"] == "UDP") for p in self.agent["ports"]}
        flags = pairs(self.substituted_args())
        self.assertEqual(flags["config"], mount["mountPath"])
        flags["config"] = config
        flags["join"] = seed.gossip
        for name in ("bind", "advertise", "resp", "http"):
            host, port = flags[name].rsplit(":", 1)
            flags[name] = "%s:%d" % (host, ports[int(port)])
        agent = Proc("daemonset", run_dir, [ringd_bin(), "agent"] + [x for kv in flags.items() for x in ("--" + kv[0], kv[1])])
        agent.start()
        by_name = {p["name"]: ports[p["containerPort"]] for p in self.agent["ports"]}
        ready, live = self.agent["readinessProbe"]["httpGet"], self.agent["livenessProbe"]["httpGet"]

        def probe(get):
            agent.check_alive()
            return http_get(by_name[get["port"]], get["path"], timeout=0.5)[0] == 200
        wait_until(lambda: probe(ready), 20, "readiness probe %s" % ready["path"])
        self.assertTrue(probe(live))
        self.assertIn(SAMPLES["spec.nodeName"], seed.members())
        self.assertEqual(agent.stop(), 0, agent.log_tail())

    def test_keyring_copy_is_a_file_the_agent_accepts(self):
        secret_volume = self.volumes["keyring-secret"]["secret"]
        self.assertIs(secret_volume["optional"], True)
        self.assertEqual(secret_volume["defaultMode"], 0o400)
        mounts = {m["name"]: m["mountPath"] for m in self.init["volumeMounts"]}
        agent_mounts = {m["name"]: m["mountPath"] for m in self.agent["volumeMounts"]}
        self.assertEqual(agent_mounts["keyring"], mounts["keyring"])
        self.assertNotIn("keyring-secret", agent_mounts, "the agent reads only the copy")
        # The path the ConfigMap's comment tells operators to set.
        hinted = re.search(r'"keyring": "(/[^"]+)"', read(MANIFEST)).group(1)
        self.assertEqual(os.path.dirname(hinted), mounts["keyring"])

        with tempfile.TemporaryDirectory() as tmp:
            script = self.init["command"][-1]
            for name, path in mounts.items():
                os.makedirs(tmp + path)
                script = script.replace(path, tmp + path)
            key = subprocess.run([ringd_bin(), "keygen"], capture_output=True, text=True).stdout.strip()
            secret = os.path.join(tmp + mounts["keyring-secret"], os.path.basename(hinted))
            with open(secret, "w", encoding="utf-8") as f:
                json.dump([key], f)
            # With fsGroup the kubelet adds group read to defaultMode (#57923).
            os.chmod(secret, secret_volume["defaultMode"] | stat.S_IRGRP)
            p = subprocess.run(self.init["command"][:-1] + [script], capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            copy = tmp + hinted
            self.assertEqual(stat.S_IMODE(os.stat(copy).st_mode) & 0o077, 0)

            run_dir = RunDir("ringd-k8s-keyring-test")
            self.addCleanup(run_dir.cleanup)
            refused = subprocess.run([ringd_bin(), "agent", "--keyring", secret, "--bind", "%s:%d" % (HOST, free_port())],
                                     capture_output=True, text=True, timeout=30)
            self.assertEqual(refused.returncode, 2, refused.stderr)
            self.assertIn("group and other permissions must be 0", refused.stderr)
            agent = Agent("sealed", run_dir, extra_args=["--keyring", copy])
            agent.start()
            agent.wait_ready()
            self.assertEqual(agent.stop(), 0, agent.log_tail())

        # Without the Secret the script does nothing and succeeds.
        with tempfile.TemporaryDirectory() as tmp:
            script = self.init["command"][-1]
            for path in mounts.values():
                os.makedirs(tmp + path)
                script = script.replace(path, tmp + path)
            p = subprocess.run(self.init["command"][:-1] + [script], capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(os.listdir(tmp + mounts["keyring"]), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
