#!/usr/bin/python3
"""What a request through nginx pays for ringd (issue 12, item 4).

One nginx worker in front of three backends, wrk over 100,000 random keys
(/documents/<n>), the front configurations side by side in one run, rounds
alternated (the machine is shared; only ratios within a run mean much):

  static    proxy_pass to one backend, upstream keepalive: the floor
  hash      nginx's own `hash $request_uri consistent` over the three, keepalive
            (in-process, but no membership at all)
  snapshot  deploy/nginx, --lookup snapshot: the ring inside nginx (default)
  resp      deploy/nginx, --lookup resp: a RESP lookup (RING.OWNERS) to the
            local agent per request, over TCP
  resp-unix the same over the agent's --resp-unix socket

static and hash set the same proxy headers as deploy/nginx (Host,
X-Forwarded-For), so the differences are the routing and ringd's own
X-Ringd-* headers.

Each round runs every configuration at c=1 (p50 latency) and at c=16
(requests/s), in a rotated order. The backends are one more nginx (one
worker, three ports answering 200 at once) so they cost less than the
front; a ringd agent per backend (with a TCP service check) and a router
agent feed the ringd configurations. Access logs are off in all four.

    /usr/bin/python3 bench/nginx_bench.py [--rounds 5] [--seconds 4] [--callgrind]

--callgrind also counts each front's instructions per request under
valgrind (bench/nginx_callgrind.py): steady where time is not.

Prints Markdown (for bench/RESULTS.md) on stdout, progress on stderr.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
from procs import (HOST, Agent, Nginx, Proc, RunDir, free_port, port_open, require_tool,  # noqa: E402
                   ringd_src, wait_until)
import nginx_callgrind  # noqa: E402

KEYS = 100_000
CONFIGS = ["static", "hash", "snapshot", "resp", "resp-unix"]
MODULES = """load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
"""


def common(rundir, user):
    return """user %s;
