"""Integration: the agent's HTTP API against bad input (issue 13, item 2).

Each test starts one real `ringd agent` on loopback and talks to its HTTP
port over raw sockets: oversized and malformed requests get their status
(431, 414, 413, 400, 405, 404) and a close, a slow client is closed, a
connection over the cap is refused while the others keep working, and each
refusal is counted in /metrics. The limits are agent/http_limits.h's.

Run with /usr/bin/python3. RINGD_BIN names the binary.
"""
import errno
import json
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from procs import HOST, Agent, RunDir, wait_until  # noqa: E402

HEADER_LIMIT = 8 * 1024
TARGET_LIMIT = 2 * 1024
BODY_LIMIT = 4 * 1024
REQUEST_TIMEOUT = 5.0   # a request must arrive whole within this
IDLE_TIMEOUT = 30.0     # a keep-alive connection may idle this long
MAX_CONNECTIONS = 256
# "Closed within N s" bounds: generous, for a loaded machine.
SLACK = 5.0


def read_until_closed(sock, timeout):
    """Every byte until the peer closes (or resets); raises on timeout."""
    sock.settimeout(timeout)
    chunks = []
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def exchange(port, data, timeout=10.0, half_close=True):
    """Sends data on a fresh connection, returns all it gets until closed."""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(data)
        if half_close:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError as e:
                # The server may have answered and closed already (a refusal
                # at accept does not wait for the request): read what it sent.
                if e.errno not in (errno.ENOTCONN, errno.ECONNRESET):
                    raise
        return read_until_closed(s, timeout)


def recv_response(sock, timeout=10.0):
    """One whole response (header and Content-Length body) from a keep-alive connection."""
    sock.settimeout(timeout)
    data = b""
    while True:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(rest) >= length:
                return one_response(data)
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("closed mid-response: %r" % data[:200])
        data += chunk


