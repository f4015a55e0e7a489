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
#include <algorithm>

#include "node_impl.h"

namespace ringd::gossip {

void Node::Impl::remember_dead(const Member& m, Time now) {
  if (m.name == cfg.name || m.address.empty()) return;
  if (dead_addresses.size() >= kMaxHealAddresses && !dead_addresses.contains(m.name)) {
    auto oldest = std::min_element(
        dead_addresses.begin(), dead_addresses.end(),
        [](const auto& a, const auto& b) { return a.second.died_at < b.second.died_at; });
    dead_addresses.erase(oldest);
  }
  dead_addresses[m.name] = DeadAddress{m.address, now};
}

void Node::Impl::heal(Time now) {
  if (leaving || !joined_ || cfg.heal_interval <= Duration::zero()) return;
  // Forget what is too old, or alive again, or left.
  std::erase_if(dead_addresses, [&](const auto& entry) {
    const MemberRecord* rec = table.find(entry.first);
    const bool still_dead = rec == nullptr || rec->member.state == MemberState::kDead;
    return !still_dead || now - entry.second.died_at > cfg.heal_dead_window;
  });
  std::vector<std::string> targets;
  auto live_at = [&](const std::string& address) {
    for (const auto& [name, rec] : table.all()) {
      if (rec.member.address == address && is_live(rec.member.state)) return true;
    }
    return false;
  };
  for (const auto& seed : seeds) {
    if (!live_at(seed)) targets.push_back(seed);
  }
  std::vector<std::string> dead;
  for (const auto& [name, d] : dead_addresses) {
    if (!live_at(d.address)) dead.push_back(d.address);
  }
  std::shuffle(dead.begin(), dead.end(), rng);
  if (dead.size() > kHealDeadPerRound) dead.resize(kHealDeadPerRound);
  targets.insert(targets.end(), dead.begin(), dead.end());
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  for (const auto& to : targets) {
    if (stream_pending_to(to)) continue;
    count(C::kHealSyncs);
    send_stream(to, false);
  }
}

}  // namespace ringd::gossip
