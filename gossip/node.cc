// gossip/node.cc — the SWIM core.
//
// Where this departs from the paper (Das, Gupta, Motivala: "SWIM: Scalable
// Weakly-consistent Infection-style Process Group Membership Protocol", 2002)
// ---------------------------------------------------------------------------
// * Probing follows §4.3 (randomized round-robin, k indirect probes via
//   ping-req, suspicion with incarnation numbers) but the suspicion timeout is
//   Lifeguard's (Dadgar et al., 2018): it starts at max_mult times the SWIM
//   value and shrinks as independent confirmations arrive (suspicion.h). A
//   member that is slow to process packets thus needs several peers to agree
//   before it is killed, while a crashed one dies about as fast as in SWIM.
//   The k confirmations it waits for are k = indirect_checks (Lifeguard's K).
// * Lifeguard's local health awareness (awareness.h): a score that rises
//   when our probes fail without every relay sending a nack, when we have to
//   refute, and when our own timers fire late (paused or starved), and falls
//   with every acked probe; probe period and probe timeouts are multiplied by
//   (score + 1). Relays answer a ping-req that got no ack with a nack, so the
//   prober can tell "the target is gone" (relays nack) from "I am cut off"
//   (relays silent too). A probe judged at a tick more than half a period
//   late is dropped without suspicion (the missing ack is our fault).
// * A member that is cut off (no ack, nack or stream reply for three probe
//   periods: isolated, or just back from a pause) holds its suspicions
//   instead of declaring deaths, and restarts and re-gossips them when
//   contact returns (bounded by 4x the longest suspicion timeout). Without
//   this, an isolated member's verdicts spread after it reconnects and kill
//   healthy members that never heard they were suspected.
// * Buddy rule (Lifeguard): a ping to a member we hold as suspect starts with
//   that Suspect, so the member refutes before it acks and its new Alive
//   rides back on the ack. Relays do the same for relayed pings.
// * The direct probe timeout is not fixed: it follows the measured round
//   trip to each member (srtt + 4 rttvar, rtt.h) between a floor and a
//   ceiling. A short timeout only starts the indirect phase earlier, so it
//   buys the relays time and lets the probe period be short (profiles.cc).
// * TCP fallback probe: when the direct UDP probe times out we also ping the
//   target over a stream; if only that answers, we do not suspect and leave
//   one rate-limited notice that UDP looks blocked (node_fallback.cc).
// * Dissemination is not only piggybacked on probe traffic: a gossip timer
//   sends pending updates to a few random members every gossip_interval (as
//   memberlist does), so news spreads in O(log n) short rounds, not probe
//   periods. Each update is retransmitted retransmit_mult*ceil(log10(n+1))
//   times, where one gossip round (the same batch to gossip_nodes members)
//   counts once; a newer update about a member replaces the older one.
// * Repair beyond the paper: acks carry a digest of the sender's live view;
//   a difference that persists for digest_sync_interval triggers a full-state
//   sync with that peer. A ping from a member we never heard of triggers one
//   too. Stale news (a suspect/dead about us, or about a member we know left,
//   at an older incarnation) is answered directly with the newer state.
// * The paper assumes a static group. Joining uses a reliable full-state
//   exchange (push-pull over TCP) with a seed, and the same exchange repeats
//   with a random member every push_pull_interval, which repairs any view that
//   gossip missed (partitions, lost datagrams, a member restarted with the
//   same name).
// * Partition healing (node_heal.cc): every heal_interval a full-state sync
//   with seeds that are not live members and with a few recently dead (not
//   left) members, so halves that declared each other dead merge again.
// * Piggybacked updates are packed up to max_packet_size, Alive first (news
//   of life clears false suspicions), never more messages than a receiver
//   decodes.
// * Alive messages carry metadata (service endpoint + tags, bounded by
//   max_metadata_size); a change bumps the incarnation like a refutation.
//   Incarnations are 64-bit; news that jumps more than max_incarnation_jump
//   ahead of what we know is refused and counted, so a corrupt peer cannot
//   push a member to where it could never refute again.
// * Graceful leave is a "dead" update with a `left` flag and a bumped
//   incarnation, so peers record kLeft instead of kDead and nothing suspects
//   a member that said goodbye.
// * Dead and left members are remembered for dead_forget_after (so stale
//   alive gossip about them cannot resurrect them), then forgotten. A member
//   comes back only with a higher incarnation; a restarted member gets one by
//   refuting the stale state it hears about itself.
// * A full state sync reports dead members as suspect (memberlist's choice):
//   we do not declare someone dead on hearsay from a single TCP peer; our own
//   probes decide.
// * A live member's address never moves on a claim alone: the old address
//   is pinged first, and only silence lets the claim apply; a joining agent
//   whose name a live agent holds stays out (node_conflict.cc). Two agents
//   started with one name no longer take turns owning it.
// * Alive messages also carry the member's service state (its own agent's
//   health check, or a drain): gossiped like metadata, and only a passing
//   service takes keys (the ring is the agent's business, not this file's).
// * Pings name their target and source. A receiver drops pings meant for
//   another name (the address was reused), and when it thinks the prober is
//   suspect/dead it says so in the ack, so a wrongly suspected member learns
//   it directly from the probes it sends and refutes quickly.
// Everything is driven from outside: no sockets, threads or clock reads here;
// all randomness comes from one std::mt19937_64 seeded by the caller.
#include "node.h"

