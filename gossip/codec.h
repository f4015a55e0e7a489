// gossip/codec.h — encodes and decodes gossip messages (proto/gossip.proto).
//
// The only file in gossip/ that sees generated protobuf code is codec.cc.
// Decoding never throws: it returns a DecodeStatus, and the caller counts the
// reason. Every decoded collection and string is bounded by DecodeLimits, so
// a hostile packet cannot make us allocate without limit.
//
// UDP datagram layout (protobuf encoding of ringd.proto.Packet):
//
//    0                   1                   2                   3
//   +-------+-----------+---------------------------------------------+
//   | 0x08  | version   |  field 1, varint: protocol version (1)      |
//   +-------+-----------+---------------------------------------------+
//   | 0x12  | len       |  Message #0 (oneof, primary):               |
//   |       |           |    Ping | Ack | Nack | PingReq | update      |
//   +-------+-----------+---------------------------------------------+
//   | 0x12  | len       |  Message #1 (piggybacked update):           |
//   |       |           |    Alive | Suspect | Dead                    |
//   +-------+-----------+---------------------------------------------+
//   |  ...  repeated while the datagram stays <= max_packet_size      |
//   +-----------------------------------------------------------------+
//
// Each repeated entry costs 1 tag byte + a varint length + the body, so the
// encoded size of a packet is the size of its header plus the sum of
// encoded_size(message) over its messages (this is what lets the broadcast
// queue fill a datagram exactly).
//
// TCP stream layout (ringd.proto.Stream): version (field 1) then one PushPull
// (field 2) with `join`, `source`, and repeated member entries {name,
// address, service, incarnation, state}.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "messages.h"

namespace ringd::gossip::codec {

enum class DecodeStatus : std::uint8_t {
  kOk,
  kOversize,        // input longer than the limit
  kMalformed,       // not a valid protobuf message of the expected type
  kBadVersion,      // protocol version we do not speak
  kTooManyEntries,  // more messages / members than allowed
  kBadField,        // empty oneof, missing or overlong name, bad state, ...
};
std::string_view to_string(DecodeStatus status);

struct DecodeLimits {
  std::size_t max_bytes = 64 * 1024;        // whole input
  std::size_t max_messages = 256;           // messages in one datagram
  std::size_t max_members = 16384;          // entries in one push-pull
  std::size_t max_string = 255;             // any name / address / service
};

std::string encode(const msg::Packet& packet);
std::string encode(const msg::PushPull& push_pull);

// Bytes `message` adds to an encoded Packet (tag + length + body).
std::size_t encoded_size(const msg::Message& message);
// Bytes of an encoded Packet with no messages.
std::size_t packet_header_size();

DecodeStatus decode(std::string_view bytes, const DecodeLimits& limits, msg::Packet* out);
DecodeStatus decode(std::string_view bytes, const DecodeLimits& limits, msg::PushPull* out);

}  // namespace ringd::gossip::codec
