// gossip/node.h — the SWIM membership state machine (public contract).
//
// The Node owns no sockets, threads or clocks. The caller (agent/ in the
// daemon, tests/sim in simulations) drives it:
//   * passes the current monotonic time `now` into every call;
//   * feeds it UDP datagrams (handle_packet) and TCP stream requests
//     (handle_stream, which returns the reply synchronously);
//   * calls tick(now) whenever now >= next_deadline();
//   * after every call drains the outputs (datagrams, stream requests,
//     notices, events) with gossip::drain(), as gossip/transport.h describes.
// Addresses are "ip:port" strings ("[v6]:port" for IPv6); the caller resolves
// host names before passing seeds in.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringd::gossip {

class IdentityPool;  // member_identity.h

using Duration = std::chrono::nanoseconds;
// Monotonic time since an arbitrary epoch chosen by the caller.
using Time = std::chrono::nanoseconds;

// The longest member name, in bytes: what the wire format carries
// (codec::DecodeLimits::max_string). --node checks against it too.
inline constexpr std::size_t kMaxNameBytes = 255;

enum class MemberState : std::uint8_t { kAlive, kSuspect, kDead, kLeft };
// "alive", "suspect", "dead", "left"
std::string_view to_string(MemberState state);

// Whether a member's service endpoint takes keys. Its own agent decides (a
// health check of the service, or an operator's drain) and gossips it with
// the member; only kPassing services are on the ring. Peers that predate
// the field send nothing, which reads as kPassing.
enum class ServiceState : std::uint8_t { kPassing, kFailing, kDraining, kUnchecked };
// "passing", "failing", "draining", "unchecked"
std::string_view to_string(ServiceState state);

// Member metadata: free-form key/value labels gossiped with the member
// (e.g. {"zone": "eu-1", "weight": "2"}). Bounded by Config::max_metadata_size.
using Tags = std::map<std::string, std::string>;

struct Member {
  std::string name;
  std::string address;   // gossip address, "ip:port"
  std::string service;   // advertised service endpoint "ip:port"; empty = router-only
  MemberState state = MemberState::kAlive;
  std::uint64_t incarnation = 0;
  Time state_since{};    // when this node last saw the state change
  Tags tags{};           // metadata, see Tags
  ServiceState service_state = ServiceState::kPassing;  // meaningful with a service
};

struct Event {
  enum class Kind : std::uint8_t {
    kJoined,   // first time this member is known (state alive)
    kUpdated,  // address, service or tags changed (member stays alive)
    kAlive,    // suspect/dead/left -> alive (refuted or rejoined)
    kSuspect,
    kDead,
    kLeft,
  };
  Kind kind;
  Member member;  // member as it is after the change
};
std::string_view to_string(Event::Kind kind);

// Every timing and bound of the protocol. The defaults are the "lan" profile
// (gossip/profiles.h explains the choice of each value); profile_config()
// returns the others. Durations scaled "by awareness" are multiplied by
// (awareness score + 1), see awareness.h.
struct Config {
  // ---- identity ---------------------------------------------------------
  std::string name;       // unique member name
  std::string advertise;  // "ip:port" other members reach us at (UDP and TCP)
  std::string service;    // "ip:port" or empty for a router-only member
  Tags tags;              // metadata gossiped with us (see max_metadata_size)
  ServiceState service_state = ServiceState::kPassing;  // our service's, at start
  // Incarnation to start from. A restarted member that reuses its name comes
  // back alive even if others still remember an older life: when it learns
  // its own stale state (push-pull reply, or a suspect/dead about itself in an
  // ack), it refutes with a higher incarnation. Setting this to e.g. the wall
  // clock in seconds makes the very first Alive win as well.
  std::uint64_t incarnation = 0;

