"""A minimal client for serf's msgpack RPC (handshake + members), for the
membership benchmark. Needs Debian's python3-msgpack (/usr/bin/python3)."""
import socket

import msgpack


class SerfRpc:
    def __init__(self, port, host="127.0.0.1", timeout=2.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.unpacker = msgpack.Unpacker(raw=False)
        self.seq = 0
        self._call("handshake", {"Version": 1}, body=False)

    def _read_obj(self):
        while True:
            for obj in self.unpacker:
                return obj
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("serf RPC closed")
            self.unpacker.feed(data)

    def _call(self, command, args=None, body=True):
        self.seq += 1
        payload = msgpack.packb({"Command": command, "Seq": self.seq})
        if args is not None:
            payload += msgpack.packb(args)
        self.sock.sendall(payload)
        header = self._read_obj()
        if header.get("Error"):
            raise RuntimeError(f"serf {command}: {header['Error']}")
        return self._read_obj() if body else None

    def members(self):
        """{name: status} with serf's statuses: alive, leaving, left, failed."""
        return {m["Name"]: m["Status"] for m in self._call("members")["Members"]}

    def close(self):
        self.sock.close()
