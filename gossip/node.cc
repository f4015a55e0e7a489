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
//   Relays answer a ping-req that got no ack with a nack (Lifeguard), but we
//   only count nacks; we do not scale our own timeouts by local health.
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
// * Pings name their target and source. A receiver drops pings meant for
//   another name (the address was reused), and when it thinks the prober is
//   suspect/dead it says so in the ack, so a wrongly suspected member learns
//   it directly from the probes it sends and refutes quickly.
// Everything is driven from outside: no sockets, threads or clock reads here;
// all randomness comes from one std::mt19937_64 seeded by the caller.
#include "node.h"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <random>

#include "broadcast_queue.h"
#include "codec.h"
#include "member_table.h"
#include "messages.h"
#include "suspicion.h"

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

constexpr Time kNever = Time::max();
constexpr std::size_t kMaxRelays = 256;
constexpr std::size_t kMaxPendingStreams = 64;

// Counter names, in the order counters() reports them.
enum class C : std::uint8_t {
  kPacketsSent, kBytesSent, kPacketsReceived, kBytesReceived,
  kStreamsSent, kStreamBytesSent, kStreamsReceived, kStreamBytesReceived,
  kStreamErrors, kStreamRepliesUnknown,
  kMalformedOversize, kMalformedDecode, kBadVersion, kMalformedTooMany, kMalformedBadField,
  kWrongTarget, kStaleAcks,
  kPingsSent, kPingsReceived, kAcksReceived, kPingReqsSent, kPingReqsReceived,
  kNacksSent, kNacksReceived, kRelaysDropped,
  kProbesFailed, kSuspicions, kRefutations, kMembersDead, kMembersLeft, kMembersForgotten,
  kMembersRejected, kBroadcastsDropped, kPushPulls, kDiscoverySyncs, kStaleCorrections, kDigestSyncs,
  kCount,
};
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
};

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace

struct Node::Impl {
  struct Probe {
    std::uint64_t seq = 0;
    std::string target;
    std::uint64_t incarnation = 0;  // target's incarnation when the probe began
    Time indirect_at{};
    bool acked = false;
    bool indirect_sent = false;
  };
  struct Relay {
    std::uint64_t orig_seq = 0;
    std::string requester;  // address to answer
    Time deadline{};
  };
  struct PendingStream {
    bool join = false;
    std::string to;
  };

  Config cfg;
  std::mt19937_64 rng;
  MemberTable table;
  BroadcastQueue queue;
  codec::DecodeLimits packet_limits;
  codec::DecodeLimits stream_limits;

  bool started = false;
  bool joined_ = false;
  bool leaving = false;
  std::vector<std::string> seeds;
  Time join_retry_at = kNever;
  Time next_probe_at = kNever;
  Time next_gossip_at = kNever;
  Time next_push_pull_at = kNever;
  std::optional<Probe> probe;
  std::map<std::uint64_t, Relay> relays;
  std::map<std::uint64_t, PendingStream> pending_streams;
  std::uint64_t next_seq = 1;
  std::uint64_t next_stream_id = 1;
  Time last_discovery = kNever;  // kNever = no discovery yet
  Time mismatch_since = kNever;  // digests have differed since then
  Time last_digest_sync = kNever;
  // While a datagram is processed: its sender, and corrections to send back
  // to it because it holds stale news (about us, or about a member we know
  // has left or died at a later incarnation).
  std::string current_from;
  std::vector<msg::Message> corrections;

  std::vector<Datagram> out_datagrams;
  std::vector<StreamRequest> out_streams;
  std::vector<Event> events;
  std::array<std::uint64_t, static_cast<std::size_t>(C::kCount)> counters{};

  Impl(Config c, std::uint64_t seed)
      : cfg(std::move(c)), rng(seed), table(cfg.name), queue(cfg.max_broadcasts) {
    packet_limits.max_bytes = std::max<std::size_t>(cfg.max_packet_size, 512) * 4;
    stream_limits.max_bytes = cfg.max_stream_size;
    stream_limits.max_members = cfg.max_members + 1;
    Member self;
    self.name = cfg.name;
    self.address = cfg.advertise;
    self.service = cfg.service;
    self.incarnation = cfg.incarnation;
    table.insert(std::move(self), rng);
  }

