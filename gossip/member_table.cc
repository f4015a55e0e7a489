// gossip/member_table.cc — see member_table.h.
#include "member_table.h"

#include <algorithm>

namespace ringd::gossip {

MemberTable::MemberTable(std::string self_name) : self_(std::move(self_name)) {}

MemberRecord* MemberTable::find(std::string_view name) {
  auto it = members_.find(name);
  return it == members_.end() ? nullptr : &it->second;
}

const MemberRecord* MemberTable::find(std::string_view name) const {
  auto it = members_.find(name);
  return it == members_.end() ? nullptr : &it->second;
}

MemberRecord& MemberTable::insert(Member member, std::mt19937_64& rng) {
  const std::string name = member.name;
  touch();
  MemberRecord& rec = members_[name];
  rec = MemberRecord{};
  rec.member = std::move(member);
  if (name != self_) {
    // A random slot in the part of the round not walked yet.
    std::uniform_int_distribution<std::size_t> pos(probe_index_, probe_order_.size());
    probe_order_.insert(probe_order_.begin() + static_cast<std::ptrdiff_t>(pos(rng)), name);
  }
  return rec;
}

void MemberTable::erase(std::string_view name) {
  auto it = members_.find(name);
  if (it != members_.end()) members_.erase(it);
  touch();
  // The probe order skips unknown names lazily; drop them at the reshuffle.
}

void MemberTable::refresh() const {
  if (cached_version_ == version_) return;
  cached_version_ = version_;
  live_count_ = 0;
  alive_.clear();
  live_.clear();
  for (const auto& [name, rec] : members_) {
    const MemberState s = rec.member.state;
    if (!is_live(s)) continue;
    ++live_count_;
    if (name == self_) continue;
    live_.push_back(&rec);
    if (s == MemberState::kAlive) alive_.push_back(&rec);
  }
}

std::size_t MemberTable::live_count() const {
  refresh();
  return live_count_;
}

void MemberTable::reshuffle(std::mt19937_64& rng) {
  probe_order_.clear();
  for (const auto& [name, rec] : members_) {
    if (name != self_ && is_live(rec.member.state)) probe_order_.push_back(name);
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
    const std::string& name = probe_order_[probe_index_++];
    const MemberRecord* rec = find(name);
    if (rec != nullptr && name != self_ && is_live(rec->member.state)) return rec;
  }
  return nullptr;
}

std::vector<const MemberRecord*> MemberTable::random_members(std::mt19937_64& rng, std::size_t k,
                                                             Pick pick, std::string_view exclude_a,
                                                             std::string_view exclude_b) const {
  refresh();
  const std::vector<const MemberRecord*>& pool = pick == Pick::kAlive ? alive_ : live_;
  auto excluded = [&](const MemberRecord* r) {
    const std::string& name = r->member.name;
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
