"""What sealed gossip costs an idle cluster: N real agents on loopback,
plaintext against --keyring, rounds alternated.

    /usr/bin/python3 bench/crypto_idle_bench.py [--n 30] [--rounds 3] [--idle-seconds 20]

Each round starts N agents (default LAN profile, no service checks) in one
mode, waits until all see all alive, lets join traffic settle, then samples
the CPU time of every agent over --idle-seconds (/proc/PID/task/*/schedstat)
and the datagrams each sent (/metrics gossip.packets_sent). The two modes
alternate round by round (plaintext first), so drift on a shared machine
falls on both. Prints a Markdown section: CPU per agent in each mode, the
ratio sealed / plaintext (target <= 1.2), and the per-datagram crypto cost
it implies.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
sys.path.insert(0, HERE)
from procs import RunDir, ringd_bin, wait_until  # noqa: E402
from membership_bench import RingdCluster, all_alive, cpu_seconds, rss_mb  # noqa: E402


def packets_sent(agent):
    return agent.http_json("/metrics.json")["gossip"].get("packets_sent", 0)


def one_round(n, sealed, idle_seconds):
    run = RunDir("bench-crypto-idle")
    try:
        extra = []
        if sealed:
            path = run.sub("keyring.json")
            key = subprocess.run([ringd_bin(), "keygen"], check=True, capture_output=True, text=True).stdout.strip()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump([key], f)
            extra = ["--keyring", path]
        cluster = RingdCluster(run, n, extra)
        cluster.start()
        wait_until(lambda: all_alive(cluster), 120, f"N={n} converged", interval=0.2)
        time.sleep(3)  # let join traffic settle
        cpu0 = {p.name: cpu_seconds(p.pid) for p in cluster.nodes}
        sent0 = {p.name: packets_sent(p) for p in cluster.nodes}
        t0 = time.monotonic()
        time.sleep(idle_seconds)
        elapsed = time.monotonic() - t0
        cpu = [1000 * (cpu_seconds(p.pid) - cpu0[p.name]) / elapsed for p in cluster.nodes]
        sent = [(packets_sent(p) - sent0[p.name]) / elapsed for p in cluster.nodes]
        rss = [rss_mb(p.pid) for p in cluster.nodes]
        if sealed:
            counters = cluster.nodes[0].http_json("/metrics.json")["gossip"]
            assert counters["crypto_opened"] > 0 and counters["plaintext_accepted"] == 0, counters
        return {"cpu": statistics.median(cpu), "cpu_max": max(cpu), "sent": statistics.median(sent),
                "rss": statistics.median(rss)}
    finally:
        run.cleanup()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--idle-seconds", type=float, default=20)
    args = ap.parse_args()

    results = {False: [], True: []}
    for r in range(args.rounds):
        for sealed in (False, True):
            res = one_round(args.n, sealed, args.idle_seconds)
            results[sealed].append(res)
            print(f"round {r + 1} {'sealed' if sealed else 'plaintext'}: {res['cpu']:.2f} ms/s per agent, "
                  f"{res['sent']:.1f} datagrams/s", file=sys.stderr)
    ratios = [s["cpu"] / p["cpu"] for p, s in zip(results[False], results[True])]
    med = {k: statistics.median(x["cpu"] for x in v) for k, v in results.items()}
    sent = {k: statistics.median(x["sent"] for x in v) for k, v in results.items()}
    rss = {k: statistics.median(x["rss"] for x in v) for k, v in results.items()}

    print(f"N = {args.n} agents on loopback, default LAN profile; {args.rounds} rounds per mode, alternated "
          f"(plaintext first); CPU over {args.idle_seconds:.0f} s idle per round, median over agents.")
    print()
    print("| | plaintext | sealed (`--keyring`) |")
    print("|---|---|---|")
    print(f"| CPU per idle agent (median of rounds) | {med[False]:.2f} ms/s | {med[True]:.2f} ms/s |")
    print(f"| datagrams sent per agent | {sent[False]:.1f}/s | {sent[True]:.1f}/s |")
    print(f"| RSS per agent | {rss[False]:.1f} MB | {rss[True]:.1f} MB |")
    print()
    extra_us = (med[True] - med[False]) * 1000 / max(sent[True], 1e-9)
    print(f"Sealed / plaintext CPU, per round: {', '.join(f'{x:.2f}×' for x in ratios)}; "
          f"**median {statistics.median(ratios):.2f}×** (target ≤ 1.2×). "
          f"That is {extra_us:+.1f} µs per datagram sent (each is sealed once and opened once), "
          f"beside ~0.25–0.56 µs to seal or open one in `gossip_crypto_bench`.")


if __name__ == "__main__":
    main()
