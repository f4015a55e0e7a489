"""A stand-in ringd agent for testing nginx's snapshot mode alone: a RESP
server on loopback that answers RING.CHECKSUM and RING.DUMP from an image
the test sets, so a test can hand nginx images a real agent never makes.

    agent = FakeAgent()                 # listening; agent.address "ip:port"
    agent.set_image(build_image(...))   # what RING.DUMP returns from now on
    agent.set_image(data, checksum="0123456789abcdef")  # mismatched on purpose
    agent.dumps, agent.polls            # RING.DUMP / RING.CHECKSUM served so far
    agent.close()

build_image() writes the format of ring/dump.h (version 1) from names,
positions and node indices; change bytes afterwards to make a bad one.
"""

import socketserver
import struct
import threading

HOST = "127.0.0.1"


def build_image(mode, checksum, names, positions, nodes, points_per_node=0,
                magic=b"RINGDMP1"):
    """ring/dump.h's image. mode: 0 default, 1 maglev (positions ignored),
    2 nginx, 3 ketama, 4 multiprobe (points_per_node: the probe count).
    checksum: 16 hex digits."""
    name_bytes = b"".join(struct.pack("<H", len(n.encode())) + n.encode() for n in names)
    name_bytes += b"\0" * (-len(name_bytes) % 8)
    out = magic + bytes([mode]) + b"\0" * 7 + checksum.encode()
    out += struct.pack("<IIII", len(names), len(nodes), len(name_bytes), points_per_node)
    out += name_bytes
    if mode != 1:
        out += b"".join(struct.pack("<Q", p) for p in positions)
    out += b"".join(struct.pack("<I", n) for n in nodes)
    return out


def _bulk(data):
    return b"$%d\r\n%s\r\n" % (len(data), data)


class FakeAgent:

    def __init__(self, port=0):
        self.lock = threading.Lock()
        self.image = None
        self.checksum = None
        self.dumps = 0
        self.polls = 0
        agent = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                while True:
                    cmd = self.read_command()
                    if cmd is None:
                        return
                    self.wfile.write(agent.answer(cmd))
                    self.wfile.flush()

            def read_command(self):
                line = self.rfile.readline()
                if not line.startswith(b"*"):
                    return None
                args = []
                for _ in range(int(line[1:])):
                    size = int(self.rfile.readline()[1:])
                    args.append(self.rfile.read(size + 2)[:-2])
                return args

        class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server((HOST, port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def address(self):
        return "%s:%d" % (HOST, self.port)

    def set_image(self, image, checksum=None):
        with self.lock:
            self.image = image
            self.checksum = checksum or image[16:32].decode()

    def answer(self, cmd):
        name = cmd[0].upper()
        with self.lock:
            if name == b"RING.CHECKSUM" and self.checksum is not None:
                self.polls += 1
                return _bulk(self.checksum.encode())
            if name == b"RING.DUMP" and self.image is not None:
                self.dumps += 1
                return _bulk(self.image)
            if name == b"PING":
                return b"+PONG\r\n"
        return b"-ERR unknown command '%s'\r\n" % cmd[0]

    def close(self):
        self.server.shutdown()
        self.server.server_close()

