// gossip/member_table.cc — see member_table.h.
#include "member_table.h"

#include <algorithm>

namespace ringd::gossip {

// A simulated cluster of 10,000 keeps 10^8 records: with the set's 32-byte
// node this is a 96-byte allocation each.
static_assert(sizeof(void*) != 8 || sizeof(MemberRecord) <= 56, "MemberRecord grew");

MemberTable::MemberTable(std::string self_name, Duration forget_after, std::shared_ptr<IdentityPool> pool)
    : self_(std::move(self_name)),
      forget_after_(forget_after),
      pool_(pool ? std::move(pool) : std::make_shared<IdentityPool>()) {}

const MemberRecord* MemberTable::find(std::string_view name) const {
  return by_name_.find(name);
}

const MemberRecord& MemberTable::insert(Member member, std::mt19937_64& rng) {
  MemberRecord fresh;
  fresh.id = pool_->intern(member.name, member.address, member.service, member.tags, member.service_state);
  fresh.state = member.state;
  fresh.incarnation = member.incarnation;
  fresh.state_since = member.state_since;
  auto it = members_.lower_bound(member.name);
  Derived before;
  if (it != members_.end() && it->name() == member.name) {
    auto& rec = const_cast<MemberRecord&>(*it);
    updated(rec, derived(rec), /*gone=*/true);
    rec = std::move(fresh);  // the same name: the order holds
  } else {
    it = members_.emplace_hint(it, std::move(fresh));
    by_name_.insert(&*it);
  }
  auto& rec = const_cast<MemberRecord&>(*it);
  updated(rec, before);
  if (rec.name() != self_) {
    // A random slot in the part of the round not walked yet.
    std::uniform_int_distribution<std::size_t> pos(probe_index_, probe_order_.size());
    probe_order_.insert(probe_order_.begin() + static_cast<std::ptrdiff_t>(pos(rng)), rec.id);
  }
  return rec;
}

void MemberTable::erase(std::string_view name) {
  auto it = members_.find(name);
  if (it == members_.end()) return;
  auto& rec = const_cast<MemberRecord&>(*it);
  updated(rec, derived(rec), /*gone=*/true);
  by_name_.erase(&rec);
  members_.erase(it);
  // The probe order skips unknown names lazily; drop them at the reshuffle.
}

std::size_t MemberTable::adopt(const std::vector<Member>& members, Time since, std::size_t limit,
                              std::mt19937_64& rng) {
  std::size_t refused = 0;
  std::vector<const Member*> sorted;
  sorted.reserve(members.size());
  for (const Member& m : members) sorted.push_back(&m);
  std::sort(sorted.begin(), sorted.end(), [](const Member* a, const Member* b) { return a->name < b->name; });
  alive_.reserve(alive_.size() + members.size());
  live_.reserve(live_.size() + members.size());
  for (const Member* mp : sorted) {
    const Member& m = *mp;
    if (find(m.name) != nullptr) continue;
    if (members_.size() >= limit) {
      ++refused;
      continue;
    }
    MemberRecord fresh;
    fresh.id = pool_->intern(m.name, m.address, m.service, m.tags, m.service_state);
    fresh.state = m.state;
    fresh.incarnation = m.incarnation;
    fresh.state_since = since;
    // In name order, each goes at the end (O(1)) but where self's name is passed.
    auto it = members_.emplace_hint(members_.end(), std::move(fresh));
    by_name_.insert(&*it);
    updated(const_cast<MemberRecord&>(*it), Derived{});
  }
  reshuffle(rng);
  return refused;
}

std::uint64_t MemberTable::digest_part(const MemberRecord& m) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](std::string_view bytes) {
    for (unsigned char ch : bytes) h = (h ^ ch) * 0x100000001b3ULL;
    h = (h ^ 0xff) * 0x100000001b3ULL;  // field separator
  };
  mix(m.name());
  mix(std::string_view(reinterpret_cast<const char*>(&m.incarnation), sizeof m.incarnation));
  mix(m.address());
  mix(m.service());
  if (m.service_state() != ServiceState::kPassing) {  // absent when passing: as peers without the field
    const auto state = static_cast<char>(m.service_state());
    mix(std::string_view(&state, 1));
  }
  for (const auto& [k, v] : m.tags()) {
    mix(k);
    mix(v);
  }
  return h;
}

Time MemberTable::deadline_of(const MemberRecord& rec) const {
  const MemberRecord& m = rec;
  if (m.state == MemberState::kSuspect) {
    return rec.suspicion ? rec.suspicion->deadline() : Time::max();
  }
  if (!is_live(m.state) && m.name() != self_) return m.state_since + forget_after_;
  return Time::max();
}

namespace {

// Adds or removes `rec` in a list kept in name order.
void place(std::vector<const MemberRecord*>& list, const MemberRecord& rec, bool in) {
  auto it = std::lower_bound(list.begin(), list.end(), &rec, [](const MemberRecord* a, const MemberRecord* b) {
    return a->name() < b->name();
  });
  const bool there = it != list.end() && *it == &rec;
  if (in && !there) list.insert(it, &rec);
  if (!in && there) list.erase(it);
}

}  // namespace

MemberTable::Derived MemberTable::derived(const MemberRecord& rec) const {
  return Derived{rec.live_ ? digest_part(rec) : 0, deadline_of(rec)};
}

