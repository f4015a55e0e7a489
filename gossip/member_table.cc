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
  // The probe order skips unknown names lazily; drop them at the reshuffle.
}

std::size_t MemberTable::live_count() const {
  std::size_t n = 0;
  for (const auto& [_, rec] : members_) n += is_live(rec.member.state) ? 1 : 0;
  return n;
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
  std::vector<const MemberRecord*> candidates;
  for (const auto& [name, rec] : members_) {
    if (name == self_ || name == exclude_a || name == exclude_b) continue;
    const MemberState s = rec.member.state;
    if (pick == Pick::kAlive ? s != MemberState::kAlive : !is_live(s)) continue;
    candidates.push_back(&rec);
  }
  // Partial Fisher-Yates: the first k slots are a uniform random sample.
  const std::size_t n = std::min(k, candidates.size());
  for (std::size_t i = 0; i < n; ++i) {
    std::uniform_int_distribution<std::size_t> d(i, candidates.size() - 1);
    std::swap(candidates[i], candidates[d(rng)]);
  }
  candidates.resize(n);
  return candidates;
}

}  // namespace ringd::gossip
