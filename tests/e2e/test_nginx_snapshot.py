#!/usr/bin/python3
"""End to end, snapshot mode (render.sh --lookup snapshot, the default):
nginx workers hold the router agent's ring and route without asking it.
Real nginx, real ringd agents, real backends, on loopback.

  * for 100,000 keys, the owners nginx finds (POST /ringd/owners) are the
    agent's (RESP RING.OWNERS key 3: owner and failover order), in each
    --ring mode: default, maglev, nginx, ketama, multiprobe; requests go there;
  * a ring change (a backend host joins, leaves, joins again) is in use in
    every nginx worker within 100 ms of the router agent's /ring checksum
    changing (MEASURED lines);
  * router agent SIGSTOPped, then SIGKILLed: requests keep being served on
    the last ring with X-Ringd-Stale: 1, one log line each way; agent back
    (SIGCONT, restart) -> the header goes away and the agent's ring is used;
  * failover: a killed backend process (agent alive) -> its keys go to their
    next owner, 0 GET errors; a POST is not retried (502); an owner whose
    connects time out -> the next owner after proxy_connect_timeout;
  * no ring yet (agent not up when nginx starts): 503 with a one-line body,
    then routing as soon as the agent is up.

    RINGD_BIN=build/ringd /usr/bin/python3 tests/e2e/test_nginx_snapshot.py -v
"""

import json
import os
import random
import re
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from procs import HttpClient, RunDir, http_get, port_open, wait_until  # noqa: E402
from e2e_cluster import Cluster, ClusterTestMixin, keep_dead_services_args, log  # noqa: E402

NUM_KEYS = 100_000
PROPAGATION_BOUND = 0.100  # s: agent publishes -> every nginx worker uses it


def make_keys(n, seed=12):
    """Request-path keys of varied shapes and lengths, some with bytes a
    client would percent-encode (the key is the raw path)."""
    rnd = random.Random(seed)
    keys = []
    for i in range(n):
        kind = i % 5
        if kind == 0:
            keys.append("/documents/doc-%d" % i)
        elif kind == 1:
            keys.append("/documents/user-%d/report-%x.pdf" % (rnd.randrange(10**6), i))
        elif kind == 2:
            keys.append("/documents/dir%%20%d/%s" % (i % 97, "x" * rnd.randrange(1, 200)))
        elif kind == 3:
            keys.append("/documents/%016x%016x" % (rnd.getrandbits(64), i))
        else:
            keys.append("k%d" % i)
    return keys


class SnapshotTestBase(ClusterTestMixin, unittest.TestCase):
    RING = None
    WEIGHTS = None

    def setUp(self):
        self.rundir = RunDir("ringd-e2e-snap")
        try:
            self.cluster = Cluster(self.rundir, ring=self.RING, weights=self.WEIGHTS,
                                   agent_args=keep_dead_services_args())
            self.cluster.start()
            self.wait_nginx_ring(self.cluster.router.ring()["checksum"])
        except BaseException:
            self.dump_logs()
            self.rundir.cleanup()
            raise

    def tearDown(self):
        self.stop_cluster()


    # helpers ------------------------------------------------------------

    def nginx_ring(self):
        status, headers, body = http_get(self.cluster.nginx.port, "/ringd/ring")
        self.assertEqual(status, 200, body)
        return json.loads(body)

    def workers_on(self, checksum):
        """True when every nginx worker routes with this ring."""
        workers = self.nginx_ring()["workers"].values()
        return all(w and w.split()[0] == checksum for w in workers)

    def wait_nginx_ring(self, checksum, timeout=5):
        wait_until(lambda: self.workers_on(checksum), timeout,
                   "every nginx worker on ring %s" % checksum, interval=0.02)

    def nginx_owners(self, keys):
        """[[owner, next, next], ...] from POST /ringd/owners."""
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.cluster.nginx.port, timeout=60)
        try:
            conn.request("POST", "/ringd/owners", body="\n".join(keys).encode())
            resp = conn.getresponse()
            body = resp.read()
            self.assertEqual(resp.status, 200, body[:300])
            checksum = resp.getheader("X-Ringd-Ring")
        finally:
            conn.close()
        lines = body.decode().split("\n")
        self.assertEqual(lines[-1], "")
        return checksum, [line.split(" ") for line in lines[:-1]]

    def agent_owners(self, keys):
        """RING.OWNERS key 3 for every key, pipelined on the router agent."""
        r = self.cluster.router.redis()
        out = []
        for i in range(0, len(keys), 5000):
            pipe = r.pipeline(transaction=False)
            for key in keys[i:i + 5000]:
                pipe.execute_command("RING.OWNERS", key, 3)
            out.extend(pipe.execute())
        return out