  // ---- failure detection (SWIM + Lifeguard) -------------------------------
  // One probe per period (scaled by awareness): ping a member, wait for an
  // ack until the probe timeout, then ask indirect_checks relays (and try
  // TCP); a member with no ack by the end of the period becomes suspect.
  Duration probe_interval = std::chrono::milliseconds(300);
  // Direct-ack timeout towards a member we have no round-trip sample for yet
  // (the first probe); afterwards srtt + 4*rttvar (rtt.h), clamped to
  // [probe_timeout_floor, probe_timeout_ceiling]. Scaled by awareness. Must
  // be below probe_interval.
  Duration probe_timeout = std::chrono::milliseconds(80);
  Duration probe_timeout_floor = std::chrono::milliseconds(10);
  Duration probe_timeout_ceiling = std::chrono::milliseconds(80);
  int indirect_checks = 3;          // k relays asked to probe indirectly; also
                                    // the confirmations a suspicion waits for
  // Lifeguard local health: score 0..awareness_max; 0 disables scaling.
  int awareness_max = 8;
  // When a direct UDP probe gets no ack, also ping the member over a stream
  // (TCP). If that answers, UDP looks blocked: no suspicion, one notice.
  bool tcp_fallback_probe = true;
  // At most one "UDP looks blocked" notice per member per this interval.
  Duration udp_blocked_notice_interval = std::chrono::minutes(5);
  // Suspicion timeout: min = suspicion_mult * max(1, (1 + log10 n) / 2) *
  // probe_interval; it starts at suspicion_max_timeout_mult * min and shrinks
  // to min as indirect_checks other members confirm (suspicion.h). 1 = SWIM.
  int suspicion_mult = 4;
  int suspicion_max_timeout_mult = 3;

  // ---- dissemination ------------------------------------------------------
  int retransmit_mult = 4;          // λ: each update is piggybacked ~λ·log10(n+1) times
  Duration gossip_interval = std::chrono::milliseconds(100);
  int gossip_nodes = 3;             // fan-out of the gossip timer
  std::size_t max_packet_size = 1400;  // bytes per datagram, updates packed to fit

  // ---- anti-entropy, joining, healing -------------------------------------
  Duration push_pull_interval = std::chrono::seconds(30);  // periodic full-state sync
  // Stretch push_pull_interval as the cluster grows, as memberlist does:
  // beyond 32 live members it is multiplied by ceil(log2(n) - 5) + 1 (64
  // members: 2x, 1,000: 6x, 10,000: 10x), so a large cluster's sync traffic
  // stays modest; gossip, not the sync, carries news.
  bool push_pull_scale = true;
  Duration join_retry_interval = std::chrono::seconds(1);
  // Acks carry a digest of the sender's live view; when our view has
  // differed from our peers' for this long, we sync with the peer at once
  // (and at most once per this interval) instead of waiting for the periodic
  // push-pull. Zero disables.
  Duration digest_sync_interval = std::chrono::seconds(2);
  // Partition healing: this often, a full-state sync with every seed that is
  // not a live member (and, when heal_dead_interval is zero, with a few
  // members that died, not left, within heal_dead_window), so two halves
  // that declared each other dead merge again. Zero disables.
  Duration heal_interval = std::chrono::seconds(30);
  Duration heal_dead_window = std::chrono::minutes(10);
  // Besides, every heal_dead_interval each member syncs with each recently
  // dead address with probability heal_dead_rate / (live members), so the
  // cluster as a whole tries a dead member about heal_dead_rate times per
  // interval at any size: two halves merge within a few seconds of the cut
  // lifting, while a crashed host costs the cluster about one refused
  // connect per second for heal_dead_window. Zero disables.
  Duration heal_dead_interval = std::chrono::seconds(2);
  double heal_dead_rate = 2.0;
  Duration dead_forget_after = std::chrono::seconds(60);   // dead/left members dropped after this

  // ---- bounds ---------------------------------------------------------------
  std::size_t max_members = 16384;         // members beyond this are ignored (and counted)
  std::size_t max_broadcasts = 4096;       // piggyback queue bound
  std::size_t max_stream_size = 4 << 20;   // push-pull request/reply bound, bytes
  // Most member entries one push-pull carries (also kept under
  // max_stream_size); a larger table is sent a page per sync, in turn.
  std::size_t push_pull_max_members = 2048;
  // Encoded size of service + tags; larger metadata is refused (validate()).
  std::size_t max_metadata_size = 512;
  // News about a member more than this many incarnations ahead of what we
  // know is refused and counted (a corrupt or hostile peer could otherwise
  // push a member to the top of the 64-bit range, where it can never refute).
  std::uint64_t max_incarnation_jump = std::uint64_t{1} << 32;

  // ---- storage ----------------------------------------------------------------
  // Where member names, addresses and tags are stored once
  // (member_identity.h). Nodes driven from one thread may share a pool, as
  // the simulator's do: N views of N members then hold N identities, not
  // N^2. Null: the node keeps a pool of its own.
  std::shared_ptr<IdentityPool> identity_pool;
};

