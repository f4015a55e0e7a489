// libFuzzer target for the gossip wire decoder (gossip/codec) and for a
// gossip::Node fed whatever decodes. Built by tests/fuzz/CMakeLists.txt
// (clang, -fsanitize=fuzzer,address,undefined) and run by ctest as
// gossip_fuzz for a fixed time on tests/fuzz/corpus/gossip. By hand:
//
//   ./build/tests/fuzz/gossip_fuzz -max_len=8192 tests/fuzz/corpus/gossip
//
// Input: datagrams separated by kSeparator (most corpus files hold one).
// Every datagram goes to the decoders (packet and stream), then to a Node
// that already knows three members, on a virtual clock that moves 37 ms
// and runs the node's timers between datagrams; the first one is also
// served as a TCP stream request and as the reply to the node's pending
// join. Checks, besides "no crash, no sanitizer report":
//  * a packet that decodes re-encodes to bytes that decode to the same
//    packet, within the limits;
//  * the node's output datagrams fit max_packet_size and decode;
//  * the member table stays within max_members (+ self);
//  * whatever it hears about itself, the node stays alive (it refutes);
//  * after tick(now), the next deadline is later than now (no busy loop).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "gossip/codec.h"
#include "gossip/node.h"

namespace {

namespace gossip = ringd::gossip;
namespace codec = ringd::gossip::codec;
namespace msg = ringd::gossip::msg;

constexpr std::string_view kSeparator = "\xff\xfeRDSEP\xfe\xff";
constexpr std::size_t kMaxMembers = 16;

void check(bool ok) {
  if (!ok) std::abort();
}

gossip::Config fuzz_config() {
  gossip::Config c;
  c.name = "n0";
  c.advertise = "10.0.0.1:7946";
  c.max_members = kMaxMembers;
  c.max_broadcasts = 64;
  return c;
}

std::string packet_of(std::vector<msg::Message> ms) {
  msg::Packet p;
  p.messages = std::move(ms);
  return codec::encode(p);
}

void check_decoders(std::string_view bytes) {
  const codec::DecodeLimits limits;
  msg::Packet packet;
  if (codec::decode(bytes, limits, &packet) == codec::DecodeStatus::kOk) {
    check(packet.messages.size() <= limits.max_messages);
    msg::Packet again;
    check(codec::decode(codec::encode(packet), limits, &again) == codec::DecodeStatus::kOk);
    check(again == packet);
  }
  msg::Stream stream;
  if (codec::decode(bytes, limits, &stream) == codec::DecodeStatus::kOk) {
    msg::Stream again;
    check(codec::decode(codec::encode(stream), limits, &again) == codec::DecodeStatus::kOk);
    check(again == stream);
  }
}

void drain(gossip::Node& node, const gossip::Config& cfg) {
  for (const auto& d : node.take_datagrams()) {
    check(d.bytes.size() <= cfg.max_packet_size);
    msg::Packet p;
    check(codec::decode(d.bytes, codec::DecodeLimits{}, &p) == codec::DecodeStatus::kOk);
  }
  node.take_events();
  node.take_notices();
}

void check_node(const gossip::Node& node) {
  check(node.members().size() <= kMaxMembers + 1);
  check(node.self().state == gossip::MemberState::kAlive);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> datagrams;
  for (std::size_t pos = 0;;) {
    const std::size_t end = input.find(kSeparator, pos);
    datagrams.push_back(input.substr(pos, end == std::string_view::npos ? end : end - pos));
    if (end == std::string_view::npos) break;
    pos = end + kSeparator.size();
  }

  const gossip::Config cfg = fuzz_config();
  gossip::Node node(cfg, 1);
  gossip::Time now = std::chrono::seconds(1000);
  node.start(now, {"10.0.0.2:7946"});
  auto joins = node.take_stream_requests();
  node.handle_packet(now, "10.0.0.2:7946",
                     packet_of({msg::Alive{"n1", "10.0.0.2:7946", "10.0.0.2:8000", 3},
                                msg::Alive{"n2", "10.0.0.3:7946", "", 1},
                                msg::Alive{"n3", "10.0.0.4:7946", "10.0.0.4:8000", 7}}));
  drain(node, cfg);

  for (std::size_t i = 0; i < datagrams.size(); ++i) {
    const std::string_view bytes = datagrams[i];
    check_decoders(bytes);
    node.handle_packet(now, i % 2 == 0 ? "10.0.0.2:7946" : "10.66.6.6:666", bytes);
    drain(node, cfg);
    if (i == 0) {
      (void)node.handle_stream(now, "10.0.0.3:40000", bytes);
      for (const auto& r : joins) node.handle_stream_reply(now, r.id, bytes);
      joins.clear();
      drain(node, cfg);
    }
    check_node(node);
    now += std::chrono::milliseconds(37);
    while (node.next_deadline() <= now) {
      const gossip::Time due = node.next_deadline();
      node.tick(due);
      check(node.next_deadline() > due);
      for (const auto& r : node.take_stream_requests()) node.handle_stream_error(due, r.id, "fuzz");
      drain(node, cfg);
    }
    check_node(node);
  }
  return 0;
}
