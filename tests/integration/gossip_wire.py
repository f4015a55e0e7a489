"""Hand-encoded gossip packets and stream frames (proto/gossip.proto), for
tests that play a hostile peer. Only what those tests send; no decoder.

    ping(seq, target, source, source_address)   -> a Packet with one Ping
    stream_frame(stream_ping(...))               -> 4-byte length + Stream
"""
import struct


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def key(field, wire_type):
    return varint(field << 3 | wire_type)


def uint_field(field, v):
    return key(field, 0) + varint(v)


def len_field(field, body):
    if isinstance(body, str):
        body = body.encode()
    return key(field, 2) + varint(len(body)) + body


def packet(*messages, version=1):
    """A Packet: version, then each Message (already encoded) as field 2."""
    return uint_field(1, version) + b"".join(len_field(2, m) for m in messages)


# Message.body numbers: ping 1, ack 2, nack 3, ping_req 4, alive 5, suspect 6, dead 7.
def msg_ping(seq, target, source, source_address):
    return len_field(1, uint_field(1, seq) + len_field(2, target) + len_field(3, source)
                     + len_field(4, source_address))


def msg_ack(seq, source):
    return len_field(2, uint_field(1, seq) + len_field(2, source))


def msg_nack(seq, source):
    return len_field(3, uint_field(1, seq) + len_field(2, source))


def msg_ping_req(seq, target, target_address, source, source_address):
    return len_field(4, uint_field(1, seq) + len_field(2, target) + len_field(3, target_address)
                     + len_field(4, source) + len_field(5, source_address))


def msg_alive(name, address, incarnation):
    return len_field(5, len_field(1, name) + len_field(2, address) + uint_field(4, incarnation))


def msg_suspect(name, incarnation, source):
    return len_field(6, len_field(1, name) + uint_field(2, incarnation) + len_field(3, source))


def msg_dead(name, incarnation, source, left=False):
    return len_field(7, len_field(1, name) + uint_field(2, incarnation) + len_field(3, source)
                     + (uint_field(4, 1) if left else b""))


def stream_ping(seq, target, source, source_address):
    """A Stream carrying a TCP fallback probe (answered with an Ack)."""
    return uint_field(1, 1) + len_field(3, uint_field(1, seq) + len_field(2, target)
                                        + len_field(3, source) + len_field(4, source_address))


def stream_frame(body):
    return struct.pack(">I", len(body)) + body