void MemberTable::updated(MemberRecord& rec, Derived before, bool gone) {
  const bool live = !gone && is_live(rec.state);
  const bool alive = !gone && rec.state == MemberState::kAlive;
  const bool others = rec.name() != self_;
  if (live != rec.live_) {
    if (live) {
      ++live_count_;
    } else {
      --live_count_;
    }
    if (others) place(live_, rec, live);
  }
  if (alive != rec.alive_ && others) place(alive_, rec, alive);
  rec.live_ = live;
  rec.alive_ = alive;
  digest_sum_ += (live ? digest_part(rec) : 0) - before.digest_part;
  const Time deadline = gone ? Time::max() : deadline_of(rec);
  if (deadline != before.deadline) {
    if (before.deadline != Time::max()) deadlines_.erase({before.deadline, &rec});
    if (deadline != Time::max()) deadlines_.insert({deadline, &rec});
  }
}

Time MemberTable::earliest_deadline() const {
  return deadlines_.empty() ? Time::max() : deadlines_.begin()->first;
}

std::string MemberTable::check() const {
  std::size_t live_count = 0;
  std::uint64_t sum = 0;
  std::vector<const MemberRecord*> alive;
  std::vector<const MemberRecord*> live;
  Time earliest = Time::max();
  std::size_t deadlines = 0;
  bool found_wrong = false;
  for (const MemberRecord& rec : members_) {
    const MemberState s = rec.state;
    const Time deadline = deadline_of(rec);
    earliest = std::min(earliest, deadline);
    if (deadline != Time::max()) ++deadlines;
    if (find(rec.name()) != &rec) found_wrong = true;
    if (!is_live(s)) continue;
    ++live_count;
    sum += digest_part(rec);
    if (rec.name() == self_) continue;
    live.push_back(&rec);
    if (s == MemberState::kAlive) alive.push_back(&rec);
  }
  std::string diff;
  if (live_count != live_count_) diff += "live count; ";
  if (sum != digest_sum_) diff += "digest; ";
  if (alive != alive_) diff += "alive list; ";
  if (live != live_) diff += "live list; ";
  if (earliest != earliest_deadline()) diff += "earliest deadline; ";
  if (deadlines != deadlines_.size()) diff += "deadline index; ";
  if (found_wrong || by_name_.size() != members_.size()) diff += "name index; ";
  return diff;
}

void MemberTable::reshuffle(std::mt19937_64& rng) {
  probe_order_.clear();
  probe_order_.reserve(live_.size());
  for (const MemberRecord& rec : members_) {
    if (rec.name() != self_ && is_live(rec.state)) probe_order_.push_back(rec.id);
  }
  std::shuffle(probe_order_.begin(), probe_order_.end(), rng);
  probe_index_ = 0;
}

const MemberRecord* MemberTable::next_probe_target(std::mt19937_64& rng) {
  // Each step either consumes an entry or reshuffles; two rounds at most.
  const std::size_t max_steps = 2 * (probe_order_.size() + members_.size()) + 2;
  bool reshuffled = false;
  for (std::size_t step = 0; step < max_steps; ++step) {
    if (probe_index_ >= probe_order_.size()) {
      if (reshuffled) return nullptr;  // nothing probeable
      reshuffle(rng);
      reshuffled = true;
      if (probe_order_.empty()) return nullptr;
    }
    const std::string& name = probe_order_[probe_index_++]->name;
    const MemberRecord* rec = find(name);
    if (rec != nullptr && name != self_ && is_live(rec->state)) return rec;
  }
  return nullptr;
}

std::vector<const MemberRecord*> MemberTable::random_members(std::mt19937_64& rng, std::size_t k,
                                                             Pick pick, std::string_view exclude_a,
                                                             std::string_view exclude_b) const {
  const std::vector<const MemberRecord*>& pool = pick == Pick::kAlive ? alive_ : live_;
  auto excluded = [&](const MemberRecord* r) {
    const std::string& name = r->name();
    return (!exclude_a.empty() && name == exclude_a) || (!exclude_b.empty() && name == exclude_b);
  };
  std::vector<const MemberRecord*> out;
  if (k == 0 || pool.empty()) return out;
  if (k * 4 >= pool.size()) {
    // Small pool: partial Fisher-Yates over a copy; the first k slots are a
    // uniform random sample.
    std::vector<const MemberRecord*> candidates;
    candidates.reserve(pool.size());
    for (const MemberRecord* r : pool) {
      if (!excluded(r)) candidates.push_back(r);
    }
    const std::size_t n = std::min(k, candidates.size());
    for (std::size_t i = 0; i < n; ++i) {
      std::uniform_int_distribution<std::size_t> d(i, candidates.size() - 1);
      std::swap(candidates[i], candidates[d(rng)]);
    }
    candidates.resize(n);
    return candidates;
  }
  // Large pool: draw indexes until k distinct, non-excluded ones (at most
  // two members are excluded and k <= pool/4, so this ends quickly).
  std::uniform_int_distribution<std::size_t> d(0, pool.size() - 1);
  for (std::size_t tries = 0; out.size() < k && tries < 64 * k; ++tries) {
    const MemberRecord* r = pool[d(rng)];
    if (excluded(r) || std::find(out.begin(), out.end(), r) != out.end()) continue;
    out.push_back(r);
  }
  return out;
}

}  // namespace ringd::gossip