class OwnersMatchAgent:
    """Mixed into one test class per ring mode."""

    def test_owners_of_100k_keys_equal_the_agents(self):
        keys = make_keys(NUM_KEYS)
        t0 = time.monotonic()
        checksum, mine = self.nginx_owners(keys)
        t_nginx = time.monotonic() - t0
        t0 = time.monotonic()
        theirs = self.agent_owners(keys)
        t_agent = time.monotonic() - t0
        self.assertEqual(checksum, self.cluster.router.ring()["checksum"])
        self.assertEqual(len(mine), len(keys))
        diff = [(k, a, b) for k, a, b in zip(keys, mine, theirs) if a != b]
        self.assertEqual(diff[:5], [], "%d of %d keys differ" % (len(diff), len(keys)))
        owners = [o[0] for o in mine]
        counts = {s: owners.count(s) for s in self.cluster.by_service}
        log("ring %s: %d keys, owners and failover order equal the agent's "
            "(nginx %.2fs, agent %.2fs); keys per backend %s"
            % (self.RING or "default", len(keys), t_nginx, t_agent, counts))
        for n in counts.values():
            self.assertGreater(n, len(keys) // 20, counts)

        # Requests go where /ringd/owners says.
        client = HttpClient(self.cluster.nginx.port)
        try:
            for key, want in list(zip(keys, owners))[:3000:10]:
                if not key.startswith("/documents/"):
                    continue
                # The key is the path without its query: the balancer hashes
                # $request_uri up to the '?' in place, in every ring mode.
                for path in (key, key + "?x=1&y=%2F"):
                    status, headers, body = client.get(path)
                    self.assertEqual(status, 200, path)
                    self.assertEqual(headers["x-ringd-backend"], want, path)
                    self.assertEqual(headers["x-ringd-ring"], checksum)
                    self.assertNotIn("x-ringd-stale", headers)
                    # The backend sees the bytes the client sent.
                    self.assertIn(b'"path": "%s"' % path.encode(), body)
        finally:
            client.close()


class DefaultRingTest(OwnersMatchAgent, SnapshotTestBase):
    RING = "default"
    WEIGHTS = {1: 2}


class MaglevRingTest(OwnersMatchAgent, SnapshotTestBase):
    RING = "maglev"


class NginxRingTest(OwnersMatchAgent, SnapshotTestBase):
    RING = "nginx"
    WEIGHTS = {1: 2}


class KetamaRingTest(OwnersMatchAgent, SnapshotTestBase):
    RING = "ketama"
    WEIGHTS = {2: 3}


class MultiProbeRingTest(OwnersMatchAgent, SnapshotTestBase):
    RING = "multiprobe"
    WEIGHTS = {1: 2}


class SnapshotBehaviourTest(SnapshotTestBase):

    def measure_propagation(self, change, what):
        """Runs change(), then polls the router agent's /ring and nginx's
        /ringd/ring in turn until every worker uses the agent's new ring.
        Returns seconds from the agent's checksum changing (as polled) to
        every worker on it (as polled; and as the workers' own timestamps)."""
        router = self.cluster.router
        old = router.ring()["checksum"]
        change()
        t_agent = new = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now_wall = time.time()
            checksum = router.ring()["checksum"]
            if t_agent is None and checksum != old:
                t_agent, new = now_wall, checksum
            elif t_agent is not None and checksum != new:
                # It moved again (the change took two steps): measure the last.
                t_agent, new = now_wall, checksum
            if new is not None:
                t_seen = time.time()
                ring = self.nginx_ring()
                stamps = [w.split() for w in ring["workers"].values()]
                if all(s and s[0] == new for s in stamps):
                    polled = t_seen - t_agent
                    applied = max(float(s[1]) for s in stamps) - t_agent
                    log("MEASURED ring change (%s) -> all %d nginx workers: %.1f ms as "
                        "polled, %.1f ms by the workers' clocks" %
                        (what, len(stamps), polled * 1000, applied * 1000))
                    return polled, applied
            time.sleep(0.001)
        self.fail("ring change (%s) never reached nginx" % what)

    def test_ring_change_reaches_every_worker_within_100ms(self):
        cluster = self.cluster
        backend, agent = cluster.make_host("host4")
        backend.start()
        backend.wait_ready()
        results = []

        def join():
            agent.start()
        results.append(self.measure_propagation(join, "host4 joins"))
        cluster.hosts.append((backend, agent))
        cluster.wait_converged(cluster.agents, [b.address for b, _ in cluster.hosts], 30,
                               "host4 on every ring")

        def leave():
            agent.stop(signal.SIGTERM)
        results.append(self.measure_propagation(leave, "host4 leaves"))

        def rejoin():
            agent.start()
        results.append(self.measure_propagation(rejoin, "host4 joins again"))
        worst = max(max(r) for r in results)
        log("MEASURED worst of %d ring changes: %.1f ms (bound %.0f ms)"
            % (len(results), worst * 1000, PROPAGATION_BOUND * 1000))
        self.assertLess(worst, PROPAGATION_BOUND)

    def error_log_since(self, offset):
        with open(self.cluster.nginx.error_log, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def test_agent_stopped_then_killed_keeps_routing_on_the_last_ring(self):
        cluster = self.cluster
        router = cluster.router
        keys = ["/documents/stale-%d" % i for i in range(200)]
        client = HttpClient(cluster.nginx.port)

        def route_all(expect_stale):
            out = {}
            for key in keys:
                status, headers, body = client.get(key)
                self.assertEqual(status, 200, (key, body[:200]))
                self.assertEqual(headers.get("x-ringd-stale"), "1" if expect_stale else None,
                                 key)
                out[key] = headers["x-ringd-backend"]
            return out

        try:
            before = route_all(False)
            checksum = router.ring()["checksum"]
            log_at = os.path.getsize(cluster.nginx.error_log)

            router.send_signal(signal.SIGSTOP)
            wait_until(lambda: all(http_get(cluster.nginx.port, keys[0])[1].get("x-ringd-stale")
                                   == "1" for _ in range(6)), 2, "stale header (SIGSTOP)",
                       interval=0.02)
            self.assertEqual(route_all(True), before)
            router.send_signal(signal.SIGCONT)
            wait_until(lambda: all("x-ringd-stale" not in http_get(cluster.nginx.port, keys[0])[1]
                                   for _ in range(6)), 2, "no stale header (SIGCONT)",
                       interval=0.02)
            self.assertEqual(route_all(False), before)
            text = self.error_log_since(log_at)
            self.assertEqual(len(re.findall(r"ringd: agent \S+ unreachable", text)), 1, text)
            self.assertEqual(len(re.findall(r"ringd: agent \S+ answers again", text)), 1, text)
            self.assertIn("routing on the last ring " + checksum, text)

            log_at = os.path.getsize(cluster.nginx.error_log)
            router.kill()
            wait_until(lambda: all(http_get(cluster.nginx.port, keys[0])[1].get("x-ringd-stale")
                                   == "1" for _ in range(6)), 2, "stale header (SIGKILL)",
                       interval=0.02)
            t0 = time.monotonic()
            n = 0
            while time.monotonic() - t0 < 1.0:  # a second of requests, all served
                self.assertEqual(route_all(True), before)
                n += len(keys)
            log("agent killed: %d requests served on the last ring, all marked stale" % n)

            router.start()
            router.wait_ready()
            wait_until(lambda: all("x-ringd-stale" not in http_get(cluster.nginx.port, keys[0])[1]
                                   for _ in range(6)), 5, "no stale header (restart)",
                       interval=0.02)
            new = cluster.wait_converged(cluster.agents, [b.address for b, _ in cluster.hosts],
                                         30, "restarted router converged")
            self.wait_nginx_ring(new)
            self.assertEqual(route_all(False), before)
            text = self.error_log_since(log_at)
            self.assertEqual(len(re.findall(r"ringd: agent \S+ unreachable", text)), 1, text)
            self.assertEqual(len(re.findall(r"ringd: agent \S+ answers again", text)), 1, text)
            self.assertNotIn("lua tcp socket", text)
        finally:
            router.send_signal(signal.SIGCONT)
            client.close()

    def test_failover_when_the_owner_refuses_or_times_out(self):
        """A backend process killed (its agent alive: still on the ring): its
        keys are served by their next owner, 0 errors for GET from 8 clients
        at once; a POST to such a key is not retried (502). Then the same
        port accepts no connections at all (a full accept queue: connects
        time out): the next owner again, after proxy_connect_timeout."""
        cluster = self.cluster
        keys = ["/documents/fo-%d" % i for i in range(300)]
        _, owners = self.nginx_owners(keys)
        victim_backend, victim_agent = cluster.hosts[0]
        victim = victim_backend.address
        on_victim = [k for k, o in zip(keys, owners) if o[0] == victim]
        self.assertTrue(on_victim)
        next_owner = {k: o[1] for k, o in zip(keys, owners)}

        victim_backend.kill()
        problems, lock = [], threading.Lock()

        def client(i):
            c = HttpClient(cluster.nginx.port)
            try:
                for key in keys[i::8]:
                    status, headers, body = c.get(key)
                    want = next_owner[key] if key in on_victim else owners[keys.index(key)][0]
                    if status != 200 or headers.get("x-ringd-backend") != want:
                        with lock:
                            problems.append((key, status, headers.get("x-ringd-backend"), want))
            finally:
                c.close()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        self.assertEqual(problems[:5], [], "%d problems" % len(problems))
        log("backend killed: %d requests, %d of them failed over, 0 errors"
            % (len(keys), len(on_victim)))
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", cluster.nginx.port, timeout=5)
        conn.request("POST", on_victim[0], body=b"x=1")
        resp = conn.getresponse()
        resp.read()
        self.assertEqual(resp.status, 502)
        self.assertEqual(resp.getheader("X-Ringd-Backend"), victim)
        conn.close()
        victim_agent.check_alive()
        self.assertIn(victim, cluster.router.ring()["nodes"])

        # The port now takes no connection: accept queue full, SYNs dropped.
        import socket
        holder = socket.socket()
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", victim_backend.port))
        holder.listen(0)
        fillers = []
        try:
            for _ in range(4):
                f = socket.socket()
                f.setblocking(False)
                f.connect_ex(("127.0.0.1", victim_backend.port))
                fillers.append(f)
            client = HttpClient(cluster.nginx.port)
            t0 = time.monotonic()
            for key in on_victim[:10]:
                status, headers, _ = client.get(key)
                self.assertEqual((status, headers.get("x-ringd-backend")),
                                 (200, next_owner[key]), key)
            per = (time.monotonic() - t0) / 10
            client.close()
            log("MEASURED owner timing out on connect: %.0f ms per request (next owner "
                "after proxy_connect_timeout)" % (per * 1000))
            self.assertGreater(per, 0.1)  # it did wait for the connect timeout
            self.assertLess(per, 1.0)
        finally:
            for f in fillers:
                f.close()
            holder.close()

    def test_no_ring_yet_is_503_until_the_agent_answers(self):
        cluster = self.cluster
        # A second nginx whose agent (a new router-only agent) is not up yet.
        from procs import Agent, Nginx
        agent = Agent("router2", self.rundir, join=cluster.seeds("router2"),
                      binary=cluster.binary)
        nginx = Nginx("nginx2", self.rundir, agent.resp)
        nginx.start()
        nginx.wait_ready()
        status, headers, body = http_get(nginx.port, "/documents/x")
        self.assertEqual(status, 503)
        self.assertEqual(headers.get("x-ringd-error"), "no-ring")
        self.assertEqual(body, ("ringd: no ring yet (agent %s not reached)\n"
                                % agent.resp).encode())
        agent.start()
        agent.wait_ready()
        wait_until(lambda: http_get(nginx.port, "/documents/x")[0] == 200, 5,
                   "nginx2 routing once its agent is up", interval=0.02)
        status, headers, _ = http_get(nginx.port, "/documents/x")
        self.assertEqual(headers["x-ringd-backend"], agent.lookup("/documents/x"))
        with open(nginx.error_log) as f:
            text = f.read()
        self.assertEqual(len(re.findall(r"unreachable .*no ring yet, answering 503", text)), 1,
                         text)
        self.assertEqual(len(re.findall(r"answers again", text)), 1, text)

    def test_a_reloaded_nginx_routes_at_once_from_the_shared_dict(self):
        """Agent stopped, nginx reloaded: the new workers route with the ring
        the shared dict kept, without having reached the agent."""
        cluster = self.cluster
        checksum = cluster.router.ring()["checksum"]
        cluster.router.send_signal(signal.SIGSTOP)
        try:
            wait_until(lambda: self.nginx_ring()["stale"], 2, "nginx sees the agent gone")
            t_reload = time.time()
            cluster.nginx.send_signal(signal.SIGHUP)  # reload: new workers

            def new_workers():
                stamps = [w.split() for w in self.nginx_ring()["workers"].values()]
                return all(s and float(s[1]) >= t_reload - 0.01 for s in stamps)
            wait_until(new_workers, 10, "new workers with a ring after the reload")
            for i in range(20):
                status, headers, _ = http_get(cluster.nginx.port, "/documents/reload-%d" % i)
                self.assertEqual(status, 200)
                self.assertEqual(headers.get("x-ringd-ring"), checksum)
        finally:
            cluster.router.send_signal(signal.SIGCONT)

if __name__ == "__main__":
    unittest.main()
