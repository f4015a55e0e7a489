#!/usr/bin/python3
"""End to end: real nginx with the deploy/nginx config in front of real ringd
agents, on loopback.

Cluster per test: three backend hosts (deploy/backend.py + a ringd agent with
--service pointing at it) and one nginx host (a router-only agent + nginx
routing with it). Every test runs twice: RingdNginxTest with the default
--lookup snapshot (the ring inside nginx), RingdNginxRespTest with --lookup
resp (one RESP GET per request). 500 keys go through nginx:

  * every key lands on the same backend every time, and that backend is what
    the agent itself answers for the key (RESP GET via python3-redis, and
    /lookup on another agent);
  * SIGKILL one backend host (agent + backend): once the ring drops it, its
    keys move to the survivors and every other key stays where it was; the
    same for a graceful leave (SIGTERM);
  * nginx keeps its connections to the agent and to the backends alive;
  * router agent down -> resp: 503; snapshot: routing goes on with
    X-Ringd-Stale: 1;
  * a backend's HTTP server down while its agent lives -> its keys go to
    their next owner (GET; resp mode learns it from RING.OWNERS), POST is 502.

tests/e2e/test_nginx_snapshot.py has the snapshot mode's own tests.

    RINGD_BIN=build/ringd /usr/bin/python3 tests/e2e/test_nginx.py -v
    (or: ctest --test-dir build -R e2e_nginx --output-on-failure)

RINGD_BIN defaults to <src>/build/ringd, RINGD_SRC to this checkout.
KEEP_RUNDIR=1 keeps the run directory (logs of every process) after the run.
"""

import http.client
import json
import os
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from procs import HttpClient, RunDir, http_get, wait_until  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_cluster import Cluster, ClusterTestMixin, keep_dead_services_args, log  # noqa: E402

NUM_KEYS = 500
FAILURE_TIMEOUT = 60.0    # SIGKILLed host dropped from every ring
LEAVE_TIMEOUT = 15.0      # gracefully departed host dropped from every ring


def make_keys(n=NUM_KEYS):
    """Request paths; a few carry a query string, which is not part of the
    key (the key is the raw path, see deploy/nginx/lua/ringd/route.lua)."""
    paths = []
    for i in range(n):
        if i % 10 == 0:
            paths.append("/documents/user-%d/report.pdf?version=%d" % (i, i % 3))
        elif i % 10 == 1:
            paths.append("/documents/dir%%20%d/file-%d" % (i % 7, i))
        else:
            paths.append("/documents/doc-%05d" % i)
    return paths


def key_of(path):
    return path.split("?", 1)[0]


