"""Real ringd agents in network namespaces on a bridge, faults from iptables.

A Lab owns one "hub" namespace holding a Linux bridge per cluster, and one
namespace per agent with a veth into its cluster's bridge. Every address
lives in SUBNET (10.213.47.0/24). Nothing is added to the root namespace: the
agents' namespaces have no route beyond their /24, so no packet of theirs
can leave it, and the harness reaches each agent's HTTP API on 127.0.0.1
*inside* its namespace (a socket created after setns(2), see ns_socket()).

    lab = Lab()                        # cleans leftovers of crashed runs first
    try:
        c = lab.cluster("a", 10, first_host=11)
        c.start(); c.wait_converged(30)
        c.set_loss(0.1)                # iptables -m statistic on INPUT, every agent
        ...
    finally:
        lab.cleanup()                  # agents, namespaces (and with them the
                                       # bridges and every iptables rule)

Faults (all iptables rules sit in a chain RINGDNET jumped to from INPUT,
matching only eth0, so loopback, i.e. the harness's HTTP polls, is never
touched):
  set_loss(p)          drop each arriving packet with probability p
  cut_from(a, [b..])   a drops everything from b.. (a one-way cut)
  partition(g1, g2)    both directions between two groups
  clear_faults()       flush the chain everywhere
Processes: Agent.freeze() / thaw() (SIGSTOP/SIGCONT), Cluster.move(i, host)
(SIGKILL, new address in the same namespace, same name, start again);
Agent.kill() then Agent.start() restarts in place (same address, the log
appended to); Agent.rss_kb() reads VmRSS (the agent runs in its own network
namespace but in the harness's PID namespace).
"""

import ctypes
import datetime
import http.client
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import procs  # noqa: E402
from procs import RunDir, ringd_bin, wait_until  # noqa: E402,F401

SUBNET = "10.213.47"   # the one /24 every address of this harness lives in
PREFIXLEN = 24
NS_PREFIX = "ringdnet-"  # every namespace name starts so: ringdnet-<pid>-<tag>-...
GOSSIP_PORT = 7946
RESP_PORT = 6380
HTTP_PORT = 7948
SERVICE_PORT = 8000
CHAIN = "RINGDNET"
IP = procs.require_tool("ip", "install iproute2")
IPTABLES = procs.require_tool("iptables", "install iptables")


def run(argv, timeout=20, check=True):
    """Runs a command (never through a shell); its output on failure."""
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and out.returncode != 0:
        raise RuntimeError("%s -> %d: %s%s" % (" ".join(argv), out.returncode,
                                               out.stdout, out.stderr))
    return out


def in_ns(ns, *argv, **kw):
    return run([IP, "netns", "exec", ns] + list(argv), **kw)


def address_in_subnet(addr):
    host = addr.rsplit(":", 1)[0]
    return host.startswith(SUBNET + ".") or host.startswith("127.")


# --------------------------------------------------------------------------
# sockets inside a namespace

_libc = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNET = 0x40000000
_home_ns_fd = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
_ns_fds = {}


def _setns(fd):
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: %s" % os.strerror(e))


def ns_socket(ns):
    """A TCP socket that belongs to namespace ns (connects happen there).

    The calling thread enters ns, creates the socket and goes back; a socket
    keeps the namespace it was created in.
    """
    fd = _ns_fds.get(ns)
    if fd is None:
        fd = _ns_fds[ns] = os.open("/run/netns/" + ns, os.O_RDONLY)
    _setns(fd)
    try:
        return socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    finally:
        try:
            _setns(_home_ns_fd)
        except OSError as exc:  # we would poll the wrong namespace from now on
            sys.stderr.write("netlab: cannot return to the home namespace: %r\n" % exc)
            os._exit(3)


def forget_ns_fd(ns):
    fd = _ns_fds.pop(ns, None)
    if fd is not None:
        os.close(fd)


