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
// TCP stream layout (ringd.proto.Stream): version (field 1) then one of
// PushPull (field 2: `join`, `source`, repeated member entries {name,
// address, service, incarnation, state, tags}), Ping (3) or Ack (4).
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

struct DecodeLimits {
  std::size_t max_bytes = 64 * 1024;        // whole input
  std::size_t max_messages = 256;           // messages in one datagram
  std::size_t max_members = 16384;          // entries in one push-pull
  std::size_t max_string = 255;             // any name / address / service / tag
  std::size_t max_tags = 64;                // tags on one member
  std::size_t max_tag_bytes = 4096;         // sum of tag key and value sizes, per member
};

std::string encode(const msg::Packet& packet);
std::string encode(const msg::PushPull& push_pull);
std::string encode(const msg::Stream& stream);

// Bytes `message` adds to an encoded Packet (tag + length + body).
std::size_t encoded_size(const msg::Message& message);
// Bytes of an encoded Packet with no messages.
std::size_t packet_header_size();
// Encoded size of a member's metadata (service endpoint + tags), the
// quantity Config::max_metadata_size bounds.
std::size_t metadata_size(const std::string& service, const Tags& tags);

DecodeStatus decode(std::string_view bytes, const DecodeLimits& limits, msg::Packet* out);
// A stream that must be a PushPull (kBadField otherwise).
DecodeStatus decode(std::string_view bytes, const DecodeLimits& limits, msg::PushPull* out);
// A stream of any kind.
DecodeStatus decode(std::string_view bytes, const DecodeLimits& limits, msg::Stream* out);

}  // namespace ringd::gossip::codec