class RingdNginxTest(ClusterTestMixin, unittest.TestCase):
    LOOKUP = "snapshot"
    AGENT_UNIX = False  # nginx -> agent over the agent's --resp-unix socket

    def setUp(self):
        self.rundir = RunDir("ringd-e2e")
        try:
            # Agents with service health checks would drop a stopped backend
            # from the ring; test_backend_down_* needs it kept.
            self.cluster = Cluster(self.rundir, lookup=self.LOOKUP,
                                   agent_args=keep_dead_services_args(),
                                   agent_unix=self.AGENT_UNIX)
            self.cluster.start()
            self.wait_nginx_ring(self.cluster.router.ring()["checksum"])
        except BaseException:
            self.dump_logs()
            self.rundir.cleanup()
            raise
        self.http = self.cluster.nginx.client()
        self.keys = make_keys()

    def tearDown(self):
        self.http.close()
        self.stop_cluster()


    # ------------------------------------------------------------------
    # helpers

    def wait_nginx_ring(self, checksum):
        """Snapshot mode: until every nginx worker routes with this ring."""
        if self.LOOKUP != "snapshot":
            return

        def applied():
            status, _, body = http_get(self.cluster.nginx.port, "/ringd/ring")
            workers = json.loads(body)["workers"].values()
            return status == 200 and all(w and w.split()[0] == checksum for w in workers)

        wait_until(applied, 5, "nginx workers on ring %s" % checksum, interval=0.02)

    def route(self, path):
        """(status, backend name or None, headers, body) of one request via nginx."""
        status, headers, body = self.http.get(path)
        return status, headers.get("x-backend"), headers, body

    def route_all(self, paths):
        """{path: service ip:port} for keys that must all answer 200."""
        out = {}
        for path in paths:
            status, name, headers, body = self.route(path)
            self.assertEqual(status, 200, "%s -> %d %r" % (path, status, body[:200]))
            service = headers["x-ringd-backend"]
            backend, _ = self.cluster.by_service[service]
            # nginx proxied to the backend it announced, with the URI unchanged.
            self.assertEqual(name, backend.name, path)
            self.assertIn(b'"path": "%s"' % path.encode(), body)
            out[path] = service
        return out

    # ------------------------------------------------------------------

    def test_same_key_same_backend_and_matches_agent(self):
        first = self.route_all(self.keys)
        second = self.route_all(self.keys)
        self.assertEqual(first, second, "a key changed backend between two passes")

        # nginx routed exactly where the agent says: the router agent over
        # RESP (what nginx asked) ...
        r = self.cluster.router.redis()
        for path, service in first.items():
            self.assertEqual(r.get(key_of(path)), service, path)
        # ... and another agent over HTTP agrees (same ring everywhere).
        other = self.cluster.hosts[0][1]
        for path in self.keys[:100]:
            self.assertEqual(other.lookup(key_of(path)), first[path], path)

        # All three backends serve a fair share (160 points each: ~167 keys).
        counts = {s: list(first.values()).count(s) for s in self.cluster.by_service}
        log("keys per backend: %s" % counts)
        for service, n in counts.items():
            self.assertGreater(n, NUM_KEYS // 10, counts)

    def take_down_host_and_check_moves(self, index, agent_signal, timeout, how):
        """Stops host `index` (agent with agent_signal, backend with SIGTERM),
        waits until every remaining ring drops it, then checks that exactly
        its keys moved, to survivors, stably, as the agent says."""
        before = self.route_all(self.keys)
        victim_backend, victim_agent = self.cluster.hosts[index]
        victim = victim_backend.address
        survivors = [(b, a) for b, a in self.cluster.hosts if b is not victim_backend]
        on_victim = [p for p, s in before.items() if s == victim]
        self.assertTrue(on_victim, "the victim owned no keys")

        t0 = time.monotonic()
        victim_agent.stop(agent_signal)
        victim_backend.stop(signal.SIGTERM)
        live_agents = [a for _, a in survivors] + [self.cluster.router]
        checksum = self.cluster.wait_converged(live_agents, [b.address for b, _ in survivors],
                                               timeout, "the %s host to leave every ring" % how)
        self.wait_nginx_ring(checksum)
        log("%s host dropped from all rings after %.2fs" % (how, time.monotonic() - t0))

        after = self.route_all(self.keys)
        moved = {p for p in self.keys if after[p] != before[p]}
        self.assertEqual(moved, set(on_victim), "exactly the departed host's keys must move")
        for path in on_victim:
            self.assertIn(after[path], {b.address for b, _ in survivors})
        log("%d of %d keys moved, all from the %s host" % (len(moved), len(self.keys), how))

        # The new placement is stable and agrees with the agent.
        r = self.cluster.router.redis()
        for path in self.keys[:100]:
            self.assertEqual(r.get(key_of(path)), after[path], path)
        self.assertEqual(self.route_all(self.keys[:100]),
                         {p: after[p] for p in self.keys[:100]})

    def test_sigkill_backend_host_moves_only_its_keys(self):
        self.take_down_host_and_check_moves(1, signal.SIGKILL, FAILURE_TIMEOUT, "SIGKILLed")

    def test_graceful_leave_moves_only_its_keys(self):
        self.take_down_host_and_check_moves(2, signal.SIGTERM, LEAVE_TIMEOUT, "departed (SIGTERM)")

    def test_connections_to_agent_and_backends_are_kept_alive(self):
        def resp_stats():
            return self.cluster.router.http_json("/metrics.json")["resp"]

        before = resp_stats()
        conns = {}
        for path in self.keys:
            status, name, headers, _ = self.route(path)
            self.assertEqual(status, 200, path)
            conns.setdefault(name, set()).add(headers["x-backend-conn"])
        after = resp_stats()
        # 500 lookups over one client connection (so one nginx worker): one
        # pooled RESP connection, one upstream connection per backend.
        # Snapshot mode asks the agent only RING.CHECKSUM, on its pooled
        # connections, not per request.
        if self.LOOKUP == "resp":
            self.assertGreaterEqual(after["commands"] - before["commands"], len(self.keys))
        self.assertLessEqual(after["connections_accepted"] - before["connections_accepted"], 2,
                             (before, after))
        for name, ids in conns.items():
            self.assertLessEqual(len(ids), 2, "%s saw connections %s" % (name, sorted(ids)))

    def test_concurrent_clients_agree(self):
        """16 keepalive clients at once (more than one RESP connection per
        worker): every request answered, every key on its one backend."""
        expected = self.route_all(self.keys)
        problems, lock = [], threading.Lock()

        def client(i):
            c = HttpClient(self.cluster.nginx.port)
            try:
                for path in self.keys[i::16]:
                    for _ in range(3):
                        status, headers, _ = c.get(path)
                        got = headers.get("x-ringd-backend")
                        if status != 200 or got != expected[path]:
                            with lock:
                                problems.append((path, status, got, expected[path]))
            finally:
                c.close()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertFalse(any(t.is_alive() for t in threads), "clients still running")
        self.assertEqual(problems[:10], [])

    def test_router_agent_unreachable(self):
        """Snapshot: the last ring keeps routing, marked stale."""
        before = self.route_all(self.keys[:50])
        self.cluster.router.kill()
        for path in self.keys[:50]:
            status, _, headers, body = self.route(path)
            self.assertEqual(status, 200, path)
            self.assertEqual(headers.get("x-ringd-backend"), before[path])
        wait_until(lambda: self.route(self.keys[0])[2].get("x-ringd-stale") == "1", 2,
                   "X-Ringd-Stale: 1")

    def test_backend_down_with_agent_alive(self):
        """GETs for the dead backend's keys go to the next owner (both
        modes); a POST is not retried elsewhere (502)."""
        before = self.route_all(self.keys[:100])
        down_backend, down_agent = self.cluster.hosts[0]
        down_backend.stop(signal.SIGTERM)
        down = down_backend.address
        r = self.cluster.router.redis()
        self.assertTrue(any(s == down for s in before.values()))
        for path, service in before.items():
            status, name, headers, body = self.route(path)
            self.assertEqual(status, 200, path)
            if service == down:
                self.assertEqual(headers["x-ringd-backend"],
                                 r.execute_command("RING.OWNERS", key_of(path), 3)[1], path)
            else:
                self.assertEqual(headers["x-ringd-backend"], service, path)
        path = next(p for p, s in before.items() if s == down)
        status, headers, body = self.post(path)
        self.assertEqual(status, 502, body)
        self.assertEqual(headers.get("x-ringd-backend"), down)
        down_agent.check_alive()  # the agent kept running: ring unchanged
        self.assertIn(down, self.cluster.router.ring()["nodes"])

    def post(self, path):
        conn = http.client.HTTPConnection("127.0.0.1", self.cluster.nginx.port, timeout=5)
        try:
            conn.request("POST", path, body=b"x=1")
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()


class RingdNginxRespTest(RingdNginxTest):
    LOOKUP = "resp"

    def test_router_agent_unreachable(self):
        """RESP: no agent, no answer: 503."""
        self.route_all(self.keys[:10])
        self.cluster.router.kill()
        for path in self.keys[:20]:
            status, _, headers, body = self.route(path)
            self.assertEqual(status, 503, path)
            self.assertEqual(headers.get("x-ringd-error"), "agent-unreachable")
            self.assertEqual(body, b"ringd agent unreachable\n")
            self.assertNotIn("x-ringd-backend", headers)


class RingdNginxRespUnixTest(RingdNginxRespTest):
    """--lookup resp over the agent's Unix socket (render.sh --agent
    unix:/PATH): every test of the TCP form holds."""
    AGENT_UNIX = True


class RingdNginxSnapshotUnixTest(RingdNginxTest):
    """--lookup snapshot polling the agent over its Unix socket."""
    AGENT_UNIX = True


if __name__ == "__main__":
    unittest.main()