def parse_responses(data):
    """[(status, headers lower-cased, body)] of the HTTP responses in data."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError("incomplete response: %r" % data[:200])
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        out.append((status, headers, rest[:length]))
        data = rest[length:]
    return out


def one_response(data):
    responses = parse_responses(data)
    if len(responses) != 1:
        raise AssertionError("expected one response, got %d: %r" % (len(responses), data[:300]))
    return responses[0]


def request(method, target, headers=(), body=b"", version="HTTP/1.1"):
    lines = ["%s %s %s" % (method, target, version), "Host: localhost"]
    lines += ["%s: %s" % h for h in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class HttpLimitsTest(unittest.TestCase):
    def setUp(self):
        self.rundir = RunDir("ringd-http-limits")
        self.agent = Agent("solo", self.rundir).start()
        self.agent.wait_ready()
        self.port = self.agent.http_port

    def tearDown(self):
        self.rundir.cleanup()

    def http_metrics(self):
        return self.agent.http_json("/metrics.json")["http"]

    def assert_rejected(self, data, status, counter, message=None):
        """data on a fresh connection: one JSON error `status`, then a close;
        counter (in /metrics "http") up by one; the agent still answers."""
        before = self.http_metrics()[counter]
        got, headers, body = one_response(exchange(self.port, data))
        self.assertEqual(got, status, message)
        self.assertEqual(headers.get("connection"), "close")
        self.assertEqual(headers.get("content-type"), "application/json")
        self.assertIn("error", json.loads(body))
        self.assertEqual(self.http_metrics()[counter], before + 1, counter)
        self.agent.check_alive()

    def test_header_block_over_the_limit_is_431(self):
        big = "x" * (HEADER_LIMIT + 1024)
        self.assert_rejected(request("GET", "/health", [("X-Big", big)]), 431, "rejected_header_too_large")
        # Many small fields add up the same way.
        fields = [("X-F%d" % i, "y" * 100) for i in range(120)]
        self.assert_rejected(request("GET", "/health", fields), 431, "rejected_header_too_large")
        # Under the limit is fine.
        ok = one_response(exchange(self.port, request("GET", "/health", [("X-Big", "x" * 6000)])))
        self.assertEqual(ok[0], 200)

    def test_target_over_the_limit_is_414(self):
        long_key = "a" * (TARGET_LIMIT + 100)
        self.assert_rejected(request("GET", "/lookup?key=" + long_key), 414, "rejected_uri_too_long")
        # A request line longer than the whole header limit, too.
        huge_key = "b" * (HEADER_LIMIT + 1024)
        self.assert_rejected(request("GET", "/lookup?key=" + huge_key), 414, "rejected_uri_too_long")
        # A long target followed by fields over the header limit: 414 wins.
        self.assert_rejected(request("GET", "/lookup?key=" + long_key, [("X-Big", "x" * HEADER_LIMIT)]),
                             414, "rejected_uri_too_long")
        # Just under the limit is served.
        key = "k" * (TARGET_LIMIT - len("/lookup?key="))
        status, _, body = one_response(exchange(self.port, request("GET", "/lookup?key=" + key)))
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["key"], key)

    def test_body_over_the_limit_is_413(self):
        # Announced by Content-Length: refused before the body is read.
        self.assert_rejected(request("POST", "/drain", [("Content-Length", "1000000")], b"z" * 100),
                             413, "rejected_body_too_large")
        # Sent whole, over the limit.
        body = b"z" * (BODY_LIMIT + 1)
        self.assert_rejected(request("POST", "/drain", [("Content-Length", str(len(body)))], body),
                             413, "rejected_body_too_large")
        # Chunked: counted as it arrives.
        chunk = b"z" * 1024
        chunked = b"".join(b"400\r\n" + chunk + b"\r\n" for _ in range(8)) + b"0\r\n\r\n"
        self.assert_rejected(request("POST", "/drain", [("Transfer-Encoding", "chunked")], chunked),
                             413, "rejected_body_too_large")
        # A small body reaches the API (405 here: /members takes GET).
        status, _, _ = one_response(exchange(self.port, request("POST", "/members", [("Content-Length", "5")],
                                                                b"hello")))
        self.assertEqual(status, 405)

    def test_malformed_requests_are_400(self):
        cases = {
            "no method": b"GARBAGE\r\n\r\n",
            "TLS client hello": bytes.fromhex("160301020001000001fc0303") + os.urandom(64),
            "HTTP/2 preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            "unknown version": b"GET /health HTTP/9.9\r\n\r\n",
            "bare LF": b"GET /health HTTP/1.1\nHost: x\n\n",
            "field without colon": b"GET /health HTTP/1.1\r\nBad Header\r\n\r\n",
            "NUL in target": b"GET /he\x00alth HTTP/1.1\r\n\r\n",
            "bad Content-Length": request("GET", "/health", [("Content-Length", "abc")]),
            "two Content-Lengths": request("GET", "/health", [("Content-Length", "5"), ("Content-Length", "6")],
                                           b"hello!"),
            "bad chunk": request("POST", "/drain", [("Transfer-Encoding", "chunked")], b"ZZ\r\nhello\r\n"),
            "random bytes": bytes(range(256)) * 4,
        }
        before = self.http_metrics()
        for name, data in cases.items():
            with self.subTest(name):
                status, headers, body = one_response(exchange(self.port, data))
                self.assertEqual(status, 400, name)
                self.assertEqual(headers.get("connection"), "close")
                self.assertIn("error", json.loads(body))
        after = self.http_metrics()
        self.assertEqual(after["rejected_malformed"], before["rejected_malformed"] + len(cases))
        self.assertEqual(after["bad_requests"], before["bad_requests"] + len(cases))
        self.agent.check_alive()
        self.assertEqual(self.agent.http("/health")[0], 200)

    def test_keys_and_bytes_that_are_not_utf8_are_answered(self):
        # Percent-decoded keys are bytes; the JSON answer must not fail on them.
        status, _, body = one_response(exchange(self.port, request("GET", "/lookup?key=%FF%FE")))
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["key"], "\ufffd\ufffd")
        # Raw high bytes in a target and a header value.
        data = b"GET /lookup?key=\xff\xfe HTTP/1.1\r\nHost: x\r\nX-A: \xff\r\nConnection: close\r\n\r\n"
        status, _, body = one_response(exchange(self.port, data))
        self.assertEqual(status, 200)
        self.assertEqual(self.http_metrics()["internal_errors"], 0)
        self.agent.check_alive()

    def test_wrong_method_is_405_with_allow_and_unknown_path_404(self):
        for method, target, allow in (("PUT", "/members", "GET, HEAD"), ("DELETE", "/ring", "GET, HEAD"),
                                      ("FOO", "/metrics", "GET, HEAD"), ("GET", "/drain", "POST")):
            with self.subTest(method + " " + target):
                status, headers, body = one_response(exchange(self.port, request(method, target)))
                self.assertEqual(status, 405)
                self.assertEqual(headers.get("allow"), allow)
                self.assertIn("error", json.loads(body))
        status, _, body = one_response(exchange(self.port, request("GET", "/no/such/path")))
        self.assertEqual(status, 404)
        self.assertIn("error", json.loads(body))

    def test_head_answers_headers_only_and_keeps_the_connection_in_step(self):
        # A HEAD then a GET on one connection: the HEAD's Content-Length
        # announces the GET's body, but no body follows it.
        data = exchange(self.port, request("HEAD", "/health") + request("GET", "/health", [("Connection", "close")]))
        first_head, _, rest = data.partition(b"\r\n\r\n")
        self.assertTrue(first_head.startswith(b"HTTP/1.1 200"), data[:200])
        self.assertIn(b"Content-Length:", first_head)
        self.assertTrue(rest.startswith(b"HTTP/1.1 200"), "a body followed the HEAD answer: %r" % rest[:100])
        status, _, body = one_response(rest)
        self.assertEqual(json.loads(body)["status"], "ok")

    def dribble_until_closed(self, head, limit):
        """Sends head, then one byte every 0.3 s; True once the agent closes
        the connection, False if it is still open after `limit` seconds."""
        with socket.create_connection((HOST, self.port), timeout=2) as s:
            start = time.monotonic()
            s.sendall(head)
            while time.monotonic() - start < limit:
                try:
                    s.sendall(b"X")
                    s.settimeout(0.3)
                    if s.recv(4096) == b"":
                        return True
                except socket.timeout:
                    pass
                except (BrokenPipeError, ConnectionResetError):
                    return True
            return False

    def test_a_slow_client_is_closed(self):
        before = self.http_metrics()["rejected_slow_client"]
        limit = REQUEST_TIMEOUT + SLACK
        # Slowloris: a header dribbled a byte at a time never completes.
        self.assertTrue(self.dribble_until_closed(b"GET /members HTTP/1.1\r\nHost: x\r\nX-Slow: ", limit),
                        "a client dribbling its header for %.0f s was not closed" % limit)
        # The same with the body.
        self.assertTrue(self.dribble_until_closed(request("POST", "/drain", [("Content-Length", "1000")]), limit),
                        "a client dribbling its body for %.0f s was not closed" % limit)
        # A connection that never says a word goes the same way.
        with socket.create_connection((HOST, self.port), timeout=2) as s:
            self.assertEqual(read_until_closed(s, limit), b"")
        self.assertEqual(self.http_metrics()["rejected_slow_client"], before + 3)
        self.agent.check_alive()

    def test_an_idle_keepalive_connection_outlives_the_request_timeout(self):
        with socket.create_connection((HOST, self.port), timeout=5) as s:
            s.sendall(request("GET", "/health"))
            self.assertEqual(recv_response(s)[0], 200)
            # Idle longer than a request may take to arrive, well within the
            # idle timeout: the next request is still served.
            time.sleep(REQUEST_TIMEOUT + 2)
            s.sendall(request("GET", "/health", [("Connection", "close")]))
            status, _, body = one_response(read_until_closed(s, 5))
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["status"], "ok")

    def test_connections_over_the_cap_are_refused_and_the_others_keep_working(self):
        socks = []
        try:
            # MAX_CONNECTIONS keep-alive connections, each served once (so
            # they are open on the agent's side and only idle now).
            for _ in range(MAX_CONNECTIONS):
                s = socket.create_connection((HOST, self.port), timeout=10)
                s.sendall(request("GET", "/health"))
                socks.append(s)
            for s in socks:
                self.assertEqual(recv_response(s)[0], 200)
            # One more: answered 503 and closed at once.
            extra = socket.create_connection((HOST, self.port), timeout=5)
            data = read_until_closed(extra, 5)
            extra.close()
            status, headers, body = one_response(data)
            self.assertEqual(status, 503)
            self.assertEqual(headers.get("connection"), "close")
            self.assertIn("error", json.loads(body))
            # One that sends its request first gets the same.
            data = exchange(self.port, request("GET", "/health"), timeout=5)
            self.assertEqual(one_response(data)[0], 503)
            # The connections already open still work.
            for s in socks[:16]:
                s.sendall(request("GET", "/health"))
                self.assertEqual(recv_response(s)[0], 200)
            socks[0].sendall(request("GET", "/metrics.json"))
            status, _, body = recv_response(socks[0])
            self.assertEqual(status, 200)
            metrics = json.loads(body)["http"]
            self.assertEqual(metrics["connections_open"], MAX_CONNECTIONS)
            self.assertEqual(metrics["rejected_connection_limit"], 2)
        finally:
            for s in socks:
                s.close()
        # Once they are gone, new connections are served again.
        wait_until(lambda: self.agent.http("/health")[0] == 200, 10, "a new connection served")
        self.assertLess(self.http_metrics()["connections_open"], 5)

    def test_the_api_listens_on_loopback_by_default(self):
        # An agent without --http: its HTTP listener is 127.0.0.1:7948, or,
        # when another process holds that port, it names it as it exits.
        agent = Agent("default-http", self.rundir)
        argv = [a for a in agent.argv]
        i = argv.index("--http")
        del argv[i:i + 2]
        agent.argv = argv
        agent.start()

        def listening_or_exited():
            if not agent.alive():
                return "exited"
            return "127.0.0.1:7948" in self.listeners(agent.pid) and "listening"
        outcome = wait_until(listening_or_exited, 20, "the agent to listen on its default HTTP address or exit")
        if outcome == "exited":
            with open(agent.log_path, "rb") as f:
                log = f.read().decode("utf-8", "replace")
            self.assertIn("--http 127.0.0.1:7948: Address already in use", log)
        else:
            self.assertEqual([a for a in self.listeners(agent.pid) if a.endswith(":7948")], ["127.0.0.1:7948"])

    @staticmethod
    def listeners(pid):
        """The "ip:port" of every IPv4/IPv6 TCP socket the process listens on."""
        inodes = set()
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[len("socket:["):-1])
        out = []
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table) as f:
                for line in f.readlines()[1:]:
                    cols = line.split()
                    if cols[3] != "0A" or cols[9] not in inodes:  # 0A: LISTEN
                        continue
                    addr, port = cols[1].split(":")
                    if len(addr) == 8:
                        ip = ".".join(str(int(addr[i:i + 2], 16)) for i in (6, 4, 2, 0))
                    else:
                        ip = "[ipv6]"
                    out.append("%s:%d" % (ip, int(port, 16)))
        return out


if __name__ == "__main__":
    unittest.main(verbosity=2)