  void count(C c, std::uint64_t n = 1) { counters[static_cast<std::size_t>(c)] += n; }
  MemberRecord& self_rec() { return *table.find(cfg.name); }
  const MemberRecord& self_rec() const { return *table.find(cfg.name); }

  void emit(Event::Kind kind, const Member& m) { events.push_back(Event{kind, m}); }

  // ---- output ----------------------------------------------------------

  int retransmit_limit() const {
    return BroadcastQueue::retransmit_limit(cfg.retransmit_mult, table.live_count());
  }

  void broadcast(const std::string& name, msg::Message m) {
    const std::size_t size = codec::encoded_size(m);
    const std::uint64_t before = queue.dropped();
    queue.push(name, std::move(m), size);
    count(C::kBroadcastsDropped, queue.dropped() - before);
  }

  // Sends `primary` plus as many queued updates as fit in max_packet_size.
  // With no primary and no updates nothing is sent.
  void send(const std::string& to, std::vector<msg::Message> primary) {
    if (to.empty() || to == cfg.advertise) return;
    std::size_t used = codec::packet_header_size();
    for (const auto& m : primary) used += codec::encoded_size(m);
    const std::size_t budget = cfg.max_packet_size > used ? cfg.max_packet_size - used : 0;
    std::vector<msg::Message> extra = queue.take(budget, retransmit_limit());
    for (auto& m : extra) primary.push_back(std::move(m));
    send_exactly(to, std::move(primary));
  }

  void send_exactly(const std::string& to, std::vector<msg::Message> messages) {
    if (to.empty() || to == cfg.advertise || messages.empty()) return;
    msg::Packet packet;
    packet.messages = std::move(messages);
    std::string bytes = codec::encode(packet);
    count(C::kPacketsSent);
    count(C::kBytesSent, bytes.size());
    out_datagrams.push_back(Datagram{to, std::move(bytes)});
  }

  // The gossip timer: one batch of pending updates, counted as one
  // transmission, to gossip_nodes random live members. (Counting each target
  // separately, as memberlist does, lets an update die out after reaching
  // only ~retransmit_mult members; in small clusters that misses a member
  // every few updates.)
  void gossip_round() {
    auto targets = table.random_members(
        rng, static_cast<std::size_t>(std::max(cfg.gossip_nodes, 0)), MemberTable::Pick::kLive);
    if (targets.empty()) return;
    const std::size_t header = codec::packet_header_size();
    const std::size_t budget = cfg.max_packet_size > header ? cfg.max_packet_size - header : 0;
    const std::vector<msg::Message> batch = queue.take(budget, retransmit_limit());
    for (const MemberRecord* t : targets) send_exactly(t->member.address, batch);
  }

  msg::PushPull local_state(bool join) const {
    msg::PushPull pp;
    pp.join = join;
    pp.source = cfg.name;
    for (const auto& [name, rec] : table.all()) {
      const Member& m = rec.member;
      pp.members.push_back(msg::MemberEntry{m.name, m.address, m.service, m.incarnation, m.state});
    }
    return pp;
  }

  void send_stream(const std::string& to, bool join) {
    if (to.empty() || to == cfg.advertise) return;
    if (pending_streams.size() >= kMaxPendingStreams) return;
    const std::uint64_t id = next_stream_id++;
    std::string bytes = codec::encode(local_state(join));
    pending_streams[id] = PendingStream{join, to};
    count(C::kStreamsSent);
    count(C::kStreamBytesSent, bytes.size());
    out_streams.push_back(StreamRequest{id, to, std::move(bytes)});
  }

  // ---- SWIM state rules ------------------------------------------------

  msg::Alive self_alive() const {
    const Member& s = self_rec().member;
    return msg::Alive{s.name, s.address, s.service, s.incarnation};
  }

  // Someone claims something about us that is not "alive at our incarnation":
  // overrule it with a higher incarnation.
  void refute(std::uint64_t heard) {
    Member& s = self_rec().member;
    s.incarnation = std::max(s.incarnation, heard) + 1;
    count(C::kRefutations);
    broadcast(s.name, self_alive());
  }

