// agent/ring_input.h — the production rule: which members put which
// endpoints, with which weights, on which rings.
//
// One pure function (no I/O, no logging, no clock) from a member list to the
// rings' input. RingPublisher builds the rings the agent serves from it, and
// the simulator's checker (tests/sim/support/sim_checker.cc) computes the
// checksum each simulated member would serve from it, so the two cannot
// drift apart. Its own library (ringd_ring_input, on gossip/ and ring/ only)
// so the simulator does not link the daemon.
//
// The rule:
//   * a member with no service endpoint is on no ring (a router-only member);
//   * an endpoint is on the rings while its member is alive or suspect (a
//     suspect keeps its keys until it is declared dead) and its service
//     state is passing (not failing, draining or unchecked: see
//     gossip::ServiceState);
//   * its weight is the member's "weight" tag (weight_from_tags);
//   * it is on the ring of every endpoint (db 0) and, when the member is
//     tagged service=NAME, on the ring of service NAME as well;
//   * a service is listed while any member with an endpoint carries its tag,
//     in any state (dead, left, failing, draining): its ring is then empty,
//     but the numbering of the other services does not change.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gossip/node.h"
#include "ring/ring.h"

namespace ringd::agent {

// A member's ring weight: its "weight" tag, a decimal 1..ring::kMaxWeight;
// absent -> 1. Another agent's tag is not trusted: a malformed value (or 0)
// counts as 1 and a larger one as kMaxWeight, and `problem` (when given)
// then says so. Our own is checked at start-up (config.cc).
std::uint32_t weight_from_tags(const gossip::Tags& tags, std::string* problem = nullptr);
// A member's service name: its "service" tag; "" when absent.
std::string_view service_from_tags(const gossip::Tags& tags);

// The rings' input: every ring's endpoints with their weights, each list
// sorted by endpoint (then weight), so the order members come in does not
// matter.
struct RingInput {
  std::vector<ring::WeightedNode> all;  // db 0
  // Every listed service (sorted by name: db 1, db 2, ...) and its endpoints.
  std::map<std::string, std::vector<ring::WeightedNode>, std::less<>> by_service;

  // Same endpoints and weights in every ring, and the same services.
  bool operator==(const RingInput& other) const;
};

// A weight tag that was not taken as it is (see weight_from_tags).
struct WeightProblem {
  std::size_t member;   // index into the member list
  std::string problem;  // weight_from_tags' explanation
};

// The rule above. `problems`, when given, receives the members (on a ring)
// whose weight tag was bounded or replaced, in member order.
RingInput ring_input(const std::vector<gossip::Member>& members, std::vector<WeightProblem>* problems = nullptr);

}  // namespace ringd::agent
