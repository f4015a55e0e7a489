// gossip/node_impl.h — Node's private state, shared by the node*.cc files.
// Internal to gossip/: nothing outside includes it.
//
//   node.cc         the public API, the essay on SWIM departures, counters
//   node_output.cc  datagrams, streams, the piggyback queue, gossip rounds
//   node_rules.cc   alive/suspect/dead precedence, refutation, state merge
//   node_probe.cc   probing, ping/ack/ping-req/nack, digests, discovery
//   node_fallback.cc  TCP fallback probes, stream dispatch, notices
//   node_heal.cc    partition healing (retry seeds and the recently dead)
//   node_meta.cc    metadata changes, config validation
//   node_timers.cc  tick(): probe period, suspicion expiry, forgetting,
//                   gossip, push-pull, join retries; next_deadline()
//
// State with rules of its own is a type of its own, changed only through
// its methods: Probe (the round in flight, probe.h), Suspicion (each
// suspect's timer, suspicion.h), Awareness, Contact, PendingStreams and the
// MemberTable, whose Edit keeps what it derives up to date.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "awareness.h"
#include "broadcast_queue.h"
#include "codec.h"
#include "contact.h"
#include "member_table.h"
#include "messages.h"
#include "node.h"
#include "pending_streams.h"
#include "probe.h"

namespace ringd::gossip {
namespace node_detail {

// Counters, in the order counters() reports them (names in node.cc).
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
  kProbesLate, kBuddyPings, kTcpPingsSent, kTcpPingsReceived, kUdpBlocked, kHealSyncs,
  kIncarnationJumpsRefused, kNoticesDropped, kMetadataUpdates, kSuspicionsHeld,
  kDeathsKeptLocal, kLocalVerdictsUndone, kUnconfirmedHeld, kAddressChecks, kNameConflicts, kPushPullsPaged,
  kCount,
};

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace node_detail

struct Node::Impl {
  using C = node_detail::C;
  static constexpr Time kNever = Time::max();
  static constexpr std::size_t kMaxRelays = 256;
  static constexpr std::size_t kMaxNotices = 64;
  static constexpr std::size_t kMaxHealAddresses = 128;
  static constexpr std::size_t kHealDeadPerRound = 3;
  static constexpr std::size_t kMaxAddressChecks = 64;

  struct Relay {
    std::uint64_t orig_seq = 0;
    std::string requester;  // address to answer
    Time deadline{};
  };
  // A question pending in node_conflict.cc: does anything still answer as
  // `name` at holder_address? For a member's address change, `claim` is
  // the Alive waiting for the verdict; for our own name, `incarnation` is
  // the other holder's.
  struct AddressCheck {
    std::uint64_t seq = 0;
    std::string holder_address;
    std::optional<msg::Alive> claim;
    std::uint64_t incarnation = 0;
    Time deadline{};
  };
  struct RefusedClaim {
    std::string address;
    Time until{};
  };
  struct DeadAddress {
    std::string address;
    Time died_at{};
  };

  Config cfg;
  std::mt19937_64 rng;
  MemberTable table;
  BroadcastQueue queue;
  Awareness awareness;
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
  Time next_heal_at = kNever;
  Time next_heal_dead_at = kNever;
  // Members that died (not left) recently, by name: partition healing
  // retries their addresses for heal_dead_window. At most kMaxHealAddresses.
  std::map<std::string, DeadAddress> dead_addresses;
  Probe probe;  // the round in flight (probe.h)
  // When we last emitted a "UDP looks blocked" notice about a member, by
  // name (node_fallback.cc); dropped when the member is forgotten, so
  // bounded by the table.
  std::map<std::string, Time, std::less<>> udp_blocked_notices;
  // Name conflicts (node_conflict.cc), each map at most kMaxAddressChecks.
  std::map<std::string, AddressCheck> address_checks;  // by name
  std::map<std::string, RefusedClaim> refused_claims;  // by name
  std::map<std::string, Time> conflict_notices;        // by name: last notice
  // Our name is held by a live agent elsewhere: we stay out until a join
  // retry finds it gone.
  bool yielded = false;
  std::map<std::uint64_t, Relay> relays;
  PendingStreams pending_streams;
  std::uint64_t next_seq = 1;
  Contact contact;  // see expire_suspicions
  bool cut_off = false;  // as last judged by expire_suspicions
  Time last_discovery = kNever;  // kNever = no discovery yet
  Time mismatch_since = kNever;  // digests have differed since then
  Time last_digest_sync = kNever;