  // Queue a message for the sender of the datagram being processed.
  void correct(msg::Message m) {
    if (current_from.empty() || corrections.size() >= 4) return;
    corrections.push_back(std::move(m));
  }

  void apply_alive(Time now, const msg::Alive& a) {
    if (a.name == cfg.name) {
      const Member& s = self_rec().member;
      if (leaving) return;
      if (a.incarnation > s.incarnation ||
          (a.incarnation == s.incarnation && (a.address != s.address || a.service != s.service))) {
        refute(a.incarnation);
      }
      return;
    }
    MemberRecord* rec = table.find(a.name);
    if (rec == nullptr) {
      if (table.size() >= cfg.max_members) {
        count(C::kMembersRejected);
        return;
      }
      Member m{a.name, a.address, a.service, MemberState::kAlive, a.incarnation, now};
      MemberRecord& added = table.insert(std::move(m), rng);
      emit(Event::Kind::kJoined, added.member);
      broadcast(a.name, a);
      return;
    }
    Member& m = rec->member;
    if (a.incarnation <= m.incarnation) return;  // old news (or a conflict we ignore)
    const bool changed = a.address != m.address || a.service != m.service;
    m.incarnation = a.incarnation;
    m.address = a.address;
    m.service = a.service;
    if (m.state != MemberState::kAlive) {
      m.state = MemberState::kAlive;
      m.state_since = now;
      rec->confirmers.clear();
      emit(Event::Kind::kAlive, m);
    } else if (changed) {
      emit(Event::Kind::kUpdated, m);
    }
    broadcast(a.name, a);
  }

  void start_suspicion(Time now, MemberRecord& rec, const std::string& from) {
    const std::size_t n = table.live_count();
    rec.suspect_start = now;
    rec.suspect_min = suspicion_timeout(cfg.suspicion_mult, n, cfg.probe_interval);
    rec.suspect_max = rec.suspect_min * std::max(cfg.suspicion_max_timeout_mult, 1);
    rec.expected_confirmations = expected_confirmations(cfg.suspicion_mult, n);
    rec.confirmers.assign(1, from);
    rec.suspect_deadline = now + suspicion_timeout_after(0, rec.expected_confirmations,
                                                         rec.suspect_min, rec.suspect_max);
  }

  void apply_suspect(Time now, const msg::Suspect& s) {
    if (s.name == cfg.name) {
      if (leaving) return;
      if (s.incarnation >= self_rec().member.incarnation) {
        refute(s.incarnation);
      } else {
        correct(self_alive());
      }
      return;
    }
    MemberRecord* rec = table.find(s.name);
    if (rec == nullptr) return;
    Member& m = rec->member;
    if (!is_live(m.state) && s.incarnation <= m.incarnation) {
      correct(msg::Dead{m.name, m.incarnation, cfg.name, m.state == MemberState::kLeft});
      return;
    }
    if (s.incarnation < m.incarnation) return;
    switch (m.state) {
      case MemberState::kDead:
      case MemberState::kLeft:
        return;
      case MemberState::kSuspect: {
        m.incarnation = s.incarnation;
        const int confirmations = static_cast<int>(rec->confirmers.size()) - 1;
        if (s.from.empty() || confirmations >= rec->expected_confirmations) return;
        if (std::find(rec->confirmers.begin(), rec->confirmers.end(), s.from) !=
            rec->confirmers.end()) {
          return;
        }
        rec->confirmers.push_back(s.from);
        rec->suspect_deadline =
            rec->suspect_start + suspicion_timeout_after(confirmations + 1,
                                                         rec->expected_confirmations,
                                                         rec->suspect_min, rec->suspect_max);
        broadcast(s.name, s);  // pass the confirmation on
        return;
      }
      case MemberState::kAlive:
        break;
    }
    m.state = MemberState::kSuspect;
    m.incarnation = s.incarnation;
    m.state_since = now;
    start_suspicion(now, *rec, s.from);
    count(C::kSuspicions);
    emit(Event::Kind::kSuspect, m);
    broadcast(s.name, s);
  }