class NsHTTPConnection(http.client.HTTPConnection):
    def __init__(self, ns, host, port, timeout):
        super().__init__(host, port, timeout=timeout)
        self.ns = ns

    def connect(self):
        sock = ns_socket(self.ns)
        try:
            sock.settimeout(self.timeout)
            sock.connect((self.host, self.port))
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def ns_http_get(ns, port, path, timeout=2.0, host="127.0.0.1"):
    conn = NsHTTPConnection(ns, host, port, timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


# --------------------------------------------------------------------------
# agents

_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # Kept across the execve of `ip netns exec` and of ringd (not set-uid).
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


# One line per member event (agent/agent.cc log_event), after spdlog's
# "<local time> <level> ".
EVENT_RE = re.compile(r"^(\S+) \S+ member (\S+) (joined|updated|alive|suspect|dead|left) "
                      r"\(address ([^,]+), service ([^,]+), incarnation (\d+)\)", re.M)


def log_time(stamp):
    """Seconds since the epoch of a log line's local timestamp (None if unreadable)."""
    try:
        return datetime.datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return None


class Agent(procs.Agent):
    """procs.Agent run with `ip netns exec NS`, gossip on the namespace's address.

    RESP and HTTP listen on 127.0.0.1 inside the namespace (ports are fixed:
    each namespace has its own loopback). Every agent advertises a service
    at <its address>:8000 with --service-check none (nothing listens there),
    so every member holds points on the ring.
    """

    def __init__(self, name, rundir, ns, host, join=(), log_level="info", extra_args=()):
        self.ns = ns
        self.host = host
        super().__init__(name, rundir, join=join, service="%s:%d" % (host, SERVICE_PORT),
                         binary=ringd_bin(), gossip_port=GOSSIP_PORT, resp_port=RESP_PORT,
                         http_port=HTTP_PORT, log_level=log_level, extra_args=extra_args,
                         service_check="none")
        self.argv = [IP, "netns", "exec", ns] + self.argv
        self.frozen = False

    def rss_kb(self):
        """VmRSS of the running agent in kB (`ip netns exec` execs ringd, so
        the PID is the agent's), or None when it is not running."""
        if not self.alive():
            return None
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except (OSError, ValueError, IndexError):
            pass
        return None

    @property
    def gossip(self):  # procs.Agent builds --bind from this
        return "%s:%d" % (self.host, self.gossip_port)

    def http(self, path, timeout=2.0):
        status, body = ns_http_get(self.ns, self.http_port, path, timeout)
        return status, {}, body

    def start(self):
        """As procs.Proc.start, plus PR_SET_PDEATHSIG: if the harness dies
        (a ctest timeout), the agent gets SIGKILL instead of living on in a
        namespace nobody deletes until the next run."""
        if self.alive():
            raise RuntimeError("%s already running (pid %d)" % (self.name, self.pid))
        log = open(self.log_path, "ab")
        try:
            self.popen = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent)
        finally:
            log.close()
        self.frozen = False
        return self

    def wait_ready(self, timeout=20.0):
        def ready():
            self.check_alive()
            return self.http("/health", timeout=0.5)[0] == 200
        return wait_until(ready, timeout, "agent %s ready (/health 200)" % self.name)

    def freeze(self):
        self.send_signal(signal.SIGSTOP)
        self.frozen = True

    def thaw(self):
        self.send_signal(signal.SIGCONT)
        self.frozen = False

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        if self.frozen and self.alive():
            self.thaw()  # a stopped process would not act on SIGTERM
        return super().stop(sig, timeout)

    def log_offset(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def events(self, since=0):
        """[(name, kind, address, incarnation, time)] of the member events
        logged after byte `since`; time as time.time() would have said."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(since)
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return []
        return [(m.group(2), m.group(3), m.group(4), int(m.group(6)), log_time(m.group(1)))
                for m in EVENT_RE.finditer(text)]


# --------------------------------------------------------------------------
# the lab: namespaces, bridges, clusters


def _ns_list():
    out = run([IP, "netns", "list"], check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def _pid_is_harness(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read().decode("utf-8", "replace")
    except OSError:
        return False
    return "python" in cmd


def _destroy_ns(ns):
    """SIGKILLs what still runs in ns (our agents), then deletes it."""
    out = run([IP, "netns", "pids", ns], check=False)
    pids = [int(p) for p in out.stdout.split() if p.isdigit()]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while pids and time.monotonic() < deadline:
        pids = [p for p in pids if os.path.exists("/proc/%d" % p)]
        time.sleep(0.05)
    forget_ns_fd(ns)
    run([IP, "netns", "del", ns], check=False)


def cleanup_leftovers(log=print):
    """Deletes namespaces of earlier runs whose harness process is gone.

    Names carry the harness PID (ringdnet-<pid>-...), so a run going on at the
    same time is left alone.
    """
    removed = 0
    for ns in _ns_list():
        m = re.match(re.escape(NS_PREFIX) + r"(\d+)-", ns)
        if not m:
            continue
        pid = int(m.group(1))
        if pid != os.getpid() and _pid_is_harness(pid):
            continue
        _destroy_ns(ns)
        removed += 1
    if removed:
        log("netlab: removed %d namespaces left by an earlier run" % removed)
    return removed


class Lab:
    def __init__(self):
        cleanup_leftovers()
        self.tag = "%s%d-%04x" % (NS_PREFIX, os.getpid(), random.getrandbits(16))
        self.namespaces = []
        self.clusters = []
        self.rundir = RunDir("ringd-net")
        try:
            self.hub = self._add_ns("hub")
        except BaseException:
            self.cleanup()
            raise

    def _add_ns(self, suffix):
        ns = "%s-%s" % (self.tag, suffix)
        self.namespaces.append(ns)  # first: cleanup() deletes it even if the add half failed
        run([IP, "netns", "add", ns])
        in_ns(ns, IP, "link", "set", "lo", "up")
        return ns

    def cluster(self, letter, n, first_host, seeds=3, log_level="info", extra_args=()):
        """extra_args: more ringd flags for every agent of the cluster."""
        c = Cluster(self, letter, n, first_host, seeds, log_level, extra_args)
        self.clusters.append(c)
        return c

    def cleanup(self):
        errors = self.rundir.stop_all()
        for ns in reversed(self.namespaces):
            _destroy_ns(ns)
        self.namespaces = []
        left = [ns for ns in _ns_list() if ns.startswith(self.tag)]
        if left:
            errors.append("namespaces still present: %s" % left)
        if os.environ.get("KEEP_RUNDIR") != "1":
            self.rundir.cleanup()
        return errors


class Cluster:
    """n agents n<letter>0.. on bridge br-<letter> in the hub namespace."""

    def __init__(self, lab, letter, n, first_host, seeds, log_level, extra_args=()):
        self.lab, self.letter, self.n = lab, letter, n
        self.log_level = log_level
        self.extra_args = list(extra_args)
        self.bridge = "br-" + letter
        in_ns(lab.hub, IP, "link", "add", self.bridge, "type", "bridge")
        in_ns(lab.hub, IP, "link", "set", self.bridge, "up")
        self.agents = []
        self.ns = []
        self.hosts = []
        for i in range(n):
            host = "%s.%d" % (SUBNET, first_host + i)
            ns = lab._add_ns("%s%d" % (letter, i))
            hub_end = "v%s%d" % (letter, i)
            run([IP, "link", "add", hub_end, "netns", lab.hub, "type", "veth",
                 "peer", "name", "eth0", "netns", ns])
            in_ns(lab.hub, IP, "link", "set", hub_end, "master", self.bridge, "up")
            in_ns(ns, IP, "addr", "add", "%s/%d" % (host, PREFIXLEN), "dev", "eth0")
            in_ns(ns, IP, "link", "set", "eth0", "up")
            in_ns(ns, IPTABLES, "-w", "-N", CHAIN)
            in_ns(ns, IPTABLES, "-w", "-A", "INPUT", "-i", "eth0", "-j", CHAIN)
            self.ns.append(ns)
            self.hosts.append(host)
        self.seeds = ["%s:%d" % (h, GOSSIP_PORT) for h in self.hosts[:seeds]]
        for i in range(n):
            self.agents.append(self._agent(i))

    def name(self, i):
        return "%s%d" % (self.letter, i)

    def _agent(self, i):
        join = [s for s in self.seeds if s != "%s:%d" % (self.hosts[i], GOSSIP_PORT)]
        return Agent(self.name(i), self.lab.rundir, self.ns[i], self.hosts[i], join=join,
                     log_level=self.log_level, extra_args=self.extra_args)

    def start(self):
        """The seeds first (so nobody logs a refused join), then the rest."""
        seeds = [a for a in self.agents if a.gossip in self.seeds]
        for group in (seeds, [a for a in self.agents if a not in seeds]):
            for a in group:
                a.start()
            for a in group:
                a.wait_ready(30)

    # ---- views -----------------------------------------------------------

    def live(self):
        return [a for a in self.agents if a.alive() and not a.frozen]

    def views(self, agents=None, timeout=1.0):
        """{agent name: (members {name: member}, ring json)}; agents that do not answer are absent."""
        out = {}
        for a in agents if agents is not None else self.live():
            try:
                members = {m["name"]: m for m in a.http_json("/members", timeout)["members"]}
                out[a.name] = (members, a.ring())
            except (OSError, http.client.HTTPException, AssertionError, ValueError):
                pass
        return out

    def gossip_counters(self):
        """The "gossip" counters of /metrics summed over the agents that answer."""
        total = {}
        for a in self.live():
            try:
                gossip = a.http_json("/metrics.json", 1.0).get("gossip", {})
            except (OSError, http.client.HTTPException, AssertionError, ValueError):
                continue
            for k, v in gossip.items():
                if isinstance(v, int):
                    total[k] = total.get(k, 0) + v
        return total

    def expected(self):
        """{name: address} every agent should see alive."""
        return {a.name: a.gossip for a in self.agents}

    def converged(self, agents=None):
        """(True, checksum) when every given agent sees exactly the expected
        members alive at their current addresses, and all report one ring
        checksum over all n services; else (False, reason)."""
        agents = agents if agents is not None else self.agents
        exp = self.expected()
        views = self.views(agents)
        if len(views) != len(agents):
            return False, "%d of %d agents answered" % (len(views), len(agents))
        checksums = set()
        for name, (members, ring) in views.items():
            seen = {m: (v["address"], v["state"]) for m, v in members.items()}
            want = {m: (addr, "alive") for m, addr in exp.items()}
            if seen != want:
                diff = {m: seen.get(m) for m in set(seen) | set(want) if seen.get(m) != want.get(m)}
                return False, "%s sees %s" % (name, diff)
            if len(ring["nodes"]) != len(exp):
                return False, "%s ring has %d nodes" % (name, len(ring["nodes"]))
            checksums.add(ring["checksum"])
        if len(checksums) != 1:
            return False, "%d ring checksums" % len(checksums)
        return True, checksums.pop()

    def wait_converged(self, timeout, interval=0.1):
        """Seconds until converged(); raises with the last reason after timeout."""
        t0 = time.monotonic()
        last = [None]

        def ok():
            good, why = self.converged()
            last[0] = why
            return good
        try:
            wait_until(ok, timeout, "cluster %s to converge" % self.letter, interval=interval)
        except procs.WaitTimeout as exc:
            raise procs.WaitTimeout("%s; last: %s" % (exc, last[0])) from None
        return time.monotonic() - t0

    # ---- faults ----------------------------------------------------------

    def _rule(self, i, *rule):
        in_ns(self.ns[i], IPTABLES, "-w", "-A", CHAIN, *rule)

    def set_loss(self, p, agents=None):
        """Every listed agent (default all) drops arriving packets with probability p.

        A rule with no target before the drop counts what arrives, so
        loss_counters() can tell the loss really applied."""
        for i in agents if agents is not None else range(self.n):
            self._rule(i, "-m", "comment", "--comment", "arrived")
            self._rule(i, "-m", "statistic", "--mode", "random",
                       "--probability", "%.4f" % p, "-j", "DROP")

    def loss_counters(self):
        """(packets arrived, packets dropped by the random rule), summed over agents."""
        arrived = dropped = 0
        for ns in self.ns:
            out = in_ns(ns, IPTABLES, "-w", "-L", CHAIN, "-v", "-x", "-n").stdout
            for line in out.splitlines():
                fields = line.split()
                if not fields or not fields[0].isdigit():
                    continue
                if "arrived" in line:
                    arrived += int(fields[0])
                elif "statistic" in line and fields[2] == "DROP":
                    dropped += int(fields[0])
        return arrived, dropped

    def cut_from(self, i, sources):
        """Agent i receives nothing from the agents in sources (one-way cut)."""
        for j in sources:
            self._rule(i, "-s", self.hosts[j], "-j", "DROP")

    def partition(self, group1, group2):
        for i in group1:
            self.cut_from(i, group2)
        for j in group2:
            self.cut_from(j, group1)

    def clear_faults(self):
        for ns in self.ns:
            in_ns(ns, IPTABLES, "-w", "-F", CHAIN)

    def rule_count(self):
        total = 0
        for ns in self.ns:
            out = in_ns(ns, IPTABLES, "-w", "-S", CHAIN).stdout
            total += sum(1 for line in out.splitlines() if line.startswith("-A"))
        return total

    # ---- processes -------------------------------------------------------

    def move(self, i, new_host):
        """SIGKILL agent i, give its namespace new_host instead of its address,
        start the same name there at once. Returns the new Agent."""
        old = self.agents[i]
        old.kill()
        ns = self.ns[i]
        in_ns(ns, IP, "addr", "del", "%s/%d" % (self.hosts[i], PREFIXLEN), "dev", "eth0")
        in_ns(ns, IP, "addr", "add", "%s/%d" % (new_host, PREFIXLEN), "dev", "eth0")
        self.hosts[i] = new_host
        agent = self._agent(i)  # same name, so the same log file, appended to
        self.agents[i] = agent
        agent.start()
        return agent


__all__ = ["Lab", "Cluster", "Agent", "SUBNET", "address_in_subnet", "cleanup_leftovers",
           "wait_until"]
