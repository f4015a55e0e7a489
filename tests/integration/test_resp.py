"""Integration: the RESP server of real ringd agents, through real Redis clients.

redis-cli (interactive over stdin, and --pipe), redis-benchmark, python3-redis
(commands, pipelines, RESP over a Unix socket), HELLO 3, AUTH with
--requirepass-file, --resp-max-clients, --resp-timeout and the output cap;
SELECT over agents tagged with different services (--tag service=NAME).
Run with /usr/bin/python3 (Debian's python3-redis); RINGD_BIN names the binary.
"""
import os
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from procs import HOST, Agent, RunDir, import_redis, require_tool, wait_until  # noqa: E402

redis = import_redis()
SERVICE = "127.0.0.1:9001"
GET_REPLY = b"$14\r\n127.0.0.1:9001\r\n"  # GET of any key: the one endpoint on the ring


def raw(port, data, timeout=2.0, path=None):
    """Sends bytes on a fresh connection; returns everything read until the
    server closes or stays quiet for 0.3 s."""
    if path:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
    else:
        s = socket.create_connection((HOST, port), timeout=timeout)
    try:
        s.sendall(data)
        s.settimeout(0.3)
        got = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            got += chunk
        return got
    finally:
        s.close()


def closed_by_server(sock, timeout):
    """True once recv() sees EOF or a reset within `timeout` seconds."""
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


class RespTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.run_dir = RunDir("ringd-resp")
        cls.sock = cls.run_dir.sub("ringd.sock")
        cls.agent = Agent("r1", cls.run_dir, service=SERVICE, service_check="none",
                          extra_args=["--resp-unix", cls.sock, "--resp-threads", "2"]).start()
        pw = cls.run_dir.sub("password")
        with open(pw, "w") as f:
            f.write("s3cret\n")
        cls.locked = Agent("r2", cls.run_dir, service=SERVICE, service_check="none",
                           extra_args=["--requirepass-file", pw]).start()
        cls.limited = Agent("r3", cls.run_dir, service=SERVICE, service_check="none",
                            extra_args=["--resp-max-clients", "2", "--resp-timeout", "1",
                                        "--resp-max-output-buffer", "200000"]).start()
        for a in (cls.agent, cls.locked, cls.limited):
            a.wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.run_dir.cleanup()

    def transports(self):
        """(family, address) of the main agent's TCP listener and Unix socket."""
        return ((socket.AF_INET, (HOST, self.agent.resp_port)), (socket.AF_UNIX, self.sock))

    def client(self, **kw):
        return redis.Redis(host=HOST, port=self.agent.resp_port, socket_timeout=2,
                           decode_responses=True, **kw)

    # ---------------------------------------------------------------- redis-cli

    def test_redis_cli_interactive(self):
        cli = require_tool("redis-cli", "install redis-tools")
        script = "\n".join([
            "GET /documents/abc", "PING", "MGET a b", "DBSIZE", "RING.OWNERS k 3",
            "CLIENT SETNAME cli", "CLIENT GETNAME", "COMMAND COUNT", "HELLO 3", "GET x",
            "INFO ring", "NOSUCH"]) + "\n"
        out = subprocess.run([cli, "-p", str(self.agent.resp_port)], input=script,
                             capture_output=True, text=True, timeout=20)
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        self.assertEqual(lines[0], SERVICE)
        self.assertEqual(lines[1], "PONG")
        self.assertEqual(lines[2:4], [SERVICE, SERVICE])
        self.assertEqual(lines[4], "1")
        self.assertIn("cli", lines)
        self.assertIn("ring_nodes:1", out.stdout)
        errors = [l for l in lines if l.startswith("ERR")]
        self.assertEqual(len(errors), 1, out.stdout)  # NOSUCH only
        self.assertIn("unknown command 'NOSUCH'", errors[0])

    def test_redis_cli_pipe(self):
        cli = require_tool("redis-cli", "install redis-tools")
        data = "".join("*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len("k%d" % i), "k%d" % i)
                       for i in range(5000))
        out = subprocess.run([cli, "-p", str(self.agent.resp_port), "--pipe"], input=data,
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("errors: 0, replies: 5000", out.stdout)

    def test_big_pipeline_in_one_write(self):
        # 20,000 GETs (about 600 KB) written at once: the server's reads fill
        # its buffer many times over, and every one of them must be answered
        # (connections are edge-triggered: a full read is followed by another),
        # and a second client is served meanwhile.
        n = 20000
        data = b"".join(b"*2\r\n$3\r\nGET\r\n$6\r\nk%05d\r\n" % i for i in range(n))
        for family, address in self.transports():
            with self.subTest(family=family.name):
                with socket.socket(family, socket.SOCK_STREAM) as s:
                    s.settimeout(5)
                    s.connect(address)
                    other = self.client()
                    s.sendall(data)
                    self.assertTrue(other.ping())
                    want = n * len(GET_REPLY)
                    got = b""
                    while len(got) < want:
                        chunk = s.recv(1 << 20)
                        self.assertTrue(chunk, "closed after %d of %d bytes" % (len(got), want))
                        got += chunk
                self.assertEqual(got, GET_REPLY * n)

    def test_half_close_gets_replies_then_close(self):
        # A client that sends its commands and shuts its side (nc -N, a
        # script piping into a socket) gets every reply, then the server
        # closes: the end of input must not go unnoticed when it arrives
        # together with the last bytes. Small and buffer-filling inputs,
        # over TCP and the Unix socket, 30 times each to catch both orders.
        small = b"PING\r\n"
        big = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" * 3000  # about 60 KB
        for family, address in self.transports():
            for data, reply in ((small, b"+PONG\r\n"), (big, GET_REPLY * 3000)):
                for _ in range(30):
                    with self.subTest(family=family.name, size=len(data)), \
                            socket.socket(family, socket.SOCK_STREAM) as s:
                        s.settimeout(3)
                        s.connect(address)
                        s.sendall(data)
                        s.shutdown(socket.SHUT_WR)
                        got = b""
                        while True:
                            chunk = s.recv(1 << 20)  # socket.timeout here: the server never closed
                            if not chunk:
                                break
                            got += chunk
                        self.assertEqual(got, reply)

    def test_redis_benchmark(self):
        bench = require_tool("redis-benchmark", "install redis-tools")
        for target in (["-p", str(self.agent.resp_port)], ["-s", self.sock]):
            out = subprocess.run([bench] + target + ["-t", "get", "-n", "2000", "-c", "10",
                                                     "-r", "1000", "--csv"],
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn('"GET"', out.stdout)
            self.assertNotIn("ERR", out.stdout + out.stderr)

    # ----------------------------------------------------------- python3-redis

    def test_python_commands_and_pipeline(self):
        r = self.client()
        self.assertTrue(r.ping())
        self.assertEqual(r.get("/documents/abc"), SERVICE)
        self.assertEqual(r.mget(["a", "b", "c"]), [SERVICE] * 3)
        self.assertEqual(r.dbsize(), 1)
        self.assertEqual(r.execute_command("RING.OWNERS", "k", "2"), [SERVICE])
        self.assertEqual(len(r.execute_command("RING.CHECKSUM")), 16)
        self.assertEqual(r.execute_command("RING.CHECKSUM"), self.agent.ring()["checksum"])
        r.client_setname("py")
        self.assertEqual(r.client_getname(), "py")
        self.assertIsInstance(r.client_id(), int)
        info = r.info()
        self.assertEqual(info["ring_nodes"], 1)
        self.assertEqual(info["members"], 1)
        self.assertEqual(r.info("ring")["ring_checksum"], self.agent.ring()["checksum"])
        p = r.pipeline(transaction=False)
        for i in range(100):
            p.get("key%d" % i)
        p.ping()
        p.echo("hi")
        self.assertEqual(p.execute(), [SERVICE] * 100 + [True, "hi"])
        with self.assertRaises(redis.exceptions.ResponseError):
            r.execute_command("GET")

    def test_python_over_unix_socket(self):
        r = redis.Redis(unix_socket_path=self.sock, socket_timeout=2, decode_responses=True)
        self.assertEqual(r.get("x"), SERVICE)
        self.assertEqual(r.info("server")["unix_socket"], self.sock)

    def test_hello3_replies_resp3(self):
        got = raw(self.agent.resp_port, b"HELLO 3\r\nGET k\r\nMGET a\r\nCLIENT GETNAME\r\nHELLO 2\r\nCLIENT GETNAME\r\n")
        self.assertTrue(got.startswith(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n"), got)
        self.assertIn(b"$5\r\nproto\r\n:3\r\n", got)
        modules = b"$7\r\nmodules\r\n*0\r\n"
        after_hello = got[got.index(modules) + len(modules):]
        self.assertTrue(after_hello.startswith(
            b"$14\r\n127.0.0.1:9001\r\n*1\r\n$14\r\n127.0.0.1:9001\r\n_\r\n*14\r\n"), got)
        self.assertTrue(got.endswith(b"*0\r\n$-1\r\n"), got)  # RESP2 again: nil bulk

    # ------------------------------------------------------------------- AUTH

    def test_auth(self):
        port = self.locked.resp_port
        r = redis.Redis(host=HOST, port=port, socket_timeout=2, decode_responses=True)
        with self.assertRaises(redis.exceptions.AuthenticationError):
            r.get("k")
        ok = redis.Redis(host=HOST, port=port, password="s3cret", socket_timeout=2,
                         decode_responses=True)
        self.assertEqual(ok.get("k"), SERVICE)
        bad = redis.Redis(host=HOST, port=port, password="nope", socket_timeout=2)
        # WRONGPASS, as from Redis (redis-py 4.3 raises it as a ResponseError).
        with self.assertRaises((redis.exceptions.AuthenticationError, redis.exceptions.ResponseError)):
            bad.get("k")
        self.assertEqual(raw(port, b"*11\r\n"), b"-ERR Protocol error: unauthenticated multibulk length\r\n")
        self.assertEqual(raw(port, b"*1\r\n$20000\r\n"), b"-ERR Protocol error: unauthenticated bulk length\r\n")
        self.assertEqual(raw(port, b"AUTH s3cret\r\nGET k\r\n"), b"+OK\r\n$14\r\n127.0.0.1:9001\r\n")
        self.assertTrue(raw(port, b"HELLO 3 AUTH default s3cret\r\n").startswith(b"%7\r\n"))

    # ----------------------------------------------------------------- limits

    def test_max_clients_timeout_and_output_cap(self):
        port = self.limited.resp_port
        # Idle timeout: a silent client is closed after about a second.
        idle = socket.create_connection((HOST, port))
        t0 = time.monotonic()
        self.assertTrue(closed_by_server(idle, 5.0))
        self.assertLess(time.monotonic() - t0, 4.0)
        idle.close()
        # Max clients: 2 open, the third is refused with Redis's line.
        a = socket.create_connection((HOST, port))
        b = socket.create_connection((HOST, port))
        for s in (a, b):
            s.sendall(b"PING\r\n")
            s.settimeout(2)
            self.assertEqual(s.recv(100), b"+PONG\r\n")
        # Send nothing: unread input would turn the server's close into a reset.
        third = raw(port, b"")
        self.assertEqual(third, b"-ERR max number of clients reached\r\n")
        a.close()
        b.close()
        # Output cap: a client that writes and never reads is dropped.
        wait_until(lambda: redis.Redis(host=HOST, port=port, socket_timeout=1).ping(), 5,
                   "a free client slot")
        hog = socket.create_connection((HOST, port))
        hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        hog.settimeout(0.5)
        batch = b"INFO\r\n" * 2000
        dropped = False
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not dropped:
            try:
                hog.sendall(batch)
            except (socket.timeout, BlockingIOError):
                pass
            except (ConnectionResetError, BrokenPipeError):
                dropped = True
        hog.close()
        info = wait_until(lambda: redis.Redis(host=HOST, port=port, socket_timeout=1).info("stats"),
                          5, "INFO stats")
        self.assertGreaterEqual(info["client_output_buffer_limit_disconnections"], 1)
        self.assertGreaterEqual(info["rejected_connections"], 1)
        self.assertGreaterEqual(info["idle_timeout_disconnections"], 1)


class RespServicesTest(unittest.TestCase):
    """Three backends in two services and a router-only agent: SELECT n reads
    the ring of the n-th service (sorted names), 0 every endpoint."""

    API = "127.0.0.1:9201"
    SEARCH = ["127.0.0.1:9101", "127.0.0.1:9102"]

    @classmethod
    def setUpClass(cls):
        cls.run_dir = RunDir("ringd-resp-services")
        cls.search1 = Agent("search1", cls.run_dir, service=cls.SEARCH[0], service_check="none",
                            extra_args=["--tag", "service=search"]).start()
        seed = [cls.search1.gossip]
        cls.search2 = Agent("search2", cls.run_dir, join=seed, service=cls.SEARCH[1], service_check="none",
                            extra_args=["--tag", "service=search"]).start()
        cls.api = Agent("api1", cls.run_dir, join=seed, service=cls.API, service_check="none",
                        extra_args=["--tag", "service=api", "--tag", "weight=2"]).start()
        cls.router = Agent("router", cls.run_dir, join=seed).start()
        cls.agents = [cls.search1, cls.search2, cls.api, cls.router]
        for a in cls.agents:
            a.wait_ready()

        def converged():
            for a in cls.agents:
                services = a.ring()["services"]
                if [(s["name"], len(s["nodes"])) for s in services] != [("api", 1), ("search", 2)]:
                    return False
            return True
        wait_until(converged, 20, "every agent sees services api (1 node) and search (2 nodes)")

    @classmethod
    def tearDownClass(cls):
        cls.run_dir.cleanup()

    def test_every_agent_numbers_services_alike(self):
        for a in self.agents:
            self.assertEqual(a.redis().execute_command("RING.SERVICES"), ["api", "search"])
            self.assertEqual([(s["db"], s["name"]) for s in a.ring()["services"]],
                             [(1, "api"), (2, "search")])
        self.assertEqual(self.router.redis().config_get("databases"), {"databases": "3"})

    def test_keys_route_only_to_the_selected_service(self):
        keys = ["/doc/%d" % i for i in range(300)]
        ring = self.router.ring()
        for db, allowed in ((0, set(self.SEARCH + [self.API])), (1, {self.API}), (2, set(self.SEARCH))):
            # redis-py sends SELECT db on connect, as clients configured with a db do.
            r = redis.Redis(host=HOST, port=self.router.resp_port, db=db, socket_timeout=2,
                            decode_responses=True)
            got = r.mget(keys)
            self.assertEqual(set(got), allowed, "db %d" % db)  # only, and all, of its members
            self.assertEqual(r.get(keys[0]), got[0])
            self.assertEqual(r.dbsize(), len(allowed))
            owners = r.execute_command("RING.OWNERS", keys[0], "5")
            self.assertEqual(set(owners), allowed)
            self.assertEqual(owners[0], got[0])
            checksum = r.execute_command("RING.CHECKSUM")
            want = ring["checksum"] if db == 0 else ring["services"][db - 1]["checksum"]
            self.assertEqual(checksum, want)
            self.assertEqual(int(r.client_info()["db"]), db)
        # Same answers on a backend's agent: every agent has the same rings.
        r = redis.Redis(host=HOST, port=self.search1.resp_port, db=2, socket_timeout=2,
                        decode_responses=True)
        r2 = redis.Redis(host=HOST, port=self.router.resp_port, db=2, socket_timeout=2,
                         decode_responses=True)
        self.assertEqual(r.mget(keys), r2.mget(keys))

    def test_select_out_of_range_and_switching(self):
        port = self.router.resp_port
        got = raw(port, b"SELECT 3\r\nSELECT 1\r\nGET k\r\nSELECT 2\r\nDBSIZE\r\nSELECT 0\r\nDBSIZE\r\n"
                        b"SELECT 16\r\nDBSIZE\r\n")
        api = self.API.encode()
        self.assertEqual(got, b"-ERR DB index is out of range\r\n+OK\r\n$%d\r\n%s\r\n+OK\r\n:2\r\n+OK\r\n:3\r\n"
                              b"-ERR DB index is out of range\r\n:3\r\n" % (len(api), api))
        info = self.router.redis().info("ring")
        self.assertEqual(info["ring_services"], 2)
        self.assertEqual(info["db1"]["service"], "api")
        self.assertEqual(info["db2"]["nodes"], 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
