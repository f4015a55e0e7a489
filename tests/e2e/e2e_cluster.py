"""A loopback cluster for the e2e tests: backend hosts (deploy/backend.py +
a ringd agent with --service) and one router host (a router-only agent +
nginx with the deploy/nginx config asking it).

    cluster = Cluster(RunDir("x"), num_backends=3, ring="maglev", lookup="resp")
    cluster.start()          # agents converged, nginx answering
    cluster.hosts            # [(Backend, Agent)], cluster.router, cluster.nginx
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from procs import Agent, Backend, Nginx, free_port, ringd_bin, wait_until  # noqa: E402

CONVERGE_TIMEOUT = 30.0   # start-up: all agents see each other


def log(msg):
    sys.stderr.write("    [e2e] %s\n" % msg)
    sys.stderr.flush()


_help_text = {}


def agent_supports(flag, binary=None):
    """True if `ringd agent --help` lists flag (e.g. "--service-check")."""
    binary = binary or ringd_bin()
    if binary not in _help_text:
        out = subprocess.run([binary, "agent", "--help"], capture_output=True, text=True,
                             timeout=10)
        _help_text[binary] = out.stdout + out.stderr
    return flag in _help_text[binary]


def keep_dead_services_args(binary=None):
    """Agent flags that keep a service on the ring while its process is
    down (no service health check), for agents that have such checks."""
    if agent_supports("--service-check", binary):
        return ["--service-check", "none"]
    return []


class Cluster:
    """num_backends backend hosts + one router host with nginx, on loopback.

    ring: the agents' --ring mode (None = the agent's default).
    lookup: render.sh --lookup (None = its default, snapshot).
    weights: {host index: weight} tags for some backend hosts.
    agent_args: extra flags for every agent.
    agent_unix: nginx talks to the router agent over its --resp-unix socket.
    """

    def __init__(self, rundir, num_backends=3, ring=None, lookup=None, weights=None,
                 agent_args=(), workers=2, agent_unix=False):
        self.binary = ringd_bin()
        self.rundir = rundir
        self.common_args = list(agent_args) + (["--ring", ring] if ring else [])
        names = ["host%d" % (i + 1) for i in range(num_backends)] + ["router"]
        self.gossip = {name: free_port(udp_too=True) for name in names}
        self.hosts = []  # (backend, agent)
        for i, name in enumerate(names[:-1]):
            extra = []
            if weights and i in weights:
                extra = ["--tag", "weight=%d" % weights[i]]
            self.hosts.append(self.make_host(name, extra))
        router_args = list(self.common_args)
        agent_address = None
        if agent_unix:
            sock = os.path.join(rundir.path, "router-resp.sock")
            router_args += ["--resp-unix", sock]
            agent_address = "unix:" + sock
        self.router = Agent("router", rundir, join=self.seeds("router"), binary=self.binary,
                            gossip_port=self.gossip["router"], extra_args=router_args)
        self.nginx = Nginx("nginx", rundir, agent_address or self.router.resp, lookup=lookup,
                           workers=workers)

    def seeds(self, name):
        return ["127.0.0.1:%d" % port for other, port in self.gossip.items() if other != name]

    def make_host(self, name, extra=()):
        """A backend + its agent (not started); joins every known agent."""
        if name not in self.gossip:
            self.gossip[name] = free_port(udp_too=True)
        backend = Backend("backend-" + name, self.rundir)
        agent = Agent(name, self.rundir, join=self.seeds(name), service=backend.address,
                      binary=self.binary, gossip_port=self.gossip[name],
                      extra_args=self.common_args + list(extra))
        return backend, agent

    @property
    def by_service(self):
        return {b.address: (b, a) for b, a in self.hosts}

    @property
    def agents(self):
        return [a for _, a in self.hosts] + [self.router]

    def start(self):
        self.nginx.test_config()
        for backend, _ in self.hosts:
            backend.start()
        for agent in self.agents:
            agent.start()
        for backend, _ in self.hosts:
            backend.wait_ready()
        t0 = time.monotonic()
        for agent in self.agents:
            agent.wait_ready(timeout=CONVERGE_TIMEOUT)
        self.wait_converged(self.agents, [b.address for b, _ in self.hosts],
                            CONVERGE_TIMEOUT, "all agents alive, every service on every ring")
        log("cluster converged %.2fs after the agents were ready" % (time.monotonic() - t0))
        self.nginx.start()
        self.nginx.wait_ready()

    @staticmethod
    def wait_converged(agents, services, timeout, what):
        """Every agent in `agents` sees exactly those agents alive and a ring
        of exactly `services`, with one checksum across all of them; returns
        that checksum."""
        names = sorted(a.name for a in agents)
        want_nodes = sorted(services)

        def converged():
            checksums = set()
            for agent in agents:
                agent.check_alive()
                alive = sorted(n for n, m in agent.members().items() if m["state"] == "alive")
                if alive != names:
                    return False
                ring = agent.ring()
                if sorted(ring["nodes"]) != want_nodes:
                    return False
                checksums.add(ring["checksum"])
            return checksums.pop() if len(checksums) == 1 else False

        return wait_until(converged, timeout, what, interval=0.1)


class ClusterTestMixin:
    """For a unittest.TestCase that keeps its processes in self.rundir (and
    its Cluster, if any, in self.cluster): stop_cluster() in tearDown stops
    them, dumping their logs' tails first when the test failed."""

    def _failed(self):
        result = getattr(self._outcome, "result", None)
        if result is None:
            return False
        return any(test is self for test, _ in result.errors + result.failures)

    def dump_logs(self):
        log("run directory: %s (KEEP_RUNDIR=1 keeps it)" % self.rundir.path)
        for proc in self.rundir.procs:
            log("---- %s (%s) ----\n%s" % (proc.name, proc.log_path, proc.log_tail(15)))
        nginx = getattr(getattr(self, "cluster", None), "nginx", None)
        if nginx is not None:
            log("---- nginx error.log ----\n%s" % nginx.error_log_tail(15))

    def stop_cluster(self):
        if self._failed():
            self.dump_logs()
        errors = self.rundir.stop_all()
        self.rundir.cleanup()
        self.assertEqual(errors, [], "errors while stopping processes")
