// gossip/member_table.h — the local membership view and probe order.
//
// Holds one record per known member (self included), sorted by name so every
// iteration is deterministic. It stores state; the SWIM rules that decide
// state changes live in node_rules.cc and node_timers.cc. Two selection
// helpers:
//   * next_probe_target(): randomized round-robin (SWIM §4.3): shuffle the
//     live members, walk the list, reshuffle at the end. New members are
//     inserted at a random position of the not-yet-walked rest, so each live
//     member is probed once per round and the worst-case detection time is
//     bounded;
//   * random_members(): k distinct random members for ping-req, gossip and
//     push-pull.
// Pointers returned stay valid until that member is erased.
//
// The table also keeps what the node derives from the whole view: the live
// count, the alive and live pick lists (in name order), the digest of the
// live view and the earliest member deadline. A record is changed only
// through an Edit (MemberTable::edit): when the Edit ends, the table
// updates all of these for that one record, so nothing is rescanned per
// packet and no caller has to remember to refresh anything. check()
// recomputes everything from scratch, for tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "node.h"
#include "member_identity.h"
#include "name_index.h"
#include "rtt.h"
#include "suspicion.h"

namespace ringd::gossip {

class MemberTable;

struct MemberRecord {
  // Name, address, service, tags and service state (change them with
  // MemberTable::Edit::set_details; the name never changes).
  IdentityRef id;
  std::uint64_t incarnation = 0;
  Time state_since{};  // when this node last saw the state change
  // Set while state == kSuspect, and only then.
  std::unique_ptr<Suspicion> suspicion;

  // Notes about our link to the member, not part of the view (nothing is
  // derived from them), so they may change without an Edit.
  // Direct ping -> ack round trips to this member (sets its probe timeout).
  mutable RttEstimator rtt;

  MemberState state = MemberState::kAlive;
  // Dead by our own verdict, reached while we were cut off (node_timers.cc):
  // nobody else heard the suspicion, so it is never gossiped, never used to
  // correct others, and yields to news that the member lives at the same
  // incarnation. Cleared by any other state change.
  bool local_verdict = false;

  const std::string& name() const { return id->name; }
  const std::string& address() const { return id->address; }
  const std::string& service() const { return id->service; }
  const Tags& tags() const { return id->tags; }
  ServiceState service_state() const { return id->service_state; }
  // A copy as the public Member, for events and callers outside gossip/.
  Member member() const {
    return Member{name(), address(), service(), state, incarnation, state_since, tags(), service_state()};
  }

 private:
  friend class MemberTable;
  // Where the table counted this record when it last changed (its digest
  // part and deadline are recomputed when an Edit starts: a record at
  // N = 10,000 in each of 10,000 simulated views is kept small).
  bool live_ = false;   // counted as live (and, unless self, in live_)
  bool alive_ = false;  // unless self, in alive_
};

inline bool is_live(MemberState s) {
  return s == MemberState::kAlive || s == MemberState::kSuspect;
}

class MemberTable {
 public:
  // Records ordered by name (the identity's; no separate key is stored).
  struct ByName {
    using is_transparent = void;
    bool operator()(const MemberRecord& a, const MemberRecord& b) const { return a.name() < b.name(); }
    bool operator()(const MemberRecord& a, std::string_view b) const { return a.name() < b; }
    bool operator()(std::string_view a, const MemberRecord& b) const { return a < b.name(); }
  };
  using Records = std::set<MemberRecord, ByName>;

  // `forget_after`: how long a dead or departed member is kept
  // (Config::dead_forget_after), which sets its deadline.
  // `pool`: where identities are interned; nodes driven from one thread may
  // share one (a simulated cluster does). Null: a pool of its own.
  MemberTable(std::string self_name, Duration forget_after, std::shared_ptr<IdentityPool> pool = nullptr);

  const MemberRecord* find(std::string_view name) const;
  // Adds a member not yet known (the caller checks capacity).
  const MemberRecord& insert(Member member, std::mt19937_64& rng);
  void erase(std::string_view name);
  // Adds many members not yet known at once (names already present are
  // skipped), with state_since = `since`, without the per-insert costs:
  // they are taken in name order and the probe order is reshuffled once at
  // the end. At most `limit` records in all; returns how many were left out
  // for that. For a node that starts from a known view.
  std::size_t adopt(const std::vector<Member>& members, Time since, std::size_t limit, std::mt19937_64& rng);

