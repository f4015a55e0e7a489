"""Instructions per request of an nginx front, counted by callgrind.

A companion of bench/nginx_bench.py. Time on a shared virtual machine moves
5-15% between runs; instruction counts do not: the same configuration gives
the same count to within about 0.5%. What callgrind sees is the worker's
user space only (nginx, LuaJIT, libc), not the kernel's share of a request
(sockets, epoll), which is the same for every front here.

measure(conf_path, run_dir, wrk, script) copies an nginx config, makes it a
single process (master_process off) listening on a fresh port, starts it
under `valgrind --tool=callgrind`, warms it up with wrk (LuaJIT compiles its
traces), zeroes the counters, runs wrk at c=4 for a fixed time and divides
the instructions counted by the requests answered.
"""
import os
import re
import signal
import subprocess
import tempfile

from procs import HOST, free_port, port_open, wait_until  # noqa: E402


def single_process(conf, port, pid_path):
    conf = re.sub(r"^worker_processes .*;$", "master_process off;", conf, flags=re.M)
    conf = re.sub(r"^pid .*;$", "pid %s;" % pid_path, conf, flags=re.M)
    conf = re.sub(r"^user .*;$", "", conf, flags=re.M)
    return re.sub(r"listen [\d.]+:\d+;", "listen %s:%d;" % (HOST, port), conf)


def measure(conf_path, wrk, script, seconds=5):
    """Instructions per request (an int) of the nginx config at conf_path."""
    with open(conf_path) as f:
        conf = f.read()
    with tempfile.TemporaryDirectory(prefix="ringd-callgrind.") as tmp:
        port = free_port()
        path = os.path.join(tmp, "nginx.conf")
        with open(path, "w") as f:
            f.write(single_process(conf, port, os.path.join(tmp, "nginx.pid")))
        out = os.path.join(tmp, "callgrind.out")
        # --smc-check: LuaJIT writes machine code at run time.
        proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--smc-check=all-non-file", "--callgrind-out-file=" + out,
             "nginx", "-p", os.path.dirname(conf_path), "-c", path, "-e", os.path.join(tmp, "error.log"),
             "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_until(lambda: port_open(port), 60, "nginx under valgrind")
            url = "http://%s:%d/documents/" % (HOST, port)
            subprocess.run([wrk, "-t1", "-c1", "-d3s", "-s", script, url], capture_output=True, timeout=60)
            subprocess.run(["callgrind_control", "-z", str(proc.pid)], capture_output=True, timeout=60)
            res = subprocess.run([wrk, "-t1", "-c4", "-d%ds" % seconds, "-s", script, url],
                                 capture_output=True, text=True, timeout=seconds + 60)
            subprocess.run(["callgrind_control", "-d", str(proc.pid)], capture_output=True, timeout=60)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        requests = int(re.search(r"(\d+) requests in", res.stdout).group(1))
        if "Non-2xx" in res.stdout or "Socket errors" in res.stdout:
            raise RuntimeError("callgrind run of %s had failed requests:\n%s" % (conf_path, res.stdout))
        dumps = sorted(p for p in os.listdir(tmp) if p.startswith("callgrind.out."))
        if not dumps:
            raise RuntimeError("callgrind wrote no dump for %s" % conf_path)
        total = 0
        with open(os.path.join(tmp, dumps[0])) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    total = int(line.split()[1])
                    break
        return total // max(requests, 1)
