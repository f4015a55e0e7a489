#!/usr/bin/python3
"""A tiny HTTP/1.1 backend for ringd demos and tests.

Every request, any method and path, gets a JSON answer naming this backend:

    {"backend": "b1", "path": "/documents/x?y=1", "method": "GET",
     "conn": 3, "conn_requests": 7}

with headers `X-Backend: b1` and `X-Backend-Conn: 3`. `conn` numbers the TCP
connections this backend accepted (1, 2, ...) and `conn_requests` counts the
requests served on the current one, so a client can see whether a proxy in
front keeps its upstream connections alive.

    /usr/bin/python3 deploy/backend.py --name b1 --listen 127.0.0.1:9001

Standard library only. SIGTERM/SIGINT stop it cleanly.
"""

import argparse
import http.server
import itertools
import json
import signal
import socketserver
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keepalive by default
    server_version = "ringd-demo-backend"
    sys_version = ""
    # One write per response (headers + body, flushed by handle_one_request)
    # and no Nagle: otherwise a keepalive client waits for delayed ACKs.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        self.conn_id = next(self.server.conn_ids)
        self.conn_requests = 0

    def _answer(self, with_body=True):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)  # keep the stream in sync
        self.conn_requests += 1
        body = json.dumps({
            "backend": self.server.name,
            "path": self.path,
            "method": self.command,
            "conn": self.conn_id,
            "conn_requests": self.conn_requests,
        }).encode() + b"\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Backend", self.server.name)
        self.send_header("X-Backend-Conn", str(self.conn_id))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_GET(self):
        self._answer()

    def do_HEAD(self):
        self._answer(with_body=False)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("%s: %s\n" % (self.server.name, fmt % args))


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def parse_endpoint(text):
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected IP:PORT, got %r" % text)
    return host.strip("[]"), int(port)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--name", required=True, help="name reported in answers")
    ap.add_argument("--listen", required=True, type=parse_endpoint,
                    help="IP:PORT to listen on")
    ap.add_argument("--verbose", action="store_true", help="log each request")
    args = ap.parse_args()

    server = Server(args.listen, Handler)
    server.name = args.name
    server.verbose = args.verbose
    server.conn_ids = itertools.count(1)

    def stop(signum, frame):
        # shutdown() blocks until serve_forever returns: call it elsewhere.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = server.server_address[:2]
    print("backend %s listening on %s:%d" % (args.name, host, port), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
