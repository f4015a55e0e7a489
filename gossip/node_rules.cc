// gossip/node_rules.cc — the SWIM state rules (see node_impl.h).
#include <algorithm>

#include "node_impl.h"
#include "suspicion.h"

namespace ringd::gossip {

msg::Alive Node::Impl::self_alive() const {
  const MemberRecord& s = self_rec();
  return msg::Alive{s.name(), s.address(), s.service(), s.incarnation, s.tags(), s.service_state()};
}

bool Node::Impl::implausible(std::uint64_t known, std::uint64_t heard) {
  if (heard <= known || heard - known <= cfg.max_incarnation_jump) return false;
  count(C::kIncarnationJumpsRefused);
  return true;
}

// Someone claims something about us that is not "alive at our incarnation":
// overrule it with a higher incarnation.
void Node::Impl::refute(std::uint64_t heard) {
  if (holding_back()) return;  // the name is not ours to defend (node_conflict.cc)
  {
    auto self = table.edit(self_rec());
    self->incarnation = std::max(self->incarnation, heard) + 1;
  }
  count(C::kRefutations);
  awareness.apply(1);  // Lifeguard: having to refute hints we are slow
  broadcast(cfg.name, self_alive());
}

void Node::Impl::apply_alive(Time now, const msg::Alive& a) {
  if (a.name == cfg.name) {
    const MemberRecord& s = self_rec();
    if (leaving || implausible(s.incarnation, a.incarnation)) return;
    if (a.address != s.address()) {
      // Old news about an earlier life of ours is harmless; anything newer
      // is our name claimed from elsewhere (node_conflict.cc).
      if (a.incarnation >= s.incarnation) claim_on_our_name(now, a);
      return;
    }
    if (a.incarnation > s.incarnation ||
        (a.incarnation == s.incarnation &&
         (a.address != s.address() || a.service != s.service() || a.tags != s.tags() ||
          a.service_state != s.service_state()))) {
      refute(a.incarnation);
    }
    return;
  }
  const MemberRecord* rec = table.find(a.name);
  if (rec == nullptr) {
    if (table.size() >= cfg.max_members) {
      count(C::kMembersRejected);
      return;
    }
    Member m{a.name, a.address, a.service, MemberState::kAlive, a.incarnation, now, a.tags, a.service_state};
    const MemberRecord& added = table.insert(std::move(m), rng);
    emit(Event::Kind::kJoined, added.member());
    broadcast(a.name, a);
    return;
  }
  const MemberRecord& m = *rec;
  if (rec->local_verdict && a.incarnation == m.incarnation) {
    // Our verdict was reached while cut off; a peer knows it alive.
    revive(now, *rec);
    return;
  }
  if (a.incarnation <= m.incarnation) return;  // old news (or a conflict we ignore)
  if (implausible(m.incarnation, a.incarnation)) return;
  // An alive member's address only moves once nothing answers as it at
  // the old one (node_conflict.cc); a suspect one has stopped answering.
  if (m.state == MemberState::kAlive && a.address != m.address() && hold_address_change(now, *rec, a)) return;
  apply_alive_unchecked(now, *rec, a);
}

void Node::Impl::apply_alive_unchecked(Time now, const MemberRecord& r, const msg::Alive& a) {
  if (a.incarnation <= r.incarnation) return;
  auto rec = table.edit(r);
  MemberRecord& m = *rec;
  // A member restarted on a new address (or with new metadata) takes its
  // old place here: same name, higher incarnation, new details.
  const bool changed = a.address != m.address() || a.service != m.service() || a.tags != m.tags() ||
                       a.service_state != m.service_state();
  m.incarnation = a.incarnation;
  if (changed) rec.set_details(a.address, a.service, a.tags, a.service_state);
  if (m.state != MemberState::kAlive) {
    m.state = MemberState::kAlive;
    m.state_since = now;
    rec->suspicion.reset();
    rec->local_verdict = false;
    emit(Event::Kind::kAlive, m.member());
  } else if (changed) {
    emit(Event::Kind::kUpdated, m.member());
  }
  broadcast(a.name, a);
}

void Node::Impl::revive(Time now, const MemberRecord& r) {
  auto rec = table.edit(r);
  MemberRecord& m = *rec;
  rec->local_verdict = false;
  m.state = MemberState::kAlive;
  m.state_since = now;
  rec->suspicion.reset();
  dead_addresses.erase(m.name());
  count(C::kLocalVerdictsUndone);
  emit(Event::Kind::kAlive, m.member());
}

void Node::Impl::apply_suspect(Time now, const msg::Suspect& s, Corrections* back) {
  if (s.name == cfg.name) {
    if (leaving || implausible(self_rec().incarnation, s.incarnation)) return;
    if (s.incarnation >= self_rec().incarnation) {
      refute(s.incarnation);
    } else if (back != nullptr) {
      back->add(self_alive());
    }
    return;
  }
  const MemberRecord* found = table.find(s.name);
  if (found == nullptr) return;
  auto rec = table.edit(*found);
  MemberRecord& m = *rec;
  if (rec->local_verdict && s.incarnation <= m.incarnation) return;  // ours alone
  if (!is_live(m.state) && s.incarnation <= m.incarnation) {
    if (back != nullptr) back->add(msg::Dead{m.name(), m.incarnation, cfg.name, m.state == MemberState::kLeft});
    return;
  }
  if (s.incarnation < m.incarnation || implausible(m.incarnation, s.incarnation)) return;
  switch (m.state) {
    case MemberState::kDead:
    case MemberState::kLeft:
      return;
    case MemberState::kSuspect: {
      m.incarnation = s.incarnation;
      if (!rec->suspicion->wants(s.from)) return;
      rec->suspicion->confirm(s.from);
      broadcast(s.name, s);  // pass the confirmation on
      return;
    }
    case MemberState::kAlive:
      break;
  }
  m.state = MemberState::kSuspect;
  m.incarnation = s.incarnation;
  m.state_since = now;
  rec->suspicion = std::make_unique<Suspicion>(now, s.from, table.live_count(), cfg);
  count(C::kSuspicions);
  emit(Event::Kind::kSuspect, m.member());
  broadcast(s.name, s);
}

void Node::Impl::apply_dead(Time now, const msg::Dead& d, Corrections* back) {
  if (d.name == cfg.name) {
    if (leaving || implausible(self_rec().incarnation, d.incarnation)) return;
    if (d.incarnation >= self_rec().incarnation) {
      refute(d.incarnation);
    } else if (back != nullptr) {
      back->add(self_alive());
    }
    return;
  }
  const MemberRecord* found = table.find(d.name);
  if (found == nullptr) return;
  auto rec = table.edit(*found);
  MemberRecord& m = *rec;
  if (d.incarnation < m.incarnation || implausible(m.incarnation, d.incarnation)) return;
  if (m.state == MemberState::kLeft) return;
  if (m.state == MemberState::kDead && !d.left) {
    rec->local_verdict = false;  // someone else reached it too
    return;
  }
  rec->local_verdict = false;
  m.state = d.left ? MemberState::kLeft : MemberState::kDead;
  m.incarnation = d.incarnation;
  m.state_since = now;
  rec->suspicion.reset();
  count(d.left ? C::kMembersLeft : C::kMembersDead);
  if (d.left) {
    dead_addresses.erase(m.name());  // a goodbye is final: never heal towards it
  } else {
    remember_dead(m, now);
  }
  emit(d.left ? Event::Kind::kLeft : Event::Kind::kDead, m.member());
  broadcast(d.name, d);
}

void Node::Impl::merge(Time now, const msg::PushPull& pp) {
  for (const auto& e : pp.members) {
    switch (e.state) {
      case MemberState::kAlive:
        apply_alive(now, msg::Alive{e.name, e.address, e.service, e.incarnation, e.tags, e.service_state});
        break;
      case MemberState::kSuspect:
      case MemberState::kDead:  // hearsay death: only suspect, our probes decide
        if (e.name == cfg.name) {
          apply_dead(now, msg::Dead{e.name, e.incarnation, pp.source, false});
        } else {
          apply_suspect(now, msg::Suspect{e.name, e.incarnation, pp.source});
        }
        break;
      case MemberState::kLeft:
        apply_dead(now, msg::Dead{e.name, e.incarnation, pp.source, true});
        break;
    }
  }
}

}  // namespace ringd::gossip
