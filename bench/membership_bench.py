"""Failure detection and footprint: ringd beside serf, real processes on loopback.

    /usr/bin/python3 bench/membership_bench.py [--n 10 30] [--trials 3] [--idle-seconds 20] [--no-serf]

For each N and each system (ringd at its default profile; serf at its default
LAN profile, Debian package `serf`): start N agents, wait until all see all
alive; sample RSS and CPU per idle agent; then per trial SIGKILL one agent and
time until every other reports it dead (serf: "failed"), and send SIGINT to
another (serf leaves gracefully on SIGINT; ringd on SIGINT or SIGTERM) and time
until every other reports it left; restart both. Prints a Markdown section.
"""
import argparse
import os
import shutil
import signal
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
from procs import Agent, Proc, RunDir, free_port, wait_until  # noqa: E402

def cpu_seconds(pid):
    """CPU time of every thread of pid, in ns resolution (/proc/PID/task/*/schedstat)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:
            pass  # thread exited meanwhile
    return total / 1e9


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class RingdCluster:
    name = "ringd"
    dead, left = "dead", "left"

    def __init__(self, run, n, extra=()):
        # Nothing listens on the services: like serf, measure membership
        # alone (no service checks). `extra`: more flags for every agent.
        first = Agent("r1", run, service="127.0.0.1:20001", log_level="warn", service_check="none",
                      extra_args=extra)
        self.nodes = [first] + [Agent(f"r{i}", run, join=[first.gossip], service=f"127.0.0.1:{20000 + i}",
                                      log_level="warn", service_check="none", extra_args=extra)
                                for i in range(2, n + 1)]

    def start(self):
        for a in self.nodes:
            a.start()

    def states(self, node):
        return {name: m["state"] for name, m in node.members().items()}

    def close(self):
        pass


class SerfCluster:
    name = "serf"
    dead, left = "failed", "left"

    def __init__(self, run, n):
        from serf_rpc import SerfRpc  # python3-msgpack
        self.rpc_class = SerfRpc
        self.nodes = []
        first_bind = None
        for i in range(1, n + 1):
            bind = free_port(udp_too=True)
            rpc = free_port()
            argv = [shutil.which("serf"), "agent", "-node", f"s{i}", "-bind", f"127.0.0.1:{bind}",
                    "-rpc-addr", f"127.0.0.1:{rpc}", "-log-level", "warn"]
            if first_bind:
                # -retry-join, not -join: serf exits when an initial -join fails.
                argv += ["-retry-join", f"127.0.0.1:{first_bind}",
                         "-retry-interval", "1s"]
            first_bind = first_bind or bind
            p = Proc(f"s{i}", run, argv)
            p.rpc_port = rpc
            self.nodes.append(p)
        self.clients = {}

    def start(self):
        for p in self.nodes:
            p.start()

    def states(self, node):
        client = self.clients.get(node.name)
        try:
            if client is None:
                client = self.clients[node.name] = self.rpc_class(node.rpc_port)
            return client.members()
        except Exception:
            self.clients.pop(node.name, None)
            raise

    def restart(self, node):
        self.clients.pop(node.name, None)

    def close(self):
        for c in self.clients.values():
            c.close()


def all_alive(cluster):
    names = {n.name for n in cluster.nodes}
    return all(all(cluster.states(n).get(m) == "alive" for m in names) for n in cluster.nodes)


def seen_everywhere(cluster, victim, others, state):
    return all(cluster.states(n).get(victim.name) == state for n in others)


def measure(cluster_class, n, trials, idle_seconds):
    run = RunDir(f"bench-{cluster_class.name}")
    cluster = cluster_class(run, n)
    try:
        cluster.start()
        wait_until(lambda: all_alive(cluster), 120, f"{cluster.name} N={n} converged", interval=0.1)
        time.sleep(3)  # let join traffic settle
        before = {p.name: cpu_seconds(p.pid) for p in cluster.nodes}
        t0 = time.monotonic()
        time.sleep(idle_seconds)
        elapsed = time.monotonic() - t0
        cpu = [1000 * (cpu_seconds(p.pid) - before[p.name]) / elapsed for p in cluster.nodes]
        rss = [rss_mb(p.pid) for p in cluster.nodes]
        kills, leaves = [], []
        gone = set()  # stopped in earlier trials; asking them would fail
        for t in range(trials):
            victim = cluster.nodes[-1 - 2 * t]
            leaver = cluster.nodes[-2 - 2 * t]
            others = [p for p in cluster.nodes if p is not victim and p.name not in gone]
            started = time.monotonic()
            victim.kill()
            wait_until(lambda: seen_everywhere(cluster, victim, others, cluster.dead), 120,
                       f"{victim.name} {cluster.dead}", interval=0.01)
            kills.append(time.monotonic() - started)
            others = [p for p in others if p is not leaver]
            started = time.monotonic()
            leaver.send_signal(signal.SIGINT)
            wait_until(lambda: seen_everywhere(cluster, leaver, others, cluster.left), 60,
                       f"{leaver.name} {cluster.left}", interval=0.01)
            leaves.append(time.monotonic() - started)
            leaver.stop()
            gone.update({victim.name, leaver.name})
        return {"kill": kills, "leave": leaves, "rss": rss, "cpu": cpu}
    finally:
        cluster.close()
        run.cleanup()


def fmt_times(xs):
    return f"{statistics.median(xs):.2f} s ({min(xs):.2f}–{max(xs):.2f})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[10, 30])
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--idle-seconds", type=float, default=20)
    ap.add_argument("--no-serf", action="store_true")
    args = ap.parse_args()
    systems = [RingdCluster] + ([] if args.no_serf else [SerfCluster])
    if not args.no_serf and not shutil.which("serf"):
        sys.exit("membership_bench: serf not installed (apt-get install serf python3-msgpack) or pass --no-serf")

    print("### Membership: real agents on loopback, ringd beside serf\n")
    print(f"{args.trials} trials per figure; idle cost sampled over {args.idle_seconds:.0f} s "
          "(CPU: sum of /proc/PID/task/*/schedstat). serf: Debian `serf` at its default LAN profile; "
          "ringd at its default profile.\n")
    header = "| N | figure | " + " | ".join(s.name for s in systems) + " |"
    print(header)
    print("|---" * (2 + len(systems)) + "|")
    for n in args.n:
        results = [measure(s, n, args.trials, args.idle_seconds) for s in systems]
        rows = [
            ("SIGKILL → dead on every other agent", lambda r: fmt_times(r["kill"])),
            ("graceful leave (SIGINT) → left on every other agent", lambda r: fmt_times(r["leave"])),
            ("RSS per idle agent", lambda r: f"{statistics.median(r['rss']):.1f} MB (max {max(r['rss']):.1f})"),
            ("CPU per idle agent", lambda r: f"{statistics.median(r['cpu']):.2f} ms/s (max {max(r['cpu']):.2f})"),
        ]
        for label, f in rows:
            print(f"| {n} | {label} | " + " | ".join(f(r) for r in results) + " |")
        if len(results) == 2:
            ratio = statistics.median(results[0]["kill"]) / statistics.median(results[1]["kill"])
            print(f"| {n} | ringd SIGKILL time / serf's | {ratio:.0%} | |")
    print()


if __name__ == "__main__":
    main()
