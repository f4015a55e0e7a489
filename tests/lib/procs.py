"""Process helpers for tests that run real ringd agents, backends and nginx.

Everything listens on 127.0.0.1, writes its output to a log file in a run
directory, and is stopped by PID. Nothing here sleeps to synchronise: use
wait_until() with a deadline.

    from procs import RunDir, Agent, Backend, Nginx, free_port, wait_until

    run = RunDir("mytest")                       # unique temp dir
    a = Agent("n1", run, service="127.0.0.1:%d" % port)
    a.start(); a.wait_ready()
    a.http_json("/members")
    a.stop()                                     # SIGTERM = graceful leave
    run.stop_all()                               # in tearDown/finally

Binary and source tree come from RINGD_BIN / RINGD_SRC (see ringd_bin(),
ringd_src()). Run with /usr/bin/python3 (python3-redis lives there).
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"

# --------------------------------------------------------------------------
# locations


def ringd_src():
    """The source tree: $RINGD_SRC, else two levels above this file."""
    src = os.environ.get("RINGD_SRC")
    if src:
        return os.path.abspath(src)
    return os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def ringd_bin():
    """The ringd binary: $RINGD_BIN, else <src>/build/ringd."""
    path = os.environ.get("RINGD_BIN") or os.path.join(ringd_src(), "build", "ringd")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise RuntimeError("ringd binary not found or not executable: %s "
                           "(build it, or set RINGD_BIN)" % path)
    return path


def require_tool(name, hint):
    """Absolute path of an executable, or a RuntimeError naming the fix."""
    path = shutil.which(name) or next(
        (p for p in ("/usr/sbin/" + name, "/usr/bin/" + name) if os.access(p, os.X_OK)),
        None)
    if not path:
        raise RuntimeError("%s not found: %s" % (name, hint))
    return path


# --------------------------------------------------------------------------
# ports and waiting

_handed_out = set()


def free_port(udp_too=False):
    """A loopback port that is free now (TCP; also UDP when udp_too).

    The port is found by binding to port 0, so another process may still
    take it before we use it; ports handed out earlier in this process are
    never handed out again, so helpers of one test do not collide.
    """
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if port in _handed_out:
            continue
        if udp_too:
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                    u.bind((HOST, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free port found")


class WaitTimeout(AssertionError):
    pass


def wait_until(pred, timeout, what, interval=0.05):
    """Polls pred() until it returns something truthy and returns that.

    Exceptions from pred count as "not yet" (e.g. connection refused); the
    last one is included in the WaitTimeout raised after `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    last_exc = None
    last_val = None
    while True:
        try:
            last_val = pred()
            if last_val:
                return last_val
        except Exception as exc:  # noqa: BLE001 - "not ready yet"
            last_exc = exc
        if time.monotonic() >= deadline:
            detail = ""
            if last_exc is not None:
                detail = "; last error: %r" % (last_exc,)
            elif last_val is not None:
                detail = "; last value: %r" % (last_val,)
            raise WaitTimeout("timed out after %.1fs waiting for %s%s"
                              % (timeout, what, detail))
        time.sleep(interval)


def port_open(port, host=HOST, timeout=0.2):
    """True if a TCP connect to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_get(port, path, host=HOST, timeout=2.0):
    """One GET on a fresh connection: (status, headers dict lower-cased, body bytes)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


class HttpClient:
    """A keepalive HTTP/1.1 client for many requests to one server."""

    def __init__(self, port, host=HOST, timeout=5.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.conn = None

    def get(self, path):
        """(status, headers dict lower-cased, body bytes); reconnects once."""
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port,
                                                       timeout=self.timeout)
            try:
                self.conn.request("GET", path)
                resp = self.conn.getresponse()
                body = resp.read()
                headers = {k.lower(): v for k, v in resp.getheaders()}
                if resp.will_close:
                    self.close()
                return resp.status, headers, body
            except (http.client.HTTPException, ConnectionError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# --------------------------------------------------------------------------
# processes


class RunDir:
    """A unique temporary directory plus the processes started in it.

    stop_all() stops every process registered here (newest first) and is
    safe to call more than once. The directory is removed by cleanup()
    unless KEEP_RUNDIR=1 is set (handy for reading logs after a failure).
    """

    def __init__(self, prefix="ringd-test"):
        self.path = tempfile.mkdtemp(prefix=prefix + ".")
        self.procs = []

    def sub(self, *parts):
        p = os.path.join(self.path, *parts)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def register(self, proc):
        self.procs.append(proc)
        return proc

    def stop_all(self):
        errors = []
        for proc in reversed(self.procs):
            try:
                proc.stop()
            except Exception as exc:  # noqa: BLE001 - keep stopping the rest
                errors.append("%s: %r" % (proc.name, exc))
        return errors

    def cleanup(self):
        self.stop_all()
        if os.environ.get("KEEP_RUNDIR") != "1":
            shutil.rmtree(self.path, ignore_errors=True)


class Proc:
    """One child process, its own session, output in <rundir>/<name>.log."""

    def __init__(self, name, rundir, argv):
        self.name = name
        self.rundir = rundir
        self.argv = list(argv)
        self.log_path = rundir.sub(name + ".log")
        self.popen = None
        rundir.register(self)

    @property
    def pid(self):
        return self.popen.pid if self.popen else None

    def start(self):
        if self.alive():
            raise RuntimeError("%s already running (pid %d)" % (self.name, self.pid))
        log = open(self.log_path, "ab")
        try:
            self.popen = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        return self

    def alive(self):
        return self.popen is not None and self.popen.poll() is None

    def send_signal(self, sig):
        if self.alive():
            os.kill(self.popen.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Sends sig to the PID and waits; SIGKILL after timeout. Returns the exit code."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            try:
                os.kill(self.popen.pid, sig)
            except ProcessLookupError:
                pass  # exited just now; wait() below reaps it
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        return self.popen.returncode

    def kill(self):
        """SIGKILL: no goodbye (a crashed host)."""
        return self.stop(signal.SIGKILL)

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return "\n".join(data[-lines:])

    def check_alive(self):
        if not self.alive():
            code = self.popen.returncode if self.popen else None
            raise AssertionError("%s exited (code %s); log tail:\n%s"
                                 % (self.name, code, self.log_tail()))


class Agent(Proc):
    """A `ringd agent` on loopback with freshly picked ports.

    join: list of "ip:port" gossip seeds (other agents' .gossip).
    service: "ip:port" this host advertises, or None for a router-only agent.
    service_check: --service-check (tcp, http:/PATH, none), or None for the
    agent's default (tcp): a service nothing listens on stays off the ring
    unless this is "none".
    """

    def __init__(self, name, rundir, join=(), service=None, binary=None,
                 gossip_port=None, resp_port=None, http_port=None,
                 log_level="info", extra_args=(), service_check=None):
        self.gossip_port = gossip_port or free_port(udp_too=True)
        self.resp_port = resp_port or free_port()
        self.http_port = http_port or free_port()
        self.service = service
        self.join = list(join)
        argv = [binary or ringd_bin(), "agent",
                "--node", name,
                "--bind", self.gossip,
                "--resp", "%s:%d" % (HOST, self.resp_port),
                "--http", "%s:%d" % (HOST, self.http_port),
                "--log-level", log_level]
        for seed in self.join:
            argv += ["--join", seed]
        if service:
            argv += ["--service", service]
        if service_check:
            argv += ["--service-check", service_check]
        argv += list(extra_args)
        super().__init__(name, rundir, argv)

    @property
    def gossip(self):
        return "%s:%d" % (HOST, self.gossip_port)

    @property
    def resp(self):
        return "%s:%d" % (HOST, self.resp_port)

    def http(self, path, timeout=2.0):
        """(status, headers, body bytes) of a GET on the agent's HTTP API."""
        return http_get(self.http_port, path, timeout=timeout)

    def http_json(self, path, timeout=2.0):
        status, _, body = self.http(path, timeout)
        if status != 200:
            raise AssertionError("%s GET %s -> %d %r" % (self.name, path, status, body[:200]))
        return json.loads(body)

    def members(self):
        """{name: member dict} from /members."""
        return {m["name"]: m for m in self.http_json("/members")["members"]}

    def ring(self):
        return self.http_json("/ring")

    def lookup(self, key):
        return self.http_json("/lookup?key=" + _quote(key))["node"]

    def redis(self):
        """A redis-py client on the agent's RESP port (python3-redis)."""
        return import_redis().Redis(host=HOST, port=self.resp_port, socket_timeout=2,
                           decode_responses=True)

    def wait_ready(self, timeout=20.0):
        """Until /health is 200 and the RESP port accepts connections."""
        def ready():
            self.check_alive()
            return self.http("/health", timeout=0.5)[0] == 200 and port_open(self.resp_port)
        return wait_until(ready, timeout, "agent %s ready (/health 200, RESP open)" % self.name)


def import_redis():
    """Debian's python3-redis, with a clear error when it is not there."""
    try:
        import redis
    except ImportError as exc:
        raise RuntimeError("python module 'redis' not importable (%s): install python3-redis "
                           "and run the tests with /usr/bin/python3, not %s"
                           % (exc, os.path.realpath(sys.executable))) from exc
    return redis


def _quote(s):
    from urllib.parse import quote
    return quote(s, safe="")


class Backend(Proc):
    """deploy/backend.py: answers {"backend": name, "path": ...}."""

    def __init__(self, name, rundir, port=None, src=None):
        self.port = port or free_port()
        script = os.path.join(src or ringd_src(), "deploy", "backend.py")
        super().__init__(name, rundir, ["/usr/bin/python3", script,
                                        "--name", name, "--listen", self.address])

    @property
    def address(self):
        return "%s:%d" % (HOST, self.port)

    def wait_ready(self, timeout=10.0):
        def ready():
            self.check_alive()
            return port_open(self.port)
        return wait_until(ready, timeout, "backend %s listening" % self.name)


class Nginx(Proc):
    """Stock nginx with the deploy/nginx config, in its own run directory.

    Rendered by deploy/nginx/render.sh (lookup: "snapshot" or "resp";
    None = render.sh's default, snapshot); runs in the foreground
    (daemon off), so self.pid is the master. stop() sends SIGTERM (fast
    shutdown: the master takes its workers down).
    """

    def __init__(self, name, rundir, agent_resp, port=None, workers=2, src=None,
                 lookup=None):
        self.nginx = require_tool(
            "nginx", "install nginx and libnginx-mod-http-lua (deploy/install-deps.sh)")
        for mod in ("ndk_http_module.so", "ngx_http_lua_module.so"):
            if not os.path.exists("/usr/lib/nginx/modules/" + mod):
                raise RuntimeError("/usr/lib/nginx/modules/%s missing: install "
                                   "libnginx-mod-http-lua (deploy/install-deps.sh)" % mod)
        self.port = port or free_port()
        self.dir = os.path.join(rundir.path, name)
        os.makedirs(self.dir, exist_ok=True)
        src = src or ringd_src()
        render = os.path.join(src, "deploy", "nginx", "render.sh")
        out = subprocess.run(
            [render, "--rundir", self.dir, "--listen", "%s:%d" % (HOST, self.port),
             "--agent", agent_resp, "--workers", str(workers)]
            + (["--lookup", lookup] if lookup else []),
            capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise RuntimeError("render.sh failed: %s%s" % (out.stdout, out.stderr))
        self.conf = os.path.join(self.dir, "nginx.conf")
        self.error_log = os.path.join(self.dir, "logs", "error.log")
        super().__init__(name, rundir, [
            self.nginx, "-p", self.dir, "-c", self.conf, "-e", self.error_log,
            "-g", "daemon off;"])

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        pid = self.pid
        code = super().stop(sig, timeout)
        if pid is not None and code == -signal.SIGKILL:
            # Workers exit with a master that stops normally; after a SIGKILL
            # they would linger. They share the session we created (pgid == pid).
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        return code

    def test_config(self):
        out = subprocess.run([self.nginx, "-t", "-q", "-p", self.dir, "-c", self.conf,
                              "-e", self.error_log], capture_output=True, text=True,
                             timeout=30)
        if out.returncode != 0:
            raise AssertionError("nginx -t failed:\n%s%s" % (out.stdout, out.stderr))

    def wait_ready(self, timeout=10.0):
        def ready():
            if not self.alive():
                raise AssertionError("nginx exited (code %s); error log:\n%s\n%s"
                                     % (self.popen.returncode, self.log_tail(),
                                        self.error_log_tail()))
            return http_get(self.port, "/nginx-health", timeout=0.5)[0] == 200
        return wait_until(ready, timeout, "nginx answering on port %d" % self.port)

    def error_log_tail(self, lines=30):
        try:
            with open(self.error_log, "rb") as f:
                return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-lines:])
        except OSError:
            return ""

    def client(self):
        return HttpClient(self.port)


class RedisServer(Proc):
    """redis-server on loopback, no persistence: a stand-in ringd agent for
    testing the nginx/Lua side alone (SET /documents/x "ip:port")."""

    def __init__(self, name, rundir, port=None):
        self.port = port or free_port()
        binary = require_tool("redis-server", "install redis-server (deploy/install-deps.sh)")
        super().__init__(name, rundir, [
            binary, "--bind", HOST, "--port", str(self.port), "--save", "",
            "--appendonly", "no", "--daemonize", "no", "--dir", rundir.path])

    @property
    def address(self):
        return "%s:%d" % (HOST, self.port)

    def client(self):
        return import_redis().Redis(host=HOST, port=self.port, socket_timeout=2,
                           decode_responses=True)

    def wait_ready(self, timeout=10.0):
        def ready():
            self.check_alive()
            return self.client().ping()
        return wait_until(ready, timeout, "redis-server %s ready" % self.name)