worker_processes 1;
pid %s/nginx.pid;
error_log %s/error.log warn;
events { worker_connections 1024; }
""" % (user, rundir, rundir)


def temp_paths(rundir):
    return "".join("    %s_temp_path %s/tmp_%s;\n" % (k, rundir, k)
                   for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))


class PlainNginx(Proc):
    """nginx on a config written here (backends, static, hash)."""

    def __init__(self, name, rundir, http_block):
        self.dir = os.path.join(rundir.path, name)
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(common(self.dir, os.environ.get("USER") or "root"))
            f.write("http {\n    access_log off;\n    keepalive_requests 100000;\n")
            f.write(temp_paths(self.dir))
            f.write(http_block)
            f.write("}\n")
        super().__init__(name, rundir, [require_tool("nginx", "apt-get install nginx"), "-p", self.dir,
                                        "-c", self.conf, "-e", os.path.join(self.dir, "error.log"),
                                        "-g", "daemon off;"])


def front_block(port, upstream_body):
    return """    upstream up {
%s        keepalive 64;
        keepalive_requests 100000;
    }
    server {
        listen %s:%d;
        location /documents/ {
            proxy_pass http://up;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }
    }
""" % (upstream_body, HOST, port)


def wrk_script(path):
    with open(path, "w") as f:
        f.write("""-- /documents/<1..%d>, uniformly at random, seeded per thread
math.randomseed(os.time() + math.floor(os.clock() * 1000000))
request = function()
  return wrk.format("GET", "/documents/" .. math.random(%d))
end
""" % (KEYS, KEYS))


def parse_wrk(out):
    """(p50 in microseconds, requests/s, non-2xx/3xx count) from wrk --latency output."""
    def to_us(value, unit):
        return float(value) * {"us": 1, "ms": 1000, "s": 1_000_000}[unit]
    m = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    p50 = to_us(*m.groups()) if m else float("nan")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failures = (int(bad.group(1)) if bad else 0) + (sum(int(x) for x in errors.groups()) if errors else 0)
    return p50, rps, failures


TICK = os.sysconf("SC_CLK_TCK")


def workers_cpu(master_pid):
    """User + system CPU seconds of the nginx master's children (its workers)."""
    kids = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True).stdout.split()
    total = 0
    for pid in kids:
        try:
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def run_wrk(wrk, script, port, conns, seconds):
    out = subprocess.run([wrk, "-t1", "-c%d" % conns, "-d%ds" % seconds, "--latency", "-s", script,
                          "http://%s:%d/documents/" % (HOST, port)],
                         capture_output=True, text=True, timeout=seconds + 30)
    if out.returncode != 0:
        raise RuntimeError("wrk failed: %s %s" % (out.stdout, out.stderr))
    return parse_wrk(out.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=4, help="per wrk run")
    ap.add_argument("--configs", default=",".join(CONFIGS),
                    help="comma-separated subset of %s (static and hash are always run: "
                         "the targets are relative to them)" % ",".join(CONFIGS))
    ap.add_argument("--callgrind", action="store_true",
                    help="also count instructions per request under valgrind (slow: about a minute per front)")
    args = ap.parse_args()
    wrk = require_tool("wrk", "apt-get install wrk (deploy/install-deps.sh)")
    run = RunDir("ringd-nginx-bench")
    try:
        # Backends: one nginx, three ports.
        ports = [free_port() for _ in range(3)]
        backends = ["%s:%d" % (HOST, p) for p in ports]
        servers = "".join("    server { listen %s; location / { return 200 \"ok\\n\"; } }\n" % b for b in backends)
        PlainNginx("backends", run, servers).start()
        wait_until(lambda: all(port_open(p) for p in ports), 10, "the backends")

        sock = os.path.join(run.path, "router-resp.sock")
        router = Agent("router", run, log_level="warn", extra_args=["--resp-unix", sock]).start()
        router.wait_ready()
        for i, b in enumerate(backends):
            Agent("b%d" % (i + 1), run, join=[router.gossip], service=b, log_level="warn").start()
        wait_until(lambda: len(router.ring()["nodes"]) == 3, 20, "three services on the router's ring")

        fronts = {}
        masters = {}
        p = free_port()
        masters["static"] = PlainNginx("static", run, front_block(p, "        server %s;\n" % backends[0])).start()
        fronts["static"] = p
        p = free_port()
        masters["hash"] = PlainNginx("hash", run, front_block(p, "        hash $request_uri consistent;\n" +
                                                              "".join("        server %s;\n" % b for b in backends))).start()
        fronts["hash"] = p
        wanted = set(args.configs.split(","))
        unknown = wanted - set(CONFIGS)
        if unknown:
            ap.error("unknown config(s): " + ",".join(sorted(unknown)))
        for name in [x for x in CONFIGS[2:] if x in wanted]:
            lookup, agent = {"snapshot": ("snapshot", router.resp), "resp": ("resp", router.resp),
                             "resp-unix": ("resp", "unix:" + sock)}[name]
            n = Nginx(name, run, agent, workers=1, lookup=lookup)
            with open(n.conf) as f:
                conf = f.read()
            conf = re.sub(r"^\s*access_log .*;$", "    access_log off;", conf, flags=re.M)
            with open(n.conf, "w") as f:
                f.write(conf)
            masters[name] = n.start()
            fronts[name] = n.port
        script = os.path.join(run.path, "keys.lua")
        wrk_script(script)
        for name, port in fronts.items():
            wait_until(lambda: port_open(port), 10, "nginx " + name)
            # Warm up (and, for snapshot, wait until the worker holds the ring).
            wait_until(lambda: run_wrk(wrk, script, port, 1, 1)[2] == 0, 20, "nginx %s answering 200" % name)

        names = list(fronts)
        p50 = {n: [] for n in names}
        rps = {n: [] for n in names}
        cpu = {n: [] for n in names}  # nginx worker CPU µs per request at c=16
        failures = {n: 0 for n in names}
        for r in range(args.rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for n in order:
                lat, _, f1 = run_wrk(wrk, script, fronts[n], 1, args.seconds)
                before = workers_cpu(masters[n].pid)
                _, thr, f16 = run_wrk(wrk, script, fronts[n], 16, args.seconds)
                cpu[n].append((workers_cpu(masters[n].pid) - before) / (thr * args.seconds) * 1e6)
                p50[n].append(lat)
                rps[n].append(thr)
                failures[n] += f1 + f16
                print("round %d %-9s p50 %.1f us  %.0f req/s  %.2f us CPU/req" % (r + 1, n, lat, thr, cpu[n][-1]),
                      file=sys.stderr)
        instructions = {}
        if args.callgrind:
            for n in names:
                instructions[n] = nginx_callgrind.measure(masters[n].conf, wrk, script)
                print("callgrind %-9s %d instructions per request" % (n, instructions[n]), file=sys.stderr)
    finally:
        run.cleanup()

    med = {n: (statistics.median(p50[n]), statistics.median(rps[n]), statistics.median(cpu[n])) for n in names}
    # Ratios per round (same round, same load), then their median.
    def ratio(a, b, series):
        return statistics.median(x / y for x, y in zip(series[a], series[b]))

    def delta(a, b):
        return statistics.median(x - y for x, y in zip(p50[a], p50[b]))

    print("## nginx in front of three backends (`/usr/bin/python3 bench/nginx_bench.py --rounds %d --seconds %d%s`)"
          % (args.rounds, args.seconds, " --callgrind" if args.callgrind else ""))
    print()
    print("One nginx worker, wrk (`-t1`, `--latency`) over %d random keys, %d rounds alternated, %d s per run; "
          "backends: one more nginx answering 200; access logs off. Medians over rounds; "
          "ratios and differences are taken within each round, then their median." % (KEYS, args.rounds, args.seconds))
    print()
    print("| front config | p50 at c=1 | p50 − static | req/s at c=16 | ÷ static | ÷ nginx hash | "
          "worker CPU per request at c=16 |%s failed requests |" % (" instructions per request |" if instructions else ""))
    print("|---|---|---|---|---|---|---|%s---|" % ("---|" if instructions else ""))
    labels = {"static": "static `proxy_pass`, keepalive", "hash": "nginx `hash $request_uri consistent`",
              "snapshot": "ringd snapshot (ring in nginx)", "resp": "ringd RESP over TCP (lookup per request)",
              "resp-unix": "ringd RESP over a Unix socket"}
    for n in names:
        ir = (" %s (%.2f× hash) |" % (format(instructions[n], ","), instructions[n] / instructions["hash"])
              if instructions else "")
        print("| %s | %.1f µs | %+.1f µs | %.0f | %.2f | %.2f | %.1f µs |%s %d |" % (
            labels[n], med[n][0], delta(n, "static"), med[n][1], ratio(n, "static", rps),
            ratio(n, "hash", rps), med[n][2], ir, failures[n]))
    print()
    targets = []
    if "snapshot" in names:
        targets += [("snapshot p50 ≤ 5 µs above static at c=1", delta("snapshot", "static") <= 5),
                    ("snapshot req/s ≥ 0.95× nginx hash at c=16", ratio("snapshot", "hash", rps) >= 0.95)]
    for n in ("resp", "resp-unix"):
        if n in names:
            targets += [("%s p50 ≤ 30 µs above static at c=1" % labels[n], delta(n, "static") <= 30),
                        ("%s req/s ≥ 0.75× static at c=16" % labels[n], ratio(n, "static", rps) >= 0.75)]
    targets.append(("no failed request in any run", sum(failures.values()) == 0))
    print("Worker CPU per request: the front nginx worker's user + system time over the c=16 run "
          "(/proc/PID/stat) ÷ its requests; steadier than latency on a shared machine, and the cost of the "
          "routing itself (snapshot − hash). RESP modes also cost the agent CPU, not counted here.")
    if instructions:
        print("Instructions per request: the worker's user-space instructions under callgrind "
              "(bench/nginx_callgrind.py, wrk -c4, after a warm-up), the same from run to run.")
    print()
    print("### Targets")
    print()
    for text, ok in targets:
        print("- %s: %s" % (text, "met" if ok else "**missed**"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