#include <algorithm>
#include <array>

#include "node_impl.h"

namespace ringd::gossip {


std::string_view to_string(MemberState state) {
  switch (state) {
    case MemberState::kAlive: return "alive";
    case MemberState::kSuspect: return "suspect";
    case MemberState::kDead: return "dead";
    case MemberState::kLeft: return "left";
  }
  return "unknown";
}

std::string_view to_string(ServiceState state) {
  switch (state) {
    case ServiceState::kPassing: return "passing";
    case ServiceState::kFailing: return "failing";
    case ServiceState::kDraining: return "draining";
    case ServiceState::kUnchecked: return "unchecked";
  }
  return "unknown";
}

std::string_view to_string(Event::Kind kind) {
  switch (kind) {
    case Event::Kind::kJoined: return "joined";
    case Event::Kind::kUpdated: return "updated";
    case Event::Kind::kAlive: return "alive";
    case Event::Kind::kSuspect: return "suspect";
    case Event::Kind::kDead: return "dead";
    case Event::Kind::kLeft: return "left";
  }
  return "unknown";
}

namespace {

using node_detail::C;

constexpr std::array<std::string_view, static_cast<std::size_t>(C::kCount)> kCounterNames = {
    "packets_sent", "bytes_sent", "packets_received", "bytes_received",
    "streams_sent", "stream_bytes_sent", "streams_received", "stream_bytes_received",
    "stream_errors", "stream_replies_unknown",
    "malformed_oversize", "malformed_decode", "bad_version", "malformed_too_many",
    "malformed_bad_field",
    "wrong_target", "stale_acks",
    "pings_sent", "pings_received", "acks_received", "ping_reqs_sent", "ping_reqs_received",
    "nacks_sent", "nacks_received", "relays_dropped",
    "probes_failed", "suspicions", "refutations", "members_dead", "members_left",
    "members_forgotten", "members_rejected", "broadcasts_dropped", "push_pulls",
    "discovery_syncs", "stale_corrections", "digest_syncs",
    "probes_late", "buddy_pings", "tcp_pings_sent", "tcp_pings_received", "udp_blocked",
    "heal_syncs", "incarnation_jumps_refused", "notices_dropped", "metadata_updates",
    "suspicions_held", "deaths_kept_local", "local_verdicts_undone",
    "unconfirmed_suspicions_held", "address_checks", "name_conflicts", "push_pulls_paged",
};

}  // namespace


Node::Node(Config config, std::uint64_t seed)
    : impl_(std::make_unique<Impl>(std::move(config), seed)) {}
Node::~Node() = default;

void Node::start(Time now, std::vector<std::string> seeds) {
  Impl& s = *impl_;
  if (s.started) return;
  s.started = true;
  s.table.edit(s.self_rec())->state_since = now;
  s.contact.start(now);
  s.emit(Event::Kind::kJoined, s.self_rec().member());
  std::sort(seeds.begin(), seeds.end());
  seeds.erase(std::unique(seeds.begin(), seeds.end()), seeds.end());
  std::erase_if(seeds, [&](const std::string& a) { return a.empty() || a == s.cfg.advertise; });
  s.seeds = std::move(seeds);
  // Spread the first probe over one interval so members do not probe in step.
  std::uniform_int_distribution<Duration::rep> jitter(0, std::max<Duration::rep>(s.cfg.probe_interval.count() - 1, 0));
  s.next_probe_at = now + Duration(jitter(s.rng));
  s.next_gossip_at = now + s.cfg.gossip_interval;
  s.next_push_pull_at = now + s.cfg.push_pull_interval;
  if (s.cfg.heal_interval > Duration::zero()) {
    // Spread heal rounds too: [interval/2, 3*interval/2).
    const auto half = s.cfg.heal_interval / 2;
    std::uniform_int_distribution<Duration::rep> h(0, std::max<Duration::rep>(s.cfg.heal_interval.count() - 1, 0));
    s.next_heal_at = now + half + Duration(h(s.rng));
  }
  if (s.cfg.heal_dead_interval > Duration::zero() && s.cfg.heal_dead_rate > 0) {
    // Not drawn from rng: runs without deaths keep their traces.
    s.next_heal_dead_at = now + s.cfg.heal_dead_interval;
  }
  if (s.seeds.empty()) {
    s.joined_ = true;
    return;
  }
  s.join_retry_at = now + s.cfg.join_retry_interval;
  s.send_joins();
}

void Node::start_with_view(Time now, const std::vector<Member>& view) {
  Impl& s = *impl_;
  if (s.started) return;
  start(now, {});
  s.count(C::kMembersRejected, s.table.adopt(view, now, s.cfg.max_members, s.rng));
}

void Node::handle_packet(Time now, std::string_view from, std::string_view bytes) {
  Impl& s = *impl_;
  s.count(C::kPacketsReceived);
  s.count(C::kBytesReceived, bytes.size());
  msg::Packet packet;
  const codec::DecodeStatus st = codec::decode(bytes, s.packet_limits, &packet);
  if (st != codec::DecodeStatus::kOk) {
    s.count_decode_error(st);
    return;
  }
  for (const auto& m : packet.messages) s.received_by_type.add(m);
  const std::string sender(from);
  Impl::Corrections back;
  for (const auto& m : packet.messages) s.on_message(now, sender, m, back);
  if (!back.messages.empty()) {
    // The sender gossips stale news: answer it directly with ours.
    s.count(C::kStaleCorrections);
    s.send(sender, std::move(back.messages));
  }
}

std::string Node::handle_stream(Time now, std::string_view from, std::string_view request) {
  (void)from;
  Impl& s = *impl_;
  s.count(C::kStreamsReceived);
  s.count(C::kStreamBytesReceived, request.size());
  msg::Stream req;
  const codec::DecodeStatus st = codec::decode(request, s.stream_limits, &req);
  if (st != codec::DecodeStatus::kOk) {
    s.count_decode_error(st);
    return {};
  }
  return s.answer_stream(now, req);
}

void Node::handle_stream_reply(Time now, std::uint64_t id, std::string_view reply) {
  Impl& s = *impl_;
  const std::optional<PendingStream> taken = s.pending_streams.take(id);
  if (!taken) {
    s.count(C::kStreamRepliesUnknown);
    return;
  }
  const PendingStream& ps = *taken;
  s.count(C::kStreamBytesReceived, reply.size());
  msg::Stream st_reply;
  const codec::DecodeStatus st = codec::decode(reply, s.stream_limits, &st_reply);
  if (st != codec::DecodeStatus::kOk) {
    s.count_decode_error(st);
    return;
  }
  s.contact.heard(now);
  if (ps.probe_seq != 0) {
    s.on_tcp_ping_reply(now, ps, st_reply);
    return;
  }
  const auto* pp = std::get_if<msg::PushPull>(&st_reply);
  if (pp == nullptr) {
    s.count(C::kMalformedBadField);
    return;
  }
  if (ps.join) s.yielded = false;  // each join attempt asks anew (node_conflict.cc)
  s.merge(now, *pp);
  if (!s.holding_back()) s.joined_ = true;
}

void Node::handle_stream_error(Time now, std::uint64_t id, std::string_view reason) {
  Impl& s = *impl_;
  const std::optional<PendingStream> taken = s.pending_streams.take(id);
  if (!taken) return;
  const PendingStream& ps = *taken;
  s.count(C::kStreamErrors);
  if (ps.join && !s.joined_) s.join_failed(now, ps.to, reason);
}

void Node::tick(Time now) { impl_->tick(now); }

Time Node::next_deadline() const { return impl_->next_deadline(); }

void Node::leave(Time now) {
  Impl& s = *impl_;
  if (s.leaving) return;
  s.leaving = true;
  s.probe.clear();
  if (s.holding_back()) {
    // Our name belongs to another agent (node_conflict.cc): a goodbye under
    // it would take that agent off every ring.
    s.table.edit(s.self_rec())->state = MemberState::kLeft;
    return;
  }
  {
    auto rec = s.table.edit(s.self_rec());
    rec->incarnation += 1;
    rec->state = MemberState::kLeft;
    rec->state_since = now;
  }
  const Member self = s.self_rec().member();
  s.emit(Event::Kind::kLeft, self);
  const msg::Dead bye{self.name, self.incarnation, self.name, true};
  s.broadcast(self.name, bye);
  // Tell every live member directly as well (one datagram each): a leave
  // must not depend on the luck of random gossip, since nobody can refute
  // for us once we are gone. The queued copy then repeats it.
  if (s.started) {
    for (const MemberRecord& rec : s.table.all()) {
      if (rec.name() == s.cfg.name || !is_live(rec.state)) continue;
      s.send(rec.address(), {bye});
    }
  }
  s.next_gossip_at = std::min(s.next_gossip_at, now);  // spread it at once
}

bool Node::leave_done() const {
  const Impl& s = *impl_;
  if (!s.leaving) return false;
  if (!s.started || !s.queue.contains(s.cfg.name)) return true;
  for (const MemberRecord& rec : s.table.all()) {
    if (rec.name() != s.cfg.name && is_live(rec.state)) return false;
  }
  return true;
}

std::vector<Datagram> Node::take_datagrams() { return std::exchange(impl_->out_datagrams, {}); }
std::vector<StreamRequest> Node::take_stream_requests() {
  return std::exchange(impl_->out_streams, {});
}
std::vector<Event> Node::take_events() { return std::exchange(impl_->events, {}); }
std::vector<std::string> Node::take_notices() { return std::exchange(impl_->notices, {}); }

bool Node::joined() const { return impl_->joined_; }

std::vector<Member> Node::members() const {
  std::vector<Member> out;
  out.reserve(impl_->table.size());
  for (const MemberRecord& rec : impl_->table.all()) out.push_back(rec.member());
  return out;
}

Member Node::self() const { return impl_->self_rec().member(); }

std::vector<std::pair<std::string, std::uint64_t>> Node::counters() const {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  out.reserve(kCounterNames.size() + 4);
  for (std::size_t i = 0; i < kCounterNames.size(); ++i) {
    out.emplace_back(std::string(kCounterNames[i]), impl_->counters[i]);
  }
  out.emplace_back("members_known", impl_->table.size());
  out.emplace_back("members_live", impl_->table.live_count());
  out.emplace_back("broadcast_queue", impl_->queue.size());
  out.emplace_back("awareness", static_cast<std::uint64_t>(impl_->awareness.score()));
  // Per message type: "messages_sent.ping", "message_bytes_received.alive", ...
  static constexpr std::array<std::string_view, std::variant_size_v<msg::Message>> kTypes = {
      "ping", "ack", "nack", "ping_req", "alive", "suspect", "dead"};
  for (std::size_t t = 0; t < kTypes.size(); ++t) {
    const std::string type(kTypes[t]);
    out.emplace_back("messages_sent." + type, impl_->sent_by_type.messages[t]);
    out.emplace_back("message_bytes_sent." + type, impl_->sent_by_type.bytes[t]);
    out.emplace_back("messages_received." + type, impl_->received_by_type.messages[t]);
    out.emplace_back("message_bytes_received." + type, impl_->received_by_type.bytes[t]);
  }
  return out;
}

}  // namespace ringd::gossip