  void apply_dead(Time now, const msg::Dead& d) {
    if (d.name == cfg.name) {
      if (leaving) return;
      if (d.incarnation >= self_rec().member.incarnation) {
        refute(d.incarnation);
      } else {
        correct(self_alive());
      }
      return;
    }
    MemberRecord* rec = table.find(d.name);
    if (rec == nullptr) return;
    Member& m = rec->member;
    if (d.incarnation < m.incarnation) return;
    if (m.state == MemberState::kLeft) return;
    if (m.state == MemberState::kDead && !d.left) return;
    m.state = d.left ? MemberState::kLeft : MemberState::kDead;
    m.incarnation = d.incarnation;
    m.state_since = now;
    rec->confirmers.clear();
    count(d.left ? C::kMembersLeft : C::kMembersDead);
    emit(d.left ? Event::Kind::kLeft : Event::Kind::kDead, m);
    broadcast(d.name, d);
  }

  void merge(Time now, const msg::PushPull& pp) {
    for (const auto& e : pp.members) {
      switch (e.state) {
        case MemberState::kAlive:
          apply_alive(now, msg::Alive{e.name, e.address, e.service, e.incarnation});
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

  // ---- probing -----------------------------------------------------------

  void start_probe(Time now) {
    probe.reset();
    if (leaving) return;
    const MemberRecord* target = table.next_probe_target(rng);
    if (target == nullptr) return;
    Probe p;
    p.seq = next_seq++;
    p.target = target->member.name;
    p.incarnation = target->member.incarnation;
    p.indirect_at = now + cfg.probe_timeout;
    probe = p;
    count(C::kPingsSent);
    send(target->member.address,
         {msg::Ping{p.seq, p.target, cfg.name, self_rec().member.address}});
  }

  void send_indirect() {
    probe->indirect_sent = true;
    const MemberRecord* target = table.find(probe->target);
    if (target == nullptr || !is_live(target->member.state)) return;
    auto relays_to = table.random_members(rng, static_cast<std::size_t>(std::max(cfg.indirect_checks, 0)),
                                          MemberTable::Pick::kAlive, probe->target);
    for (const MemberRecord* r : relays_to) {
      count(C::kPingReqsSent);
      send(r->member.address, {msg::PingReq{probe->seq, probe->target, target->member.address,
                                            cfg.name, self_rec().member.address}});
    }
  }

  void finish_probe(Time now) {
    if (!probe || probe->acked) return;
    count(C::kProbesFailed);
    const MemberRecord* rec = table.find(probe->target);
    if (rec == nullptr || !is_live(rec->member.state)) return;
    // A newer incarnation arrived meanwhile: that is news of life, not death.
    if (rec->member.incarnation != probe->incarnation) return;
    apply_suspect(now, msg::Suspect{probe->target, rec->member.incarnation, cfg.name});
  }

  // ---- inbound -------------------------------------------------------------

  // A member we have never heard of probes us: gossip about it has missed
  // us, so fetch the full state from it (at most once per probe interval).
  void discover(Time now, const std::string& address) {
    if (leaving || !started) return;
    if (last_discovery != kNever && now - last_discovery < cfg.probe_interval) return;
    for (const auto& [id, ps] : pending_streams) {
      if (ps.to == address) return;
    }
    last_discovery = now;
    count(C::kDiscoverySyncs);
    send_stream(address, false);
  }

  void on_ping(Time now, const std::string& from, const msg::Ping& p) {
    count(C::kPingsReceived);
    if (p.target != cfg.name) {
      count(C::kWrongTarget);
      return;
    }
    if (started) joined_ = true;
    if (table.find(p.source) == nullptr) discover(now, p.source_address);
    std::vector<msg::Message> reply{msg::Ack{p.seq, cfg.name, live_digest()}};
    // Tell a prober we consider suspect/dead/left about it, so it refutes.
    if (const MemberRecord* src = table.find(p.source); src != nullptr && !leaving) {
      const Member& m = src->member;
      if (m.state == MemberState::kSuspect) {
        reply.push_back(msg::Suspect{m.name, m.incarnation, cfg.name});
      } else if (m.state == MemberState::kDead || m.state == MemberState::kLeft) {
        reply.push_back(msg::Dead{m.name, m.incarnation, cfg.name, m.state == MemberState::kLeft});
      }
    }
    send(from, std::move(reply));
  }

  // Order-independent digest of the live view: the sum of a 64-bit FNV-1a
  // over (name, incarnation, address, service) of every alive or suspect
  // member. Never 0 (0 means "no digest" on the wire).
  std::uint64_t live_digest() const {
    std::uint64_t sum = 0;
    for (const auto& [name, rec] : table.all()) {
      const Member& m = rec.member;
      if (!is_live(m.state)) continue;
      std::uint64_t h = 0xcbf29ce484222325ULL;
      auto mix = [&h](std::string_view bytes) {
        for (unsigned char ch : bytes) h = (h ^ ch) * 0x100000001b3ULL;
        h = (h ^ 0xff) * 0x100000001b3ULL;  // field separator
      };
      mix(m.name);
      mix(std::string_view(reinterpret_cast<const char*>(&m.incarnation), sizeof m.incarnation));
      mix(m.address);
      mix(m.service);
      sum += h;
    }
    return sum == 0 ? 1 : sum;
  }

  // Views that stay different for digest_sync_interval get a full sync with
  // the peer that disagrees; short-lived differences (gossip in flight) do not.
  void check_digest(Time now, std::uint64_t theirs, const std::string& peer_address) {
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

  void on_ack(Time now, const msg::Ack& a) {
    if (probe && probe->seq == a.seq) {
      if (!probe->acked) {
        count(C::kAcksReceived);
        probe->acked = true;
        if (const MemberRecord* t = table.find(probe->target); t != nullptr) {
          check_digest(now, a.digest, t->member.address);
        }
      }
      return;
    }
    auto it = relays.find(a.seq);
    if (it != relays.end()) {
      const Relay r = it->second;
      relays.erase(it);
      send(r.requester, {msg::Ack{r.orig_seq, a.source, a.digest}});
      return;
    }
    count(C::kStaleAcks);
  }

  void on_ping_req(Time now, const std::string& from, const msg::PingReq& r) {
    count(C::kPingReqsReceived);
    if (relays.size() >= kMaxRelays) {
      count(C::kRelaysDropped);
      return;
    }
    const std::uint64_t seq = next_seq++;
    relays[seq] = Relay{r.seq, from, now + cfg.probe_timeout};
    count(C::kPingsSent);
    send(r.target_address, {msg::Ping{seq, r.target, cfg.name, self_rec().member.address}});
  }

  void on_message(Time now, const std::string& from, const msg::Message& m) {
    std::visit(Overloaded{
                   [&](const msg::Ping& p) { on_ping(now, from, p); },
                   [&](const msg::Ack& a) { on_ack(now, a); },
                   [&](const msg::Nack& n) {
                     if (probe && probe->seq == n.seq) count(C::kNacksReceived);
                   },
                   [&](const msg::PingReq& r) { on_ping_req(now, from, r); },
                   [&](const msg::Alive& a) { apply_alive(now, a); },
                   [&](const msg::Suspect& s) { apply_suspect(now, s); },
                   [&](const msg::Dead& d) { apply_dead(now, d); },
               },
               m);
  }

  void count_decode_error(codec::DecodeStatus st) {
    switch (st) {
      case codec::DecodeStatus::kOk: break;
      case codec::DecodeStatus::kOversize: count(C::kMalformedOversize); break;
      case codec::DecodeStatus::kMalformed: count(C::kMalformedDecode); break;
      case codec::DecodeStatus::kBadVersion: count(C::kBadVersion); break;
      case codec::DecodeStatus::kTooManyEntries: count(C::kMalformedTooMany); break;
      case codec::DecodeStatus::kBadField: count(C::kMalformedBadField); break;
    }
  }

  // ---- timers ----------------------------------------------------------------

  void expire_suspicions(Time now) {
    for (auto& [name, rec] : table.all_mut()) {
      Member& m = rec.member;
      if (m.state != MemberState::kSuspect || rec.suspect_deadline > now) continue;
      m.state = MemberState::kDead;
      m.state_since = now;
      rec.confirmers.clear();
      count(C::kMembersDead);
      emit(Event::Kind::kDead, m);
      broadcast(name, msg::Dead{name, m.incarnation, cfg.name, false});
    }
  }

  void forget_dead(Time now) {
    std::vector<std::string> gone;
    for (const auto& [name, rec] : table.all()) {
      const Member& m = rec.member;
      if (name == cfg.name || is_live(m.state)) continue;
      if (now - m.state_since >= cfg.dead_forget_after) gone.push_back(name);
    }
    for (const auto& name : gone) {
      table.erase(name);
      count(C::kMembersForgotten);
    }
  }

  Time earliest_member_deadline() const {
    Time t = kNever;
    for (const auto& [name, rec] : table.all()) {
      const Member& m = rec.member;
      if (m.state == MemberState::kSuspect) {
        t = std::min(t, rec.suspect_deadline);
      } else if (!is_live(m.state) && name != cfg.name) {
        t = std::min(t, m.state_since + cfg.dead_forget_after);
      }
    }
    return t;
  }

  void tick(Time now) {
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
    if (probe && !probe->acked && !probe->indirect_sent && probe->indirect_at <= now) {
      send_indirect();
    }
    if (next_probe_at <= now) {
      finish_probe(now);
      start_probe(now);
      next_probe_at += cfg.probe_interval;
      if (next_probe_at <= now) next_probe_at = now + cfg.probe_interval;
    }
    expire_suspicions(now);
    forget_dead(now);
    if (next_gossip_at <= now) {
      next_gossip_at = now + cfg.gossip_interval;
      if (!queue.empty()) gossip_round();
    }
    if (next_push_pull_at <= now) {
      next_push_pull_at = now + cfg.push_pull_interval;
      if (!leaving) {
        auto peer = table.random_members(rng, 1, MemberTable::Pick::kAlive);
        if (!peer.empty()) {
          count(C::kPushPulls);
          send_stream(peer.front()->member.address, false);
        }
      }
    }
    if (!joined_ && join_retry_at <= now) {
      join_retry_at = now + cfg.join_retry_interval;
      send_joins();
    }
  }

  void send_joins() {
    for (const auto& seed : seeds) {
      bool pending = false;
      for (const auto& [id, ps] : pending_streams) pending = pending || (ps.join && ps.to == seed);
      if (!pending) send_stream(seed, true);
    }
  }

  Time next_deadline() const {
    if (!started) return kNever;
    Time t = std::min(next_probe_at, next_push_pull_at);
    if (probe && !probe->acked && !probe->indirect_sent) t = std::min(t, probe->indirect_at);
    if (!queue.empty()) t = std::min(t, next_gossip_at);
    if (!joined_) t = std::min(t, join_retry_at);
    for (const auto& [seq, r] : relays) t = std::min(t, r.deadline);
    return std::min(t, earliest_member_deadline());
  }
};

Node::Node(Config config, std::uint64_t seed)
    : impl_(std::make_unique<Impl>(std::move(config), seed)) {}
Node::~Node() = default;

void Node::start(Time now, std::vector<std::string> seeds) {
  Impl& s = *impl_;
  if (s.started) return;
  s.started = true;
  MemberRecord& self = s.self_rec();
  self.member.state_since = now;
  s.emit(Event::Kind::kJoined, self.member);
  std::sort(seeds.begin(), seeds.end());
  seeds.erase(std::unique(seeds.begin(), seeds.end()), seeds.end());
  std::erase_if(seeds, [&](const std::string& a) { return a.empty() || a == s.cfg.advertise; });
  s.seeds = std::move(seeds);
  // Spread the first probe over one interval so members do not probe in step.
  std::uniform_int_distribution<Duration::rep> jitter(0, std::max<Duration::rep>(s.cfg.probe_interval.count() - 1, 0));
  s.next_probe_at = now + Duration(jitter(s.rng));
  s.next_gossip_at = now + s.cfg.gossip_interval;
  s.next_push_pull_at = now + s.cfg.push_pull_interval;
  if (s.seeds.empty()) {
    s.joined_ = true;
    return;
  }
  s.join_retry_at = now + s.cfg.join_retry_interval;
  s.send_joins();
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
  s.current_from = std::string(from);
  s.corrections.clear();
  for (const auto& m : packet.messages) s.on_message(now, s.current_from, m);
  if (!s.corrections.empty()) {
    // The sender gossips stale news: answer it directly with ours.
    s.count(C::kStaleCorrections);
    s.send(s.current_from, std::exchange(s.corrections, {}));
  }
  s.current_from.clear();
}

std::string Node::handle_stream(Time now, std::string_view from, std::string_view request) {
  (void)from;
  Impl& s = *impl_;
  s.count(C::kStreamsReceived);
  s.count(C::kStreamBytesReceived, request.size());
  msg::PushPull pp;
  const codec::DecodeStatus st = codec::decode(request, s.stream_limits, &pp);
  if (st != codec::DecodeStatus::kOk) {
    s.count_decode_error(st);
    return {};
  }
  s.merge(now, pp);
  if (s.started) s.joined_ = true;
  return codec::encode(s.local_state(false));
}

void Node::handle_stream_reply(Time now, std::uint64_t id, std::string_view reply) {
  Impl& s = *impl_;
  auto it = s.pending_streams.find(id);
  if (it == s.pending_streams.end()) {
    s.count(C::kStreamRepliesUnknown);
    return;
  }
  s.pending_streams.erase(it);
  s.count(C::kStreamBytesReceived, reply.size());
  msg::PushPull pp;
  const codec::DecodeStatus st = codec::decode(reply, s.stream_limits, &pp);
  if (st != codec::DecodeStatus::kOk) {
    s.count_decode_error(st);
    return;
  }
  s.merge(now, pp);
  s.joined_ = true;
}

void Node::handle_stream_error(Time now, std::uint64_t id) {
  (void)now;
  Impl& s = *impl_;
  if (s.pending_streams.erase(id) > 0) s.count(C::kStreamErrors);
}

void Node::tick(Time now) { impl_->tick(now); }

Time Node::next_deadline() const { return impl_->next_deadline(); }

void Node::leave(Time now) {
  Impl& s = *impl_;
  if (s.leaving) return;
  s.leaving = true;
  s.probe.reset();
  Member& self = s.self_rec().member;
  self.incarnation += 1;
  self.state = MemberState::kLeft;
  self.state_since = now;
  s.emit(Event::Kind::kLeft, self);
  const msg::Dead bye{self.name, self.incarnation, self.name, true};
  s.broadcast(self.name, bye);
  // Tell every live member directly as well (one datagram each): a leave
  // must not depend on the luck of random gossip, since nobody can refute
  // for us once we are gone. The queued copy then repeats it.
  if (s.started) {
    for (const auto& [name, rec] : s.table.all()) {
      if (name == s.cfg.name || !is_live(rec.member.state)) continue;
      s.send(rec.member.address, {bye});
    }
  }
  s.next_gossip_at = std::min(s.next_gossip_at, now);  // spread it at once
}

bool Node::leave_done() const {
  const Impl& s = *impl_;
  if (!s.leaving) return false;
  if (!s.started || !s.queue.contains(s.cfg.name)) return true;
  for (const auto& [name, rec] : s.table.all()) {
    if (name != s.cfg.name && is_live(rec.member.state)) return false;
  }
  return true;
}

std::vector<Datagram> Node::take_datagrams() { return std::exchange(impl_->out_datagrams, {}); }
std::vector<StreamRequest> Node::take_stream_requests() {
  return std::exchange(impl_->out_streams, {});
}
std::vector<Event> Node::take_events() { return std::exchange(impl_->events, {}); }

bool Node::joined() const { return impl_->joined_; }

std::vector<Member> Node::members() const {
  std::vector<Member> out;
  out.reserve(impl_->table.size());
  for (const auto& [name, rec] : impl_->table.all()) out.push_back(rec.member);
  return out;
}

const Member& Node::self() const { return impl_->self_rec().member; }

std::vector<std::pair<std::string, std::uint64_t>> Node::counters() const {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  out.reserve(kCounterNames.size() + 3);
  for (std::size_t i = 0; i < kCounterNames.size(); ++i) {
    out.emplace_back(std::string(kCounterNames[i]), impl_->counters[i]);
  }
  out.emplace_back("members_known", impl_->table.size());
  out.emplace_back("members_live", impl_->table.live_count());
  out.emplace_back("broadcast_queue", impl_->queue.size());
  return out;
}

}  // namespace ringd::gossip
