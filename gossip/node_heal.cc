// gossip/node_heal.cc — partition healing (see node_impl.h).
//
// When a network splits, each side declares the other dead; once dead, a
// member is neither probed nor gossiped to, so nothing would ever bring the
// halves back together (memberlist's most reported gap). Every
// heal_interval each member therefore runs a full-state sync with
//   * every configured seed that is not currently a live member, and
//   * up to kHealDeadPerRound random members that died (not left) within
//     heal_dead_window.
// A sync across the former cut makes the far side learn that it is thought
// dead, so it refutes; the refutations then spread through both halves as
// ordinary gossip, and probes that now succeed finish the repair.
//
// A 30 s round alone leaves a merge waiting up to a round after the cut
// lifts (tests/net measured tails past 10 s), and costs each dead address a
// sync from every member. So the dead get their own round (heal_dead()):
// every heal_dead_interval, each member syncs with each recently dead
// address with probability heal_dead_rate / live members, about
// heal_dead_rate tries per interval for the cluster as a whole, whatever
// its size; the heal_interval round then keeps to the seeds.
#include <algorithm>
#include <random>

#include "node_impl.h"

namespace ringd::gossip {

void Node::Impl::remember_dead(const MemberRecord& m, Time now) {
  if (m.name() == cfg.name || m.address().empty()) return;
  if (dead_addresses.size() >= kMaxHealAddresses && !dead_addresses.contains(m.name())) {
    auto oldest = std::min_element(
        dead_addresses.begin(), dead_addresses.end(),
        [](const auto& a, const auto& b) { return a.second.died_at < b.second.died_at; });
    dead_addresses.erase(oldest);
  }
  dead_addresses[m.name()] = DeadAddress{m.address(), now};
}

// Forgets what is too old, or alive again, or left.
void Node::Impl::forget_healed(Time now) {
  std::erase_if(dead_addresses, [&](const auto& entry) {
    const MemberRecord* rec = table.find(entry.first);
    const bool still_dead = rec == nullptr || rec->state == MemberState::kDead;
    return !still_dead || now - entry.second.died_at > cfg.heal_dead_window;
  });
}

bool Node::Impl::live_at(const std::string& address) const {
  for (const MemberRecord& rec : table.all()) {
    if (rec.address() == address && is_live(rec.state)) return true;
  }
  return false;
}

void Node::Impl::heal_dead(Time now) {
  if (leaving || !joined_ || dead_addresses.empty()) return;
  forget_healed(now);
  const double p = cfg.heal_dead_rate / static_cast<double>(std::max<std::size_t>(table.live_count(), 1));
  std::bernoulli_distribution pick(std::min(p, 1.0));
  std::vector<std::string> picked;
  for (const auto& [name, d] : dead_addresses) {
    if (pick(rng) && !live_at(d.address) && !pending_streams.sync_to(d.address)) picked.push_back(d.address);
  }
  // At most kHealDeadPerRound, a random few: in a small cluster p is 1, and
  // the map's name order would otherwise always pick the same ones.
  std::shuffle(picked.begin(), picked.end(), rng);
  if (picked.size() > kHealDeadPerRound) picked.resize(kHealDeadPerRound);
  for (const auto& to : picked) {
    count(C::kHealSyncs);
    send_stream(to, false);
  }
}

void Node::Impl::heal(Time now) {
  if (leaving || !joined_ || cfg.heal_interval <= Duration::zero()) return;
  forget_healed(now);
  std::vector<std::string> targets;
  for (const auto& seed : seeds) {
    if (!live_at(seed)) targets.push_back(seed);
  }
  std::vector<std::string> dead;
  // With heal_dead() on, the dead are its business, at a cost that does not
  // grow with the cluster; this round keeps to the seeds.
  const bool dead_round_elsewhere = cfg.heal_dead_interval > Duration::zero() && cfg.heal_dead_rate > 0;
  for (const auto& [name, d] : dead_addresses) {
    if (!dead_round_elsewhere && !live_at(d.address)) dead.push_back(d.address);
  }
  std::shuffle(dead.begin(), dead.end(), rng);
  if (dead.size() > kHealDeadPerRound) dead.resize(kHealDeadPerRound);
  targets.insert(targets.end(), dead.begin(), dead.end());
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  for (const auto& to : targets) {
    if (pending_streams.sync_to(to)) continue;
    count(C::kHealSyncs);
    send_stream(to, false);
  }
}

}  // namespace ringd::gossip