  std::vector<Datagram> out_datagrams;
  std::vector<StreamRequest> out_streams;
  std::vector<Event> events;
  std::vector<std::string> notices;
  std::array<std::uint64_t, static_cast<std::size_t>(C::kCount)> counters{};

  Impl(Config c, std::uint64_t seed)
      : cfg(std::move(c)),
        rng(seed),
        table(cfg.name, cfg.dead_forget_after, cfg.identity_pool),
        queue(cfg.max_broadcasts),
        awareness(cfg.awareness_max) {
    packet_limits.max_bytes = std::max<std::size_t>(cfg.max_packet_size, 512) * 4;
    stream_limits.max_bytes = cfg.max_stream_size;
    stream_limits.max_members = cfg.max_members + 1;
    Member self;
    self.name = cfg.name;
    self.address = cfg.advertise;
    self.service = cfg.service;
    self.incarnation = cfg.incarnation;
    self.tags = cfg.tags;
    self.service_state = cfg.service_state;
    table.insert(std::move(self), rng);
  }

  void count(C c, std::uint64_t n = 1) { counters[static_cast<std::size_t>(c)] += n; }
  // Datagram messages and their encoded bytes by type (msg::Message's
  // alternatives, in order), both ways.
  struct ByType {
    std::array<std::uint64_t, std::variant_size_v<msg::Message>> messages{};
    std::array<std::uint64_t, std::variant_size_v<msg::Message>> bytes{};
    void add(const msg::Message& m) {
      ++messages[m.index()];
      bytes[m.index()] += codec::encoded_size(m);
    }
  };
  ByType sent_by_type;
  ByType received_by_type;
  const MemberRecord& self_rec() const { return *table.find(cfg.name); }

  void emit(Event::Kind kind, const Member& m) { events.push_back(Event{kind, m}); }
  void notice(std::string line);

  // Probe period and direct-ack timeout towards `rec`, both scaled by local
  // health (awareness.h); the timeout follows measured round trips (rtt.h).
  Duration probe_interval_now() const { return awareness.scale(cfg.probe_interval); }
  // push_pull_interval, stretched for the live members' count (push_pull_scale).
  Duration push_pull_interval_now() const;
  Duration probe_timeout_for(const MemberRecord* rec) const;
  // News `heard` about a member we know at `known` that jumps implausibly far
  // ahead (Config::max_incarnation_jump): refuse it and count it.
  bool implausible(std::uint64_t known, std::uint64_t heard);

  // ---- output ----------------------------------------------------------
  int retransmit_limit() const;
  void broadcast(const std::string& name, msg::Message m);
  // Sends `primary` plus as many queued updates as fit in max_packet_size.
  // With no primary and no updates nothing is sent.
  void send(const std::string& to, std::vector<msg::Message> primary);
  void send_exactly(const std::string& to, std::vector<msg::Message> messages);
  // The gossip timer: one batch of pending updates, counted as one
  // transmission, to gossip_nodes random live members. (Counting each target
  // separately, as memberlist does, lets an update die out after reaching
  // only ~retransmit_mult members; in small clusters that misses a member
  // every few updates.)
  void gossip_round();
  // Our state for a push-pull: every member, or past push_pull_max_members
  // ourselves and a page of the others, the next page next time.
  msg::PushPull local_state(bool join);
  std::string push_pull_cursor;  // where the next page starts (a member name)
  void send_stream(const std::string& to, bool join);

  // ---- SWIM state rules ------------------------------------------------
  msg::Alive self_alive() const;
  // Someone claims something about us that is not "alive at our incarnation":
  // overrule it with a higher incarnation.
  void refute(std::uint64_t heard);
  // What handling one datagram sends straight back to its sender, which
  // gossiped stale news (about us, or about a member we know has left or
  // died at a later incarnation): ours, at most kMax per datagram. Passed
  // down from handle_packet; the rules get none for news from a push-pull,
  // an operator or our own verdicts.
  struct Corrections {
    static constexpr std::size_t kMax = 4;
    std::vector<msg::Message> messages;
    void add(msg::Message m) {
      if (messages.size() < kMax) messages.push_back(std::move(m));
    }
  };
  void apply_alive(Time now, const msg::Alive& a);
  // After a change of our own service, tags or service state (node_meta.cc).
  void announce_self_change(Time now);
  // apply_alive's rules for a known member once any address check is done.
  void apply_alive_unchecked(Time now, const MemberRecord& rec, const msg::Alive& a);
  // Undoes a verdict of ours reached while cut off (local_verdict): the
  // member is alive again at the same incarnation, here only.
  void revive(Time now, const MemberRecord& rec);
  void apply_suspect(Time now, const msg::Suspect& s, Corrections* back = nullptr);
  void apply_dead(Time now, const msg::Dead& d, Corrections* back = nullptr);
  void merge(Time now, const msg::PushPull& pp);

