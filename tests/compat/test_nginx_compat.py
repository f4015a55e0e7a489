#!/usr/bin/env python3
"""ringd's `nginx` mode against real nginx: an upstream with
`hash $arg_key consistent` over N servers (some weighted) proxies to backends
that answer with their own port; for thousands of keys the server nginx picks
must be the one ringd names.

Everything runs in one nginx on loopback ports: the front server proxies to
the upstream, and one more server block listens on every upstream port and
returns "$server_port". Servers are listed in name order, which is how ringd
breaks (rare) ties between equal crc32 points.

    RING_COMPAT_TOOL=build/tests/compat/ring_compat_tool /usr/bin/python3 tests/compat/test_nginx_compat.py -v
"""

import os
import unittest

import compat_lib
from procs import HttpClient, Proc, RunDir, free_port, port_open, require_tool, wait_until

CONF = """
worker_processes 1;
{user}
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/tmp/client_body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    upstream compat {{
        hash $arg_key consistent;
{servers}
    }}
    server {{
        listen 127.0.0.1:{front};
        location = /health {{ return 200 "ok"; }}
        location / {{
            proxy_pass http://compat;
            proxy_next_upstream off;
        }}
    }}
    server {{
{listens}
        location / {{ return 200 "$server_port"; }}
    }}
}}
"""


class NginxCompatTest(unittest.TestCase):
    def setUp(self):
        self.nginx = require_tool("nginx", "install nginx (deploy/install-deps.sh)")
        self.run_dir = RunDir("ringd-compat")

    def tearDown(self):
        self.run_dir.cleanup()

    def start_nginx(self, name, servers):
        """servers: [(port, weight)]; returns the front port."""
        d = os.path.join(self.run_dir.path, name)
        os.makedirs(os.path.join(d, "tmp"), exist_ok=True)
        front = free_port()
        lines = []
        for port, weight in servers:
            lines.append("        server 127.0.0.1:%d%s;" % (port, "" if weight == 1 else " weight=%d" % weight))
        conf = CONF.format(
            user="user %s;" % os.environ.get("USER", "root") if os.geteuid() == 0 else "",
            dir=d, front=front, servers="\n".join(lines),
            listens="\n".join("        listen 127.0.0.1:%d;" % p for p, _ in servers))
        path = os.path.join(d, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        proc = Proc(name, self.run_dir, [self.nginx, "-p", d, "-c", path, "-e", d + "/error.log",
                                         "-g", "daemon off;"]).start()

        def ready():
            proc.check_alive()
            return port_open(front)
        wait_until(ready, 15, "nginx on port %d" % front)
        return front

    def check(self, name, count, weights, key_count, seed):
        ports = [free_port() for _ in range(count)]
        # Name order: "127.0.0.1:10003" < "127.0.0.1:9000" as strings, as ringd sorts.
        servers = sorted((("127.0.0.1:%d" % p, w) for p, w in zip(ports, weights)), key=lambda s: s[0])
        front = self.start_nginx(name, [(int(s.rsplit(":", 1)[1]), w) for s, w in servers])
        keys = compat_lib.make_keys(key_count, seed)
        want = compat_lib.ringd_owners("nginx", servers, keys)
        client = HttpClient(front)
        diff = []
        try:
            for key, owner in zip(keys, want):
                status, _, body = client.get("/?key=" + key)
                self.assertEqual(status, 200, body)
                got = "127.0.0.1:" + body.decode()
                if got != owner:
                    diff.append((key, got, owner))
        finally:
            client.close()
        self.assertEqual(diff[:5], [], "%d of %d keys disagree (key, nginx, ringd)" % (len(diff), len(keys)))
        print("nginx %d servers: %d/%d keys agree" % (count, len(keys) - len(diff), len(keys)))

    def test_three_servers(self):
        self.check("n3", 3, [1, 1, 1], 3000, seed=11)

    def test_ten_weighted_servers(self):
        self.check("n10", 10, [1, 2, 1, 3, 1, 1, 5, 1, 2, 1], 3000, seed=12)

    def test_forty_servers(self):
        self.check("n40", 40, [1] * 40, 4000, seed=13)


if __name__ == "__main__":
    unittest.main()
