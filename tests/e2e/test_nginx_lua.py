#!/usr/bin/python3
"""The nginx side of ringd alone: deploy/nginx config + Lua in --lookup resp
mode against a redis-server that plays the agent (SET /documents/k
"127.0.0.1:PORT").

Checks what nginx does with each kind of agent answer, independently of the
ringd binary: routing and the X-Ringd-Backend header, the key (raw path, no
query), upstream and agent keepalive, 503 for agent down / frozen / empty
ring, 502 for a dead backend, and a readable error log.

    /usr/bin/python3 tests/e2e/test_nginx_lua.py [-v]
"""

import os
import re
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from procs import (Backend, HttpClient, Nginx, RedisServer, RunDir,  # noqa: E402
                   free_port, http_get, port_open, wait_until)


class NginxLuaTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.rundir = RunDir("ringd-e2e-lua")
        try:
            cls.redis = RedisServer("agent-redis", cls.rundir)
            cls.redis.start()
            cls.b1 = Backend("b1", cls.rundir).start()
            cls.b2 = Backend("b2", cls.rundir).start()
            cls.dead_port = free_port()  # nothing listens here
            # Per-request RESP lookups (redis-server has no RING.DUMP).
            cls.nginx = Nginx("nginx", cls.rundir, cls.redis.address, lookup="resp")
            cls.nginx.test_config()
            cls.nginx.start()
            for p in (cls.redis, cls.b1, cls.b2, cls.nginx):
                p.wait_ready()
        except BaseException:
            cls.rundir.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.rundir.cleanup()

    def setUp(self):
        # A test may have restarted redis; make sure it runs, then reset keys.
        if not self.redis.alive():
            self.redis.start()
        self.redis.send_signal(signal.SIGCONT)
        self.redis.wait_ready()
        self.r = self.redis.client()
        self.r.flushall()
        self.http = self.nginx.client()

    def tearDown(self):
        self.http.close()

    def assign(self, key, backend):
        self.r.set(key, backend if isinstance(backend, str) else backend.address)

    # ------------------------------------------------------------------

    def test_routes_to_the_agents_answer(self):
        self.assign("/documents/one", self.b1)
        self.assign("/documents/two", self.b2)
        for path, backend in (("/documents/one", self.b1), ("/documents/two", self.b2)):
            status, headers, body = self.http.get(path)
            self.assertEqual(status, 200, body)
            self.assertEqual(headers["x-backend"], backend.name)
            self.assertEqual(headers["x-ringd-backend"], backend.address)
            self.assertIn(b'"path": "%s"' % path.encode(), body)

    def test_key_is_raw_path_without_query_and_uri_passes_unchanged(self):
        self.assign("/documents/q", self.b1)
        self.assign("/documents/a%20b", self.b2)     # raw bytes, not decoded
        self.assign("/documents/a b", self.b1)       # decoded form: must not be used
        self.assign("/documents/x%2Fy/../z", self.b2)
        cases = [
            ("/documents/q?x=1&y=%2F", self.b1),
            ("/documents/q", self.b1),
            ("/documents/a%20b", self.b2),
            ("/documents/x%2Fy/../z", self.b2),
        ]
        for path, backend in cases:
            with self.subTest(path=path):
                status, headers, body = self.http.get(path)
                self.assertEqual(status, 200, body)
                self.assertEqual(headers["x-backend"], backend.name)
                # The backend sees exactly the bytes the client sent.
                self.assertIn(b'"path": "%s"' % path.encode(), body)

    def test_no_backend_is_503(self):
        status, headers, body = self.http.get("/documents/unassigned")
        self.assertEqual(status, 503)
        self.assertEqual(body, b"no backend\n")
        self.assertEqual(headers["x-ringd-error"], "no-backend")
        self.assertNotIn("x-ringd-backend", headers)

    def test_backend_refusing_is_502_with_backend_header(self):
        dead = "127.0.0.1:%d" % self.dead_port
        self.assign("/documents/dead", dead)
        status, headers, body = self.http.get("/documents/dead")
        self.assertEqual(status, 502)
        self.assertEqual(headers["x-ringd-backend"], dead)
        self.assertEqual(headers["x-ringd-error"], "backend-unreachable")
        self.assertEqual(body, ("backend %s unreachable\n" % dead).encode())

    def test_bad_agent_answer_is_503(self):
        self.assign("/documents/garbage", "not-an-endpoint")
        status, headers, _ = self.http.get("/documents/garbage")
        self.assertEqual(status, 503)
        self.assertEqual(headers["x-ringd-error"], "agent-bad-reply")

    def test_other_paths_are_404_without_agent_lookup(self):
        status, _, _ = self.http.get("/elsewhere")
        self.assertEqual(status, 404)

    def test_connections_to_backend_and_agent_are_kept_alive(self):
        self.assign("/documents/k1", self.b1)
        self.assign("/documents/k2", self.b2)
        before = int(self.r.info("stats")["total_connections_received"])
        clients, per_client, conns, failures = 4, 100, set(), []
        lock = threading.Lock()

        def worker(i):
            c = HttpClient(self.nginx.port)
            try:
                for j in range(per_client):
                    status, headers, body = c.get("/documents/k%d" % (1 + j % 2))
                    with lock:
                        if status != 200:
                            failures.append((status, body))
                        conns.add((headers.get("x-backend"), headers.get("x-backend-conn")))
            finally:
                c.close()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        self.assertEqual(failures, [])
        # 400 requests; without upstream keepalive there would be ~400
        # backend connections. Bound: workers x concurrency per backend,
        # plus slack for connections recycled at nginx worker start.
        self.assertLessEqual(len(conns), 2 * 2 * clients, sorted(conns))
        # Same for the agent: ~400 lookups over a handful of connections
        # (this test's redis client is one of them).
        after = int(self.r.info("stats")["total_connections_received"])
        self.assertLessEqual(after - before, 2 * clients + 2)

    def test_agent_frozen_is_fast_503(self):
        self.assign("/documents/f", self.b1)
        self.assertEqual(self.http.get("/documents/f")[0], 200)
        self.redis.send_signal(signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            status, headers, body = self.http.get("/documents/f")
            elapsed = time.monotonic() - t0
        finally:
            self.redis.send_signal(signal.SIGCONT)
        self.assertEqual(status, 503, body)
        self.assertEqual(headers["x-ringd-error"], "agent-timeout")
        self.assertLess(elapsed, 1.0, "read timeout should be tens of ms")

    def test_agent_down_is_503_then_restart_recovers_without_errors(self):
        self.assign("/documents/d", self.b1)
        # Fill the agent keepalive pools of both workers.
        for _ in range(20):
            self.assertEqual(http_get(self.nginx.port, "/documents/d")[0], 200)
        log_start = os.path.getsize(self.nginx.error_log)
        self.redis.stop()
        for _ in range(30):
            status, headers, body = http_get(self.nginx.port, "/documents/d")
            self.assertEqual(status, 503)
            self.assertEqual(headers["x-ringd-error"], "agent-unreachable")
            self.assertEqual(body, b"ringd agent unreachable\n")
        # Our own log line, rate limited: at most one per worker here, and
        # none of the per-request cosocket errors.
        with open(self.nginx.error_log, "rb") as f:
            f.seek(log_start)
            log = f.read().decode("utf-8", "replace")
        ours = re.findall(r"ringd: agent unreachable", log)
        self.assertGreaterEqual(len(ours), 1)
        self.assertLessEqual(len(ours), 2, log[-2000:])
        self.assertNotIn("lua tcp socket connect", log)

        # Pools refilled against a fresh agent, then the agent restarts:
        # stale pooled connections are retried, no request fails.
        self.redis.start()
        self.redis.wait_ready()
        self.r = self.redis.client()
        self.assign("/documents/d", self.b1)
        for _ in range(20):
            self.assertEqual(http_get(self.nginx.port, "/documents/d")[0], 200)
        port = self.redis.port
        self.redis.stop()
        wait_until(lambda: not port_open(port), 5, "redis port closed")
        self.redis.start()
        self.redis.wait_ready()
        self.r = self.redis.client()
        self.assign("/documents/d", self.b1)
        statuses = [http_get(self.nginx.port, "/documents/d")[0] for _ in range(20)]
        self.assertEqual(statuses, [200] * 20)


if __name__ == "__main__":
    unittest.main()