  // ---- probing -----------------------------------------------------------
  void start_probe(Time now);
  void send_indirect(Time now);
  // Judges the probe that is ending. `late`: this tick came long after it
  // was due (we were paused or starved), so a missing ack says nothing
  // about the target.
  void finish_probe(Time now, bool late);

  // ---- TCP fallback (node_fallback.cc) --------------------------------------
  void send_tcp_ping(const MemberRecord& target);
  // A TCP ping for `target` at `to` under sequence number `seq`; returns the
  // stream id, 0 when none was sent (self, or too many streams pending).
  std::uint64_t send_tcp_ping_to(const std::string& to, const std::string& target, std::uint64_t seq);
  std::string answer_stream(Time now, const msg::Stream& request);
  void on_tcp_ping_reply(Time now, const PendingStream& ps, const msg::Stream& reply);
  void udp_blocked(Time now, const MemberRecord& rec);

  // ---- name conflicts (node_conflict.cc) -----------------------------------
  // True while we must not act under our name: we yielded it, or we are
  // asking whether its other holder lives.
  bool holding_back() const { return yielded || address_checks.contains(cfg.name); }
  void conflict_notice(Time now, const std::string& name, std::string line);
  // Pings `address` (UDP and TCP) for `name`; returns the sequence number.
  std::uint64_t ask_address(const std::string& name, const std::string& address);
  // A live member's address is changing: asks the old address first.
  // Returns true when `a` was held or refused (the caller applies nothing).
  bool hold_address_change(Time now, const MemberRecord& rec, const msg::Alive& a);
  // Our name, alive at another address.
  void claim_on_our_name(Time now, const msg::Alive& a);
  // An ack (UDP or TCP) for `seq` from `source`: true when it answered a check.
  bool answer_address_check(Time now, std::uint64_t seq, const std::string& source);
  void expire_address_checks(Time now);
  // The verdict on a check: the name's holder answered at its old address,
  // or not (timeout, or another member answers there).
  void conclude_check(Time now, const std::string& name, const AddressCheck& check, bool holder_lives);
  Time next_address_check() const;
  void pinged_by_our_name(Time now, const msg::Ping& p);

  // ---- partition healing (node_heal.cc) -------------------------------------
  void remember_dead(const MemberRecord& m, Time now);
  void heal(Time now);
  void heal_dead(Time now);
  void forget_healed(Time now);
  bool live_at(const std::string& address) const;

  // ---- inbound -------------------------------------------------------------
  // A member we have never heard of probes us: gossip about it has missed
  // us, so fetch the full state from it (at most once per probe interval).
  void discover(Time now, const std::string& address);
  void on_ping(Time now, const std::string& from, const msg::Ping& p);
  std::uint64_t live_digest() const { return table.live_digest(); }
  // Views that stay different for digest_sync_interval get a full sync with
  // the peer that disagrees; short-lived differences (gossip in flight) do not.
  void check_digest(Time now, std::uint64_t theirs, const std::string& peer_address);
  void on_ack(Time now, const std::string& from, const msg::Ack& a);
  void on_ping_req(Time now, const std::string& from, const msg::PingReq& r);
  void on_message(Time now, const std::string& from, const msg::Message& m, Corrections& back);
  void count_decode_error(codec::DecodeStatus st);

  // ---- timers ----------------------------------------------------------------
  void expire_suspicions(Time now);
  void forget_dead(Time now);
  void tick(Time now);
  void send_joins();
  // A join attempt through `seed` failed: a notice, at most one per seed per
  // kJoinNoticeInterval (node_timers.cc), counting the attempts between.
  void join_failed(Time now, const std::string& seed, std::string_view reason);
  struct JoinFailures {
    Time last_notice{};
    std::uint64_t unreported = 0;
  };
  std::map<std::string, JoinFailures> join_failures;  // by seed, so bounded by the seeds
  Time next_deadline() const;
};

}  // namespace ringd::gossip
