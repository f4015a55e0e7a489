// tests/unit/gossip_bad_packet_test.cc — hostile datagrams and streams at
// the codec, one kind per test: truncated, unknown message type, bad
// protobuf, huge repeated counts, oversized, and packets nested inside
// packets. Each must come back as a DecodeStatus (the node counts it by
// reason: tests/sim/gossip_bad_input_test.cc), never a crash, and never
// as messages the sender did not put at the top level.
#include <gtest/gtest.h>

#include "gossip/codec.h"

namespace ringd::gossip {
namespace {

using codec::DecodeStatus;

// Raw protobuf building blocks, to write what our encoder never would.
std::string varint(std::uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string tag(unsigned field, unsigned wire_type) { return varint(field << 3 | wire_type); }
std::string len_field(unsigned field, const std::string& body) {
  return tag(field, 2) + varint(body.size()) + body;
}
const std::string kHeader = tag(1, 0) + varint(msg::kProtocolVersion);  // Packet.version = 1

std::string packet_of(std::vector<msg::Message> ms) {
  msg::Packet p;
  p.messages = std::move(ms);
  return codec::encode(p);
}

DecodeStatus decode(const std::string& bytes, msg::Packet* out = nullptr,
                    codec::DecodeLimits lim = {}) {
  msg::Packet scratch;
  return codec::decode(bytes, lim, out != nullptr ? out : &scratch);
}

std::vector<msg::Message> one_of_each() {
  return {msg::Ping{1, "n2", "n1", "10.0.0.1:7946"},
          msg::Ack{2, "n2", 0xdeadbeefcafef00dULL},
          msg::Nack{3, "n3"},
          msg::PingReq{4, "n4", "10.0.0.4:7946", "n1", "10.0.0.1:7946"},
          msg::Alive{"n5", "10.0.0.5:7946", "10.0.0.5:8000", 7, {{"zone", "a"}}},
          msg::Suspect{"n6", 8, "n1"},
          msg::Dead{"n7", 9, "n1", true}};
}

TEST(GossipBadPacket, TruncatedInsideAMessageIsMalformed) {
  for (const auto& m : one_of_each()) {
    const std::string bytes = packet_of({m});
    ASSERT_EQ(decode(bytes), DecodeStatus::kOk);
    EXPECT_EQ(decode(bytes.substr(0, 0)), DecodeStatus::kBadVersion);  // version 0
    EXPECT_EQ(decode(bytes.substr(0, 1)), DecodeStatus::kMalformed);   // tag without value
    // Cut anywhere inside the message: its length runs past the end.
    for (std::size_t n = kHeader.size() + 1; n < bytes.size(); ++n) {
      EXPECT_EQ(decode(bytes.substr(0, n)), DecodeStatus::kMalformed) << "cut at " << n << " of " << m.index();
    }
  }
}

TEST(GossipBadPacket, UnknownMessageTypeIsABadField) {
  // Message.body numbers 1..7 are known; 8 and 100 are a later version's.
  EXPECT_EQ(decode(kHeader + len_field(2, len_field(8, "\x08\x01"))), DecodeStatus::kBadField);
  EXPECT_EQ(decode(kHeader + len_field(2, tag(100, 0) + varint(5))), DecodeStatus::kBadField);
  // One unknown message spoils the whole datagram, even after good ones.
  EXPECT_EQ(decode(packet_of({msg::Ack{1, "n1", 0}}) + len_field(2, len_field(8, ""))),
            DecodeStatus::kBadField);
  // Unknown fields beside a known body are skipped (forward compatibility).
  msg::Packet out;
  const std::string ack = codec::encode(msg::Packet{msg::kProtocolVersion, {msg::Ack{1, "n1", 0}}});
  EXPECT_EQ(decode(ack + tag(9, 0) + varint(7), &out), DecodeStatus::kOk);
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(std::get<msg::Ack>(out.messages[0]).source, "n1");
}

TEST(GossipBadPacket, BadProtobufIsMalformed) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"field number 0", kHeader + tag(0, 0) + varint(1)},
      {"wire type 6", kHeader + tag(2, 6)},
      {"wire type 7", kHeader + tag(2, 7)},
      {"11-byte varint", kHeader + tag(3, 0) + std::string(10, '\xff') + '\x01'},
      {"length past the end", kHeader + tag(2, 2) + varint(100) + "abc"},
      {"end group without start", kHeader + tag(5, 4)},
      {"unterminated group", kHeader + tag(5, 3) + tag(1, 0) + varint(1)},
      {"name not UTF-8",
       kHeader + len_field(2, len_field(6, len_field(1, "n\xff\xfe") + tag(2, 0) + varint(1)))},
      {"random bytes", std::string("\xde\xad\xbe\xef\x00\x01\x02\x03", 8)},
  };
  for (const auto& [what, bytes] : cases) {
    EXPECT_EQ(decode(bytes), DecodeStatus::kMalformed) << what;
    msg::Stream st;  // the same bytes on a stream: refused too
    EXPECT_NE(codec::decode(bytes, codec::DecodeLimits{}, &st), DecodeStatus::kOk) << what;
  }
}

