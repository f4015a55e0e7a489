"""Failure detection and footprint of real ringd agents on loopback.

    /usr/bin/python3 bench/cluster_bench.py [--n 10] [--trials 3] [--idle-seconds 10]

Starts N agents (each advertising a service), waits for convergence, then per
trial: SIGKILL one agent and time until every other agent reports it dead;
SIGTERM another and time until every other reports it left; restart both and
wait for convergence again. Also samples RSS and CPU per idle agent. Prints a
Markdown section on stdout (bench/run.sh puts it into bench/RESULTS.md).
"""
import argparse
import os
import signal
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
from procs import Agent, RunDir, wait_until  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def states(agent):
    return {name: m["state"] for name, m in agent.members().items()}


def converged(agents):
    names = {a.name for a in agents}
    checksums = set()
    for a in agents:
        s = states(a)
        if any(s.get(n) != "alive" for n in names):
            return False
        checksums.add(a.ring()["checksum"])
    return len(checksums) == 1


def time_until_everyone_sees(victim, others, state, send):
    started = time.monotonic()
    send()
    wait_until(lambda: all(states(a).get(victim.name) == state for a in others), 60,
               f"{victim.name} {state} everywhere", interval=0.01)
    return time.monotonic() - started


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--idle-seconds", type=float, default=10)
    args = ap.parse_args()

    run = RunDir("ringd-bench")
    try:
        first = Agent("a1", run, service="127.0.0.1:20001").start()
        agents = [first] + [Agent(f"a{i}", run, join=[first.gossip], service=f"127.0.0.1:{20000 + i}").start()
                            for i in range(2, args.n + 1)]
        wait_until(lambda: converged(agents), 60, "convergence")

        time.sleep(2)  # let join traffic settle before measuring idle cost
        before = {a.name: cpu_seconds(a.pid) for a in agents}
        t0 = time.monotonic()
        time.sleep(args.idle_seconds)
        elapsed = time.monotonic() - t0
        cpu_ms_per_s = [1000 * (cpu_seconds(a.pid) - before[a.name]) / elapsed for a in agents]
        rss = [rss_mb(a.pid) for a in agents]

        kills, leaves = [], []
        for t in range(args.trials):
            victim = agents[-1 - (2 * t) % (args.n - 1)]
            leaver = agents[-2 - (2 * t) % (args.n - 1)]
            others = [a for a in agents if a is not victim]
            kills.append(time_until_everyone_sees(victim, others, "dead", victim.kill))
            others = [a for a in agents if a not in (victim, leaver)]
            leaves.append(time_until_everyone_sees(leaver, others, "left",
                                                   lambda: leaver.send_signal(signal.SIGTERM)))
            leaver.stop()
            victim.start()
            leaver.start()
            wait_until(lambda: converged(agents), 60, "re-convergence")

        def fmt(xs):
            return f"{statistics.median(xs):.3f} s (min {min(xs):.3f}, max {max(xs):.3f})"
        print(f"### Real agents on loopback, N = {args.n}, {args.trials} trials\n")
        print("| figure | value |")
        print("|---|---|")
        print(f"| SIGKILL → dead on every other agent | {fmt(kills)} |")
        print(f"| SIGTERM → left on every other agent | {fmt(leaves)} |")
        print(f"| RSS per idle agent | median {statistics.median(rss):.1f} MB (max {max(rss):.1f}) |")
        print(f"| CPU per idle agent ({args.idle_seconds:.0f} s sample) | median {statistics.median(cpu_ms_per_s):.2f} ms/s "
              f"(max {max(cpu_ms_per_s):.2f}) |")
        print()
    finally:
        run.cleanup()


if __name__ == "__main__":
    main()