struct Datagram {
  std::string to;     // "ip:port"
  std::string bytes;
};

struct StreamRequest {
  std::uint64_t id;   // echo back in handle_stream_reply / handle_stream_error
  std::string to;     // "ip:port"
  std::string bytes;  // one request; the peer answers with one reply
};

class Node {
 public:
  Node(Config config, std::uint64_t seed);
  // Why `config` cannot run (empty name, metadata over max_metadata_size,
  // probe_timeout >= probe_interval, ...), or nullopt when it can. Call it
  // at start-up; a Node built from an invalid config behaves unspecified.
  static std::optional<std::string> validate(const Config& config);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Begins membership. Seeds equal to our own advertise address are ignored.
  // With no other seeds the node is alone and joined() is true at once;
  // otherwise it tries every seed (full-state sync over a stream) and
  // retries every join_retry_interval until one answers.
  void start(Time now, std::vector<std::string> seeds);
  // Begins membership alone and already knowing `view` (other members,
  // in the states and at the incarnations given, with state_since = now):
  // what one full-state sync with a member of a settled cluster brings, but
  // nothing is broadcast and no events are emitted for them (the caller
  // knows what it gave). Entries under our own name, and any beyond
  // max_members, are ignored. joined() is true at once. The simulator
  // starts settled clusters of 10,000 this way, where a real join of every
  // member would cost O(N^2) messages to simulate.
  void start_with_view(Time now, const std::vector<Member>& view);

  // A UDP datagram. Malformed input is dropped and counted, never thrown.
  void handle_packet(Time now, std::string_view from, std::string_view bytes);
  // A stream (TCP) request from a peer; returns the reply to send back (may be
  // empty: send nothing and close). Malformed input is counted.
  std::string handle_stream(Time now, std::string_view from, std::string_view request);
  void handle_stream_reply(Time now, std::uint64_t id, std::string_view reply);
  // The stream request `id` failed; `reason` ("Connection refused", ...)
  // goes into the notice about a failed join.
  void handle_stream_error(Time now, std::uint64_t id, std::string_view reason = {});

  // Runs every timer that is due at `now`.
  void tick(Time now);
  // The earliest time tick() has work to do.
  Time next_deadline() const;

  // Graceful leave: marks self left, gossips it. The caller keeps driving
  // the node until leave_done() or a grace period ends, then exits.
  void leave(Time now);
  bool leave_done() const;

  std::vector<Datagram> take_datagrams();
  std::vector<StreamRequest> take_stream_requests();
  std::vector<Event> take_events();
  // Human-readable lines worth logging once (rate-limited here), e.g.
  // "UDP to n3 (10.0.0.3:7946) looks blocked; TCP probe succeeded".
  std::vector<std::string> take_notices();

  // Operator requests (node_operator.cc). join(): a full-state sync with
  // each address (as a seed's at start), merged when it answers; returns
  // how many were asked (not self, duplicates once). force_leave(): a dead
  // member becomes left everywhere (serf's force-leave): its service stays
  // off the rings and nobody tries its address again; refused for live
  // members, which would refute it.
  std::size_t join(Time now, std::vector<std::string> addresses);
  enum class ForceLeave { kDone, kUnknown, kSelf, kNotFailed, kAlreadyLeft };
  ForceLeave force_leave(Time now, std::string_view name);

  // Changes our service endpoint and tags: bumps our incarnation and gossips
  // it, so every member sees kUpdated. Returns false (and changes nothing)
  // when the metadata is over max_metadata_size.
  bool set_metadata(Time now, std::string service, Tags tags);
  // Changes our service's state (health check, drain) the same way: a new
  // incarnation, gossiped, kUpdated everywhere. No-op when unchanged.
  void set_service_state(Time now, ServiceState state);

  // True once a seed answered, another member contacted us, or we are alone.
  bool joined() const;
  // Every known member including self, sorted by name.
  std::vector<Member> members() const;
  Member self() const;  // ourselves as the others see us (a copy)
  // Counters for /metrics, e.g. {"packets_received", 12}, {"malformed_decode", 1}.
  std::vector<std::pair<std::string, std::uint64_t>> counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "left", "no such member", ...: why force_leave() did what it did.
std::string_view to_string(Node::ForceLeave result);

}  // namespace ringd::gossip
