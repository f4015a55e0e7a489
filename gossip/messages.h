// gossip/messages.h — the gossip messages as plain C++ values.
//
// These mirror proto/gossip.proto one to one; gossip/codec translates
// between the two, so nothing else in gossip/ sees generated code. See the
// .proto (or codec.h) for the packet layout.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "node.h"

namespace ringd::gossip::msg {

inline constexpr std::uint32_t kProtocolVersion = 1;

struct Ping {
  std::uint64_t seq = 0;
  std::string target;          // name of the member we mean to probe
  std::string source;          // prober's name
  std::string source_address;  // prober's advertised address
  friend bool operator==(const Ping&, const Ping&) = default;
};

struct Ack {
  std::uint64_t seq = 0;
  std::string source;  // who answered
  std::uint64_t digest = 0;  // answerer's live-view digest; 0 = none
  friend bool operator==(const Ack&, const Ack&) = default;
};

struct Nack {
  std::uint64_t seq = 0;
  std::string source;  // the relay that gave up
  friend bool operator==(const Nack&, const Nack&) = default;
};

struct PingReq {
  std::uint64_t seq = 0;  // the requester's probe sequence number
  std::string target;
  std::string target_address;
  std::string source;
  std::string source_address;
  friend bool operator==(const PingReq&, const PingReq&) = default;
};

struct Alive {
  std::string name;
  std::string address;
  std::string service;
  std::uint64_t incarnation = 0;
  Tags tags{};
  ServiceState service_state = ServiceState::kPassing;
  friend bool operator==(const Alive&, const Alive&) = default;
};

struct Suspect {
  std::string name;
  std::uint64_t incarnation = 0;
  std::string from;
  friend bool operator==(const Suspect&, const Suspect&) = default;
};

struct Dead {
  std::string name;
  std::uint64_t incarnation = 0;
  std::string from;
  bool left = false;  // graceful leave rather than failure
  friend bool operator==(const Dead&, const Dead&) = default;
};

using Message = std::variant<Ping, Ack, Nack, PingReq, Alive, Suspect, Dead>;

// One UDP datagram.
struct Packet {
  std::uint32_t version = kProtocolVersion;
  std::vector<Message> messages;
  friend bool operator==(const Packet&, const Packet&) = default;
};

// One member's state in a full-state exchange.
struct MemberEntry {
  std::string name;
  std::string address;
  std::string service;
  std::uint64_t incarnation = 0;
  MemberState state = MemberState::kAlive;
  Tags tags{};
  ServiceState service_state = ServiceState::kPassing;
  friend bool operator==(const MemberEntry&, const MemberEntry&) = default;
};

// One TCP request or reply.
struct PushPull {
  std::uint32_t version = kProtocolVersion;
  bool join = false;
  std::string source;
  std::vector<MemberEntry> members;
  friend bool operator==(const PushPull&, const PushPull&) = default;
};

// One TCP request or reply of any kind: a state sync (PushPull both ways) or
// a fallback probe (Ping request, Ack reply).
using Stream = std::variant<PushPull, Ping, Ack>;

}  // namespace ringd::gossip::msg