  const Records& all() const { return members_; }
  std::size_t size() const { return members_.size(); }
  // Alive or suspect members, self included.
  std::size_t live_count() const { return live_count_; }

 private:
  // What the table derives from one record besides its liveness: its share
  // of the live digest and its entry in the deadline index.
  struct Derived {
    std::uint64_t digest_part = 0;
    Time deadline = Time::max();
  };

 public:
  // A change to one record. Change it through the Edit; when the Edit goes
  // out of scope the table updates what it derives from the record. Do not
  // insert or erase members while an Edit is open.
  class Edit {
   public:
    Edit(const Edit&) = delete;
    Edit& operator=(const Edit&) = delete;
    ~Edit() { table_->updated(*rec_, before_); }
    MemberRecord& operator*() const { return *rec_; }
    MemberRecord* operator->() const { return rec_; }
    // New address, service, tags or service state (the name stays).
    void set_details(std::string_view address, std::string_view service, const Tags& tags,
                     ServiceState service_state) {
      rec_->id = table_->pool_->intern(rec_->name(), address, service, tags, service_state);
    }

   private:
    friend class MemberTable;
    Edit(MemberTable* table, MemberRecord* rec) : table_(table), rec_(rec), before_(table->derived(*rec)) {}
    MemberTable* table_;
    MemberRecord* rec_;
    Derived before_;
  };
  // (Records are set elements, so const; the table's own records may change
  // anything but the name, which orders them.)
  [[nodiscard]] Edit edit(const MemberRecord& rec) { return Edit(this, const_cast<MemberRecord*>(&rec)); }

  // Order-independent digest of the live view: the sum of a 64-bit FNV-1a
  // over (name, incarnation, address, service, service state, tags) of every
  // alive or suspect member. Never 0 (0 means "no digest" on the wire).
  std::uint64_t live_digest() const { return digest_sum_ == 0 ? 1 : digest_sum_; }
  // The earliest suspicion deadline, or time to forget a dead or departed
  // member (not self); Time::max() when there is none.
  Time earliest_deadline() const;

  const MemberRecord* next_probe_target(std::mt19937_64& rng);

  enum class Pick : std::uint8_t { kAlive, kLive };
  // Up to k distinct random members other than self and `exclude_a/b`,
  // alive only (kAlive) or alive or suspect (kLive).
  std::vector<const MemberRecord*> random_members(std::mt19937_64& rng, std::size_t k, Pick pick,
                                                  std::string_view exclude_a = {},
                                                  std::string_view exclude_b = {}) const;

  // Recomputes every derived value from the records and compares: "" when
  // all agree, else what differs. For tests.
  std::string check() const;

 private:
  static std::uint64_t digest_part(const MemberRecord& rec);
  Time deadline_of(const MemberRecord& rec) const;
  // For a record whose derived state is up to date.
  Derived derived(const MemberRecord& rec) const;
  // Brings the derived state in line with `rec` after a change (or after
  // insertion, or before erasure with `gone`); `before` is what the table
  // had derived from it.
  void updated(MemberRecord& rec, Derived before, bool gone = false);
  void reshuffle(std::mt19937_64& rng);

  std::string self_;
  Duration forget_after_;
  std::shared_ptr<IdentityPool> pool_;  // before members_: it outlives their references
  Records members_;
  NameIndex<MemberRecord> by_name_;  // find() in O(1)
  std::size_t live_count_ = 0;
  std::uint64_t digest_sum_ = 0;
  // Others, in name order: alive, and alive or suspect.
  std::vector<const MemberRecord*> alive_;
  std::vector<const MemberRecord*> live_;
  std::set<std::pair<Time, const MemberRecord*>> deadlines_;
  // Names (held by identity) in probe order; an erased member's entry is
  // skipped when reached, and one that came back is probed under its name.
  std::vector<IdentityRef> probe_order_;
  std::size_t probe_index_ = 0;
};

}  // namespace ringd::gossip
