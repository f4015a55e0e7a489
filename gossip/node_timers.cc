// gossip/node_timers.cc — the timers (see node_impl.h).
#include <algorithm>
#include <cmath>

#include "node_impl.h"

namespace ringd::gossip {

// A suspicion gives the suspect time to hear of it and refute. That only
// works while we are connected: cut off (three probes in a row without any
// answer, or no ack or nack for three probe periods: isolated, or just
// resumed from a pause) we could neither have spread the suspicion nor heard
// the refutation. So instead of declaring the member dead we hold the
// suspicion: restart its clock and gossip it again. When contact comes back
// every suspicion restarts once more (and is gossiped again), so the suspect
// gets a fair chance to refute: what we sent while cut off went nowhere.
//
// A suspicion that nobody else confirmed is held the same way (when the
// cluster is large enough to confirm, expected_confirmations > 0): a
// crashed member is probed by somebody every probe period or so, so a real
// failure gets confirmed well within the longest timeout, while a suspicion
// that only we hold (we are half cut off: only a few members answer us, or
// our link to the suspect is bad) says more about us than about it.
//
// Held for longer than kMaxHoldFactor times its longest timeout, a
// suspicion ends in a verdict after all (everyone else may really have
// crashed, and then our ring must drop them), but that verdict is ours
// alone: it is not gossiped, never used to correct anyone, and yields to
// the first sign that the member lives at the same incarnation
// (MemberRecord::local_verdict). Gossiping such verdicts is what used to
// kill healthy members: after an isolation or a long pause, the stale
// "dead" reached members that had been talking to the victim all along,
// and SWIM's rules made them accept it. With nobody but us and the suspect
// left there is no one to be cut off from; we decide.
void Node::Impl::expire_suspicions(Time now) {
  constexpr int kMaxHoldFactor = 4;
  const bool was_cut_off = cut_off;
  cut_off = contact.cut_off(now, probe_interval_now()) && table.live_count() >= 3;
  const bool reconnected = was_cut_off && !cut_off;
  if (!reconnected && table.earliest_deadline() > now) return;  // nothing due
  for (const MemberRecord& found : table.all()) {
    const std::string& name = found.name();
    if (found.state != MemberState::kSuspect) continue;
    auto rec = table.edit(found);
    MemberRecord& m = *rec;
    Suspicion& sus = *rec->suspicion;
    if (reconnected) {
      sus.restart(now);
      broadcast(name, msg::Suspect{name, m.incarnation, cfg.name});
      continue;
    }
    if (sus.deadline() > now) continue;
    const bool ours_alone = cut_off || !sus.confirmed();
    if (ours_alone && !sus.held_too_long(now, kMaxHoldFactor)) {
      count(cut_off ? C::kSuspicionsHeld : C::kUnconfirmedHeld);
      sus.hold(now);
      broadcast(name, msg::Suspect{name, m.incarnation, cfg.name});
      continue;
    }
    m.state = MemberState::kDead;
    m.state_since = now;
    rec->suspicion.reset();
    count(C::kMembersDead);
    remember_dead(m, now);
    emit(Event::Kind::kDead, m.member());
    if (ours_alone) {
      count(C::kDeathsKeptLocal);
      rec->local_verdict = true;
    } else {
      broadcast(name, msg::Dead{name, m.incarnation, cfg.name, false});
    }
  }
}

void Node::Impl::forget_dead(Time now) {
  if (table.earliest_deadline() > now) return;  // nothing due
  std::vector<std::string> gone;
  for (const MemberRecord& m : table.all()) {
    if (m.name() == cfg.name || is_live(m.state)) continue;
    if (now - m.state_since >= cfg.dead_forget_after) gone.push_back(m.name());
  }
  for (const auto& name : gone) {
    table.erase(name);
    udp_blocked_notices.erase(name);
    count(C::kMembersForgotten);
  }
}

Duration Node::Impl::push_pull_interval_now() const {
  constexpr std::size_t kScaleAbove = 32;
  const std::size_t n = table.live_count();
  if (!cfg.push_pull_scale || n <= kScaleAbove) return cfg.push_pull_interval;
  const double steps = std::ceil(std::log2(static_cast<double>(n)) - std::log2(static_cast<double>(kScaleAbove)));
  return cfg.push_pull_interval * (static_cast<std::int64_t>(steps) + 1);
}

void Node::Impl::tick(Time now) {
  if (!started) return;
  for (auto it = relays.begin(); it != relays.end();) {
    if (it->second.deadline <= now) {
      count(C::kNacksSent);
      send(it->second.requester, {msg::Nack{it->second.orig_seq, cfg.name}});
      it = relays.erase(it);
    } else {
      ++it;
    }
  }
  expire_address_checks(now);
  const bool quiet = holding_back();  // not a member under our name (node_conflict.cc)
  if (next_probe_at <= now) {
    // A tick far behind schedule means we were paused or starved; the
    // probe in flight cannot be judged fairly (see finish_probe).
    const bool late = now - next_probe_at > cfg.probe_interval / 2;
    finish_probe(now, late);
    if (quiet) {
      probe.clear();
    } else {
      start_probe(now);
    }
    const Duration period = probe_interval_now();
    next_probe_at += period;
    if (next_probe_at <= now) next_probe_at = now + period;
  }
  if (probe.indirect_due(now)) {
    send_indirect(now);
  }
  expire_suspicions(now);
  forget_dead(now);
  if (next_gossip_at <= now) {
    next_gossip_at = now + cfg.gossip_interval;
    if (!queue.empty() && !quiet) gossip_round();
  }
  if (next_push_pull_at <= now) {
    next_push_pull_at = now + push_pull_interval_now();
    if (!leaving && !quiet) {
      auto peer = table.random_members(rng, 1, MemberTable::Pick::kAlive);
      if (!peer.empty()) {
        count(C::kPushPulls);
        send_stream(peer.front()->address(), false);
      }
    }
  }
  if (next_heal_at <= now) {
    next_heal_at = now + cfg.heal_interval;
    if (!quiet) heal(now);
  }
  if (next_heal_dead_at <= now) {
    next_heal_dead_at = now + cfg.heal_dead_interval;
    if (!quiet) heal_dead(now);
  }
  if (!joined_ && join_retry_at <= now) {
    join_retry_at = now + cfg.join_retry_interval;
    send_joins();
  }
}

void Node::Impl::send_joins() {
  for (const auto& seed : seeds) {
    if (!pending_streams.join_to(seed)) send_stream(seed, true);
  }
}

void Node::Impl::join_failed(Time now, const std::string& seed, std::string_view reason) {
  constexpr auto kJoinNoticeInterval = std::chrono::seconds(10);
  auto [it, first] = join_failures.try_emplace(seed);
  JoinFailures& f = it->second;
  if (!first && now - f.last_notice < kJoinNoticeInterval) {
    ++f.unreported;
    return;
  }
  std::string line = "cannot join through seed " + seed + ": " +
                     (reason.empty() ? std::string("no reply") : std::string(reason));
  if (f.unreported > 0) line += " (" + std::to_string(f.unreported) + " more failed attempts since the last report)";
  line += "; retrying every " +
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(cfg.join_retry_interval).count()) +
          " ms";
  f.last_notice = now;
  f.unreported = 0;
  notice(std::move(line));
}

Time Node::Impl::next_deadline() const {
  if (!started) return kNever;
  Time t = std::min({next_probe_at, next_push_pull_at, next_heal_at, next_heal_dead_at});
  t = std::min(t, probe.indirect_at());
  if (!queue.empty()) t = std::min(t, next_gossip_at);
  if (!joined_) t = std::min(t, join_retry_at);
  for (const auto& [seq, r] : relays) t = std::min(t, r.deadline);
  t = std::min(t, next_address_check());
  return std::min(t, table.earliest_deadline());
}

}  // namespace ringd::gossip
