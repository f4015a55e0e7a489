"""Many real agents on one machine: footprint, and how fast a SIGKILL is known.

    /usr/bin/python3 bench/many_agents_bench.py [--n 100] [--small 10] [--rounds 2]
        [--rings default multiprobe] [--idle-seconds 40]

For each ring scheme, and in each round for N = --small and N = --n in turn
(rounds alternated, so both sizes see the same machine): start N agents on
loopback, every one with a --service (--service-check none: membership and
rings alone), all joining the first; wait until every agent's /members has all
N alive; let them idle; sample VmRSS and CPU (/proc/PID/task/*/schedstat) of
every agent; SIGKILL the last agent and take, from the other agents' logs
("member X dead" lines and their stamps), the time until every one of them had
it dead. Every process is stopped by PID when its cluster is done, also on
failure. Prints a Markdown section (bench/run.sh, section agents100).
"""
import argparse
import os
import signal
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "net"))
from procs import Agent, RunDir, wait_until  # noqa: E402
from netlab import EVENT_RE, log_time  # noqa: E402  (the agents' member-event log lines)
from membership_bench import cpu_seconds, rss_mb  # noqa: E402


def alive_count(agent):
    return sum(1 for m in agent.members().values() if m["state"] == "alive")


def dead_at(agent, victim):
    """Stamp of the first 'member <victim> dead' line in agent's log, or None."""
    try:
        with open(agent.log_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    for m in EVENT_RE.finditer(text):
        if m.group(2) == victim and m.group(3) == "dead":
            return log_time(m.group(1))
    return None


def run_cluster(n, ring, idle_seconds):
    run = RunDir("bench-agents%d" % n)
    extra = ["--ring", ring]
    try:
        first = Agent("a1", run, service="127.0.0.1:30001", service_check="none", extra_args=extra)
        agents = [first] + [Agent("a%d" % i, run, join=[first.gossip], service="127.0.0.1:%d" % (30000 + i),
                                  service_check="none", extra_args=extra) for i in range(2, n + 1)]
        started = time.monotonic()
        for a in agents:
            a.start()
        wait_until(lambda: all(alive_count(a) == n for a in agents), 180,
                   "%d agents see %d alive" % (n, n), interval=0.5)
        converged = time.monotonic() - started
        time.sleep(3)  # the join's traffic settles
        before = {a.name: cpu_seconds(a.pid) for a in agents}
        t0 = time.monotonic()
        time.sleep(idle_seconds)
        elapsed = time.monotonic() - t0
        cpu = [1000 * (cpu_seconds(a.pid) - before[a.name]) / elapsed for a in agents]
        rss = [rss_mb(a.pid) for a in agents]
        victim, others = agents[-1], agents[:-1]
        killed = time.time()
        victim.kill()
        wait_until(lambda: all(dead_at(a, victim.name) is not None for a in others), 60,
                   "%s dead on every other agent" % victim.name, interval=0.1)
        detect = max(dead_at(a, victim.name) for a in others) - killed
        return {"rss": rss, "cpu": cpu, "detect": detect, "converged": converged}
    finally:
        run.stop_all()
        run.cleanup()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--small", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--rings", nargs="+", default=["default", "multiprobe"])
    # An agent hands freed memory back once membership has been quiet for
    # 30 s (agent.cc); the footprint of an idle agent is measured after that.
    ap.add_argument("--idle-seconds", type=float, default=40)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # finally blocks stop the agents

    results = {}
    for ring in args.rings:
        for r in range(args.rounds):
            for n in ((args.small, args.n) if r % 2 == 0 else (args.n, args.small)):
                print("many_agents_bench: ring %s, N = %d, round %d" % (ring, n, r + 1), file=sys.stderr)
                results.setdefault((ring, n), []).append(run_cluster(n, ring, args.idle_seconds))

    print("### %d real agents on one machine (loopback), beside %d: footprint and failure detection\n"
          % (args.n, args.small))
    print("Every agent has a --service (--service-check none), all join the first; %d rounds, the sizes alternated "
          "in each; RSS and CPU sampled after %.0f s idle; detection = SIGKILL until the last other agent logged "
          "the victim dead (its log stamp).\n" % (args.rounds, args.idle_seconds))
    print("| ring | N | VmRSS per agent: median (min–max) | CPU per idle agent, median | SIGKILL → dead on every "
          "other agent (per round) | converged after start |")
    print("|---|---|---|---|---|---|")
    for ring in args.rings:
        for n in (args.small, args.n):
            rs = results[(ring, n)]
            rss = [x for r in rs for x in r["rss"]]
            cpu = [x for r in rs for x in r["cpu"]]
            print("| %s | %d | %.2f MB (%.2f–%.2f) | %.2f ms/s | %s | %s |" % (
                ring, n, statistics.median(rss), min(rss), max(rss), statistics.median(cpu),
                ", ".join("%.2f s" % r["detect"] for r in rs), ", ".join("%.1f s" % r["converged"] for r in rs)))
    print()
    for ring in args.rings:
        small = statistics.median(r["detect"] for r in results[(ring, args.small)])
        big = statistics.median(r["detect"] for r in results[(ring, args.n)])
        rss = [x for r in results[(ring, args.n)] for x in r["rss"]]
        print("Targets (issue 15), ring %s: every one of %d agents at most 4 MB: %s (largest %.2f MB); a SIGKILL "
              "known to all within 2× the N = %d time: %s (%.2f s vs %.2f s, %.2f×).\n" % (
                  ring, args.n, "met" if max(rss) <= 4.0 else "NOT met", max(rss), args.small,
                  "met" if big <= 2 * small else "NOT met", big, small, big / small))


if __name__ == "__main__":
    main()
