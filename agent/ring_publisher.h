// agent/ring_publisher.h — membership -> ring snapshot -> readers.
//
// The gossip thread calls rebuild() after membership events; readers (RESP
// sessions, HTTP handlers) call current() and never wait: the new ring is
// built aside and published by one atomic shared_ptr store.
//
// The ring holds the service endpoints of alive and suspect members (a
// suspect keeps its keys until it is declared dead), each weighted by the
// member's "weight" tag. The checksum covers that set, the weights and the
// ring options, so the order events arrive in and suspect flags never change
// it.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "gossip/node.h"
#include "ring/ring.h"

namespace ringd::agent {

// A member's ring weight: its "weight" tag, a decimal 1..65535; absent or
// malformed -> 1.
std::uint32_t weight_from_tags(const gossip::Tags& tags);

class RingPublisher {
 public:
  explicit RingPublisher(ring::Options options);  // see ring_options(AgentConfig)

  // Rebuilds from the service endpoints of alive and suspect members.
  // Returns true when the ring's node set changed.
  bool rebuild(const std::vector<gossip::Member>& members);

  std::shared_ptr<const ring::Ring> current() const { return ring_.load(std::memory_order_acquire); }

  // True once rebuild() has run at least once.
  bool ready() const { return ready_.load(std::memory_order_acquire); }

 private:
  ring::Options options_;
  std::atomic<std::shared_ptr<const ring::Ring>> ring_;
  std::atomic<bool> ready_{false};
};

}  // namespace ringd::agent