TEST(GossipBadPacket, HugeRepeatedCountsAreRefused) {
  codec::DecodeLimits lim;  // 256 messages, 64 tags, 16384 members
  // 2,000 two-byte (empty) messages in 4 KB: counted before any is looked at.
  std::string many = kHeader;
  for (int i = 0; i < 2000; ++i) many += len_field(2, "");
  EXPECT_LT(many.size(), 4100u);
  EXPECT_EQ(decode(many), DecodeStatus::kTooManyEntries);
  // One Alive with 5,000 tags.
  std::string tags;
  for (int i = 0; i < 5000; ++i) {
    std::string k = "k";  // (not "k" + to_string(): g++ 12 -Wrestrict false positive)
    k += std::to_string(i);
    tags += len_field(5, len_field(1, k));
  }
  const std::string alive = len_field(1, "n9") + len_field(2, "10.0.0.9:7946") + tags;
  EXPECT_EQ(decode(kHeader + len_field(2, len_field(5, alive))), DecodeStatus::kBadField);
  // A push-pull with more members than the limit.
  msg::PushPull pp;
  pp.source = "n1";
  pp.members.assign(lim.max_members + 1, msg::MemberEntry{"m", "10.0.0.1:1", "", 0, MemberState::kAlive});
  msg::PushPull out;
  lim.max_bytes = 4 << 20;  // a node's max_stream_size
  EXPECT_EQ(codec::decode(codec::encode(pp), lim, &out), DecodeStatus::kTooManyEntries);
  // A length that promises 2^62 bytes allocates nothing and is malformed.
  EXPECT_EQ(decode(kHeader + tag(2, 2) + varint(std::uint64_t{1} << 62) + "x"), DecodeStatus::kMalformed);
  EXPECT_EQ(decode(kHeader + len_field(2, len_field(5, len_field(1, "n") + tag(5, 2) +
                                                           varint(std::uint64_t{1} << 40)))),
            DecodeStatus::kMalformed);
}

TEST(GossipBadPacket, OversizedIsRefusedBeforeParsing) {
  codec::DecodeLimits lim;
  lim.max_bytes = 1400 * 4;  // what a node allows a datagram (node_impl.h)
  std::string filler = kHeader + len_field(2, len_field(2, len_field(2, std::string(100, 'a'))));
  while (filler.size() <= lim.max_bytes) filler += len_field(2, len_field(2, ""));
  msg::Packet out;
  EXPECT_EQ(codec::decode(filler, lim, &out), DecodeStatus::kOversize);
  // Garbage over the limit is "oversize", not "malformed": it is never parsed.
  EXPECT_EQ(codec::decode(std::string(lim.max_bytes + 1, '\xff'), lim, &out), DecodeStatus::kOversize);
  EXPECT_EQ(codec::decode(std::string(lim.max_bytes, '\xff'), lim, &out), DecodeStatus::kMalformed);
  msg::Stream st;
  EXPECT_EQ(codec::decode(std::string(lim.max_bytes + 1, '\0'), lim, &st), DecodeStatus::kOversize);
}

TEST(GossipBadPacket, PacketsNestedInPacketsNeverYieldTheInnerMessages) {
  const std::string inner = packet_of({msg::Dead{"n2", 5, "evil", false}, msg::Suspect{"n3", 5, "evil"}});
  // A whole packet as the body of one Message: its version field has the
  // wrong wire type for Message.ping, and its messages land in Message.ack.
  msg::Packet out;
  const DecodeStatus st = decode(kHeader + len_field(2, inner), &out);
  if (st == DecodeStatus::kOk) {
    for (const auto& m : out.messages) {
      EXPECT_FALSE(std::holds_alternative<msg::Dead>(m));
      EXPECT_FALSE(std::holds_alternative<msg::Suspect>(m));
    }
  }
  // A packet in an unknown Message field: no body, a bad field.
  EXPECT_EQ(decode(kHeader + len_field(2, len_field(9, inner))), DecodeStatus::kBadField);
  // A packet in an unknown Packet field: skipped, the outer messages stand.
  EXPECT_EQ(decode(packet_of({msg::Ack{1, "n1", 0}}) + len_field(7, inner), &out), DecodeStatus::kOk);
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<msg::Ack>(out.messages[0]));
  // Compounds nested 100,000 deep, as groups (the parser recurses into
  // unknown groups) and as length-delimited fields: refused, no stack overflow.
  std::string groups = kHeader;
  for (int i = 0; i < 100000; ++i) groups += tag(9, 3);
  for (int i = 0; i < 100000; ++i) groups += tag(9, 4);
  codec::DecodeLimits big;
  big.max_bytes = 1 << 20;
  EXPECT_EQ(decode(groups, nullptr, big), DecodeStatus::kMalformed);
  std::string nested = len_field(2, len_field(2, ""));
  for (int i = 0; i < 2000; ++i) nested = len_field(2, len_field(2, nested));
  EXPECT_NE(decode(kHeader + nested, nullptr, big), DecodeStatus::kOk);
}

}  // namespace
}  // namespace ringd::gossip
