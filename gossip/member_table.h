// gossip/member_table.h — the local membership view and probe order.
//
// Holds one record per known member (self included), sorted by name so every
// iteration is deterministic. It stores state; the SWIM rules that decide
// state changes live in node.cc. Two selection helpers:
//   * next_probe_target(): randomized round-robin (SWIM §4.3): shuffle the
//     live members, walk the list, reshuffle at the end. New members are
//     inserted at a random position of the not-yet-walked rest, so each live
//     member is probed once per round and the worst-case detection time is
//     bounded;
//   * random_members(): k distinct random members for ping-req, gossip and
//     push-pull.
// Pointers returned stay valid until that member is erased.
//
// Whoever changes a member's state, incarnation, details or suspicion
// deadline calls touch(): the table and its owner cache what they derive
// from the whole view (live count, pick lists, digest, next deadline) and
// recompute it only after a touch, so a cluster of n members does not pay
// O(n) per packet. insert() and erase() touch by themselves.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "node.h"
#include "rtt.h"
#include "suspicion.h"

namespace ringd::gossip {

struct MemberRecord {
  Member member;
  // Set while member.state == kSuspect, and only then.
  std::unique_ptr<Suspicion> suspicion;
  // Dead by our own verdict, reached while we were cut off (node_timers.cc):
  // nobody else heard the suspicion, so it is never gossiped, never used to
  // correct others, and yields to news that the member lives at the same
  // incarnation. Cleared by any other state change.
  bool local_verdict = false;
  // Direct ping -> ack round trips to this member (sets its probe timeout).
  RttEstimator rtt;
  // When we last emitted a "UDP looks blocked" notice about it.
  std::optional<Time> udp_blocked_notice_at;
};

inline bool is_live(MemberState s) {
  return s == MemberState::kAlive || s == MemberState::kSuspect;
}

class MemberTable {
 public:
  using Map = std::map<std::string, MemberRecord, std::less<>>;

  explicit MemberTable(std::string self_name);

  MemberRecord* find(std::string_view name);
  const MemberRecord* find(std::string_view name) const;
  // Adds a member not yet known (the caller checks capacity).
  MemberRecord& insert(Member member, std::mt19937_64& rng);
  void erase(std::string_view name);

  const Map& all() const { return members_; }
  // Mutable access for state changes; do not insert or erase through it.
  Map& all_mut() { return members_; }
  std::size_t size() const { return members_.size(); }
  // Alive or suspect members, self included.
  std::size_t live_count() const;
  void touch() { ++version_; }
  // Changes with every touch (and insert/erase).
  std::uint64_t version() const { return version_; }

  const MemberRecord* next_probe_target(std::mt19937_64& rng);

  enum class Pick : std::uint8_t { kAlive, kLive };
  // Up to k distinct random members other than self and `exclude_a/b`,
  // alive only (kAlive) or alive or suspect (kLive).
  std::vector<const MemberRecord*> random_members(std::mt19937_64& rng, std::size_t k, Pick pick,
                                                  std::string_view exclude_a = {},
                                                  std::string_view exclude_b = {}) const;

 private:
  void reshuffle(std::mt19937_64& rng);
  void refresh() const;  // the caches below, if touched since

  std::string self_;
  Map members_;
  std::uint64_t version_ = 1;
  // Derived from members_ at version cached_version_.
  mutable std::uint64_t cached_version_ = 0;
  mutable std::size_t live_count_ = 0;
  mutable std::vector<const MemberRecord*> alive_;  // others, alive
  mutable std::vector<const MemberRecord*> live_;   // others, alive or suspect
  std::vector<std::string> probe_order_;
  std::size_t probe_index_ = 0;
};

}  // namespace ringd::gossip
