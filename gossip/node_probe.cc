// gossip/node_probe.cc — failure detection and inbound datagrams (see node_impl.h).
#include <algorithm>

#include "node_impl.h"

namespace ringd::gossip {

using node_detail::Overloaded;

Duration Node::Impl::probe_timeout_for(const MemberRecord* rec) const {
  const Duration base =
      rec == nullptr ? cfg.probe_timeout
                     : rec->rtt.timeout(cfg.probe_timeout, cfg.probe_timeout_floor,
                                        cfg.probe_timeout_ceiling);
  return awareness.scale(base);
}

void Node::Impl::start_probe(Time now) {
  probe.clear();
  if (leaving) return;
  const MemberRecord* target = table.next_probe_target(rng);
  if (target == nullptr) return;
  probe.begin(next_seq++, target->name(), target->incarnation, now, now + probe_timeout_for(target));
  count(C::kPingsSent);
  std::vector<msg::Message> primary;
  if (target->state == MemberState::kSuspect) {
    // Buddy rule (Lifeguard): tell the suspect first, so it refutes before
    // it acks and the ack already carries its new Alive.
    count(C::kBuddyPings);
    primary.push_back(msg::Suspect{probe.target(), target->incarnation, cfg.name});
  }
  primary.push_back(msg::Ping{probe.seq(), probe.target(), cfg.name, self_rec().address()});
  send(target->address(), std::move(primary));
}

void Node::Impl::send_indirect(Time now) {
  (void)now;
  const MemberRecord* target = table.find(probe.target());
  if (target == nullptr || !is_live(target->state)) {
    probe.indirect_sent(0);
    return;
  }
  auto relays_to = table.random_members(rng, static_cast<std::size_t>(std::max(cfg.indirect_checks, 0)),
                                        MemberTable::Pick::kAlive, probe.target());
  probe.indirect_sent(static_cast<int>(relays_to.size()));
  for (const MemberRecord* r : relays_to) {
    count(C::kPingReqsSent);
    send(r->address(), {msg::PingReq{probe.seq(), probe.target(), target->address(),
                                          cfg.name, self_rec().address()}});
  }
  if (cfg.tcp_fallback_probe) send_tcp_ping(*target);
}

void Node::Impl::finish_probe(Time now, bool late) {
  if (!probe.active()) return;
  if (probe.tcp_stream() != 0) pending_streams.forget(probe.tcp_stream());
  if (probe.verdict() == Probe::Verdict::kAcked) return;
  if (late) {
    // Our own timers ran late: whatever the target did, we could not have
    // heard it in time. Lifeguard: that is a sign of our own ill health.
    count(C::kProbesLate);
    awareness.apply(1);
    return;
  }
  count(C::kProbesFailed);
  if (probe.silent()) contact.silent_probe();
  const MemberRecord* rec = table.find(probe.target());
  if (rec == nullptr || !is_live(rec->state)) return;
  if (probe.verdict() == Probe::Verdict::kTcpOnly) {
    udp_blocked(now, *rec);
    return;
  }
  awareness.apply(Awareness::failed_probe_delta(probe.relays_asked(), probe.nacks()));
  // A newer incarnation arrived meanwhile: that is news of life, not death.
  if (rec->incarnation != probe.incarnation()) return;
  apply_suspect(now, msg::Suspect{probe.target(), rec->incarnation, cfg.name});
}

// A member we have never heard of probes us: gossip about it has missed
// us, so fetch the full state from it (at most once per probe interval).
void Node::Impl::discover(Time now, const std::string& address) {
  if (leaving || !started) return;
  if (last_discovery != kNever && now - last_discovery < cfg.probe_interval) return;
  if (pending_streams.any_to(address)) return;
  last_discovery = now;
  count(C::kDiscoverySyncs);
  send_stream(address, false);
}

void Node::Impl::on_ping(Time now, const std::string& from, const msg::Ping& p) {
  count(C::kPingsReceived);
  if (p.target != cfg.name) {
    count(C::kWrongTarget);
    return;
  }
  pinged_by_our_name(now, p);
  if (holding_back()) return;  // the name is another agent's (node_conflict.cc)
  if (started) joined_ = true;
  const MemberRecord* src = table.find(p.source);
  if (src == nullptr) discover(now, p.source_address);
  // A prober we declared dead while cut off is proof of life enough.
  if (src != nullptr && src->local_verdict) revive(now, *src);
  std::vector<msg::Message> reply{msg::Ack{p.seq, cfg.name, live_digest()}};
  // Tell a prober we consider suspect/dead/left about it, so it refutes.
  if (src != nullptr && !leaving) {
    const MemberRecord& m = *src;
    if (m.state == MemberState::kSuspect) {
      reply.push_back(msg::Suspect{m.name(), m.incarnation, cfg.name});
    } else if (m.state == MemberState::kDead || m.state == MemberState::kLeft) {
      reply.push_back(msg::Dead{m.name(), m.incarnation, cfg.name, m.state == MemberState::kLeft});
    }
  }
  send(from, std::move(reply));
}

// Views that stay different for digest_sync_interval get a full sync with
// the peer that disagrees; short-lived differences (gossip in flight) do not.
void Node::Impl::check_digest(Time now, std::uint64_t theirs, const std::string& peer_address) {
  if (theirs == 0 || cfg.digest_sync_interval <= Duration::zero() || leaving) return;
  if (theirs == live_digest()) {
    mismatch_since = kNever;
    return;
  }
  if (mismatch_since == kNever) mismatch_since = now;
  if (now - mismatch_since < cfg.digest_sync_interval) return;
  if (last_digest_sync != kNever && now - last_digest_sync < cfg.digest_sync_interval) return;
  last_digest_sync = now;
  mismatch_since = kNever;
  count(C::kDigestSyncs);
  send_stream(peer_address, false);
}

void Node::Impl::on_ack(Time now, const std::string& from, const msg::Ack& a) {
  switch (probe.ack(a.seq)) {
    case Probe::Answer::kFirst:
      count(C::kAcksReceived);
      contact.heard(now);
      awareness.apply(-1);
      if (const MemberRecord* t = table.find(probe.target()); t != nullptr) {
        // Only a direct answer measures our link to the target.
        if (from == t->address()) t->rtt.sample(now - probe.sent_at());
        check_digest(now, a.digest, t->address());
      }
      return;
    case Probe::Answer::kAgain:
      return;
    case Probe::Answer::kNotOurs:
      break;
  }
  auto it = relays.find(a.seq);
  if (it != relays.end()) {
    contact.heard(now);  // a relayed ack proves our network works too
    const Relay r = it->second;
    relays.erase(it);
    send(r.requester, {msg::Ack{r.orig_seq, a.source, a.digest}});
    return;
  }
  if (answer_address_check(now, a.seq, a.source)) return;
  count(C::kStaleAcks);
}

void Node::Impl::on_ping_req(Time now, const std::string& from, const msg::PingReq& r) {
  count(C::kPingReqsReceived);
  if (relays.size() >= kMaxRelays) {
    count(C::kRelaysDropped);
    return;
  }
  const std::uint64_t seq = next_seq++;
  const MemberRecord* target = table.find(r.target);
  relays[seq] = Relay{r.seq, from, now + probe_timeout_for(target)};
  count(C::kPingsSent);
  std::vector<msg::Message> primary;
  if (target != nullptr && target->state == MemberState::kSuspect) {
    count(C::kBuddyPings);  // buddy rule for relayed probes too
    primary.push_back(msg::Suspect{r.target, target->incarnation, cfg.name});
  }
  primary.push_back(msg::Ping{seq, r.target, cfg.name, self_rec().address()});
  send(r.target_address, std::move(primary));
}

void Node::Impl::on_message(Time now, const std::string& from, const msg::Message& m, Corrections& back) {
  std::visit(Overloaded{
                 [&](const msg::Ping& p) { on_ping(now, from, p); },
                 [&](const msg::Ack& a) { on_ack(now, from, a); },
                 [&](const msg::Nack& n) {
                   if (probe.nack(n.seq)) {
                     count(C::kNacksReceived);
                     contact.heard(now);
                   }
                 },
                 [&](const msg::PingReq& r) { on_ping_req(now, from, r); },
                 [&](const msg::Alive& a) { apply_alive(now, a); },
                 [&](const msg::Suspect& s) { apply_suspect(now, s, &back); },
                 [&](const msg::Dead& d) { apply_dead(now, d, &back); },
             },
             m);
}

void Node::Impl::count_decode_error(codec::DecodeStatus st) {
  switch (st) {
    case codec::DecodeStatus::kOk: break;
    case codec::DecodeStatus::kOversize: count(C::kMalformedOversize); break;
    case codec::DecodeStatus::kMalformed: count(C::kMalformedDecode); break;
    case codec::DecodeStatus::kBadVersion: count(C::kBadVersion); break;
    case codec::DecodeStatus::kTooManyEntries: count(C::kMalformedTooMany); break;
    case codec::DecodeStatus::kBadField: count(C::kMalformedBadField); break;
  }
}

}  // namespace ringd::gossip
