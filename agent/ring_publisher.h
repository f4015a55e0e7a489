// agent/ring_publisher.h — membership -> ring snapshots -> readers.
//
// The gossip thread calls rebuild() after membership events; readers (RESP
// sessions, HTTP handlers) call rings() or current() and never wait: the new
// rings are built aside and published together by one atomic shared_ptr
// store.
//
// Which endpoints go on which ring, with which weights, is ring_input()
// (agent/ring_input.h), shared with the simulator's checker: the service
// endpoints of alive and suspect members (a suspect keeps its keys until it
// is declared dead) whose service passes its own agent's checks and is not
// drained (gossip::ServiceState), each weighted by the member's "weight"
// tag. The checksum covers that set, the weights and the ring options, so
// the order events arrive in and suspect flags never change it.
//
// Services. A member tagged service=NAME (--tag service=NAME) also belongs to
// the ring of service NAME. Every publish holds the ring of all endpoints
// (RESP db 0, /ring) and one ring per service, sorted by name: the first is
// db 1, the next db 2, and so on, so every agent that knows the same members
// numbers them the same way. A service is listed while the member table holds
// any member with an endpoint and that tag, in any state: when all of its
// backends die its ring is empty (lookups answer "no node") but its number
// stays until gossip forgets the dead members (gossip::Config::
// dead_forget_after), so the other services do not renumber on a crash.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent/ring_input.h"
#include "gossip/node.h"
#include "ring/ring.h"

namespace ringd::agent {

// One published generation: the all-endpoints ring and the service rings.
struct RingSet {
  std::shared_ptr<const ring::Ring> all;               // db 0
  std::vector<std::string> services;                   // sorted names: db 1 .. db services.size()
  std::vector<std::shared_ptr<const ring::Ring>> rings;  // parallel to services

  // The ring of service `name`; nullptr when there is no such service.
  const ring::Ring* find(std::string_view name) const;
  // The database number of service `name` (1..services.size()); 0 when
  // there is no such service.
  std::size_t database_of(std::string_view name) const;
  // The ring of database `db` (0: all); nullptr when out of range.
  const ring::Ring* db(std::size_t db) const;
};

class RingPublisher {
 public:
  explicit RingPublisher(ring::Options options);  // see ring_options(AgentConfig)

  // Rebuilds from ring_input(members): the passing service endpoints of
  // alive and suspect members. Returns true when any ring (its endpoints or
  // their weights) or the list of services changed.
  // Builds nothing when the rings' input (every ring's endpoints and
  // weights, and the service list) is the last build's: most membership
  // events (a router-only member, a suspect flag, an incarnation, another
  // tag) leave it as it was.
  bool rebuild(const std::vector<gossip::Member>& members);
  // How many times rebuild() built rings (not counting skipped ones).
  std::uint64_t builds() const { return builds_; }

  // The ring of every endpoint (db 0).
  std::shared_ptr<const ring::Ring> current() const {
    auto set = rings();
    const ring::Ring* all = set->all.get();
    return {std::move(set), all};
  }
  // Everything published by the last rebuild.
  std::shared_ptr<const RingSet> rings() const { return rings_.load(std::memory_order_acquire); }
  // Bumped on every publish: a reader holding a snapshot can compare this
  // (one atomic load) instead of reloading the shared_ptr.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // True once rebuild() has run at least once.
  bool ready() const { return ready_.load(std::memory_order_acquire); }

 private:
  // Logs a member's bad weight tag once per (member, value).
  void warn_weight_once(const gossip::Member& m, const std::string& problem);
  static constexpr std::size_t kMaxWeightWarnings = 1024;

  ring::Options options_;
  RingInput last_input_;                 // of the last build
  std::uint64_t builds_ = 0;
  std::set<std::string> weight_warned_;  // rebuild() runs on the gossip thread only
  bool lowered_warned_ = false;          // the default ring is over its point budget (warned)
  std::atomic<std::shared_ptr<const RingSet>> rings_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> ready_{false};
};

}  // namespace ringd::agent
