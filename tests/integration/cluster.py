"""Real ringd agents on loopback for integration and end-to-end tests.

Start agents with free ports, talk to their HTTP API, stop them by PID, and
wait for conditions with a deadline (never a bare sleep as synchronization).
"""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request


def free_port(kind=socket.SOCK_STREAM):
    """A port free for both TCP and UDP on 127.0.0.1 right now."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        other = socket.SOCK_DGRAM if kind == socket.SOCK_STREAM else socket.SOCK_STREAM
        try:
            with socket.socket(socket.AF_INET, other) as s:
                s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port found")


def wait_until(predicate, timeout, what, interval=0.02):
    """Polls predicate until it returns a truthy value; fails after timeout."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (OSError, ValueError, urllib.error.URLError) as e:
            last_error = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}" +
                         (f" (last error: {last_error})" if last_error else ""))


def ringd_binary():
    path = os.environ.get("RINGD_BIN")
    if not path:
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "..", "..", "build", "ringd")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"ringd binary not found at {path}; set RINGD_BIN")
    return path


class Agent:
    """One `ringd agent` process with its own ports and log file."""

    def __init__(self, name, join=(), service=None, log_dir=None, extra=()):
        self.name = name
        self.gossip_port = free_port(socket.SOCK_DGRAM)
        self.resp_port = free_port()
        self.http_port = free_port()
        self.join = list(join)
        self.service = service
        self.extra = list(extra)
        self.log_dir = log_dir or tempfile.mkdtemp(prefix="ringd-test-")
        self.log_path = os.path.join(self.log_dir, f"{name}.log")
        self.proc = None

    @property
    def gossip_addr(self):
        return f"127.0.0.1:{self.gossip_port}"

    def command(self):
        cmd = [ringd_binary(), "agent", "--node", self.name, "--bind", self.gossip_addr,
               "--resp", f"127.0.0.1:{self.resp_port}", "--http", f"127.0.0.1:{self.http_port}",
               "--log-level", "debug"]
        for seed in self.join:
            cmd += ["--join", seed]
        if self.service:
            cmd += ["--service", self.service]
        return cmd + self.extra

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        if self.running():
            self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Sends sig and waits for exit; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    def http(self, path, timeout=2):
        """(status, parsed JSON body) of GET path."""
        url = f"http://127.0.0.1:{self.http_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def json(self, path):
        status, body = self.http(path)
        if status != 200:
            raise ValueError(f"{self.name} {path}: HTTP {status}")
        return body

    def member_states(self):
        return {m["name"]: m["state"] for m in self.json("/members")["members"]}

    def ring(self):
        return self.json("/ring")

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""


def stop_all(agents, sig=signal.SIGKILL):
    for a in agents:
        try:
            a.stop(sig, timeout=5)
        except Exception:  # noqa: BLE001 - cleanup must go on
            pass
