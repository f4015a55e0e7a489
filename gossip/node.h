// gossip/node.h — the SWIM membership state machine (public contract).
//
// The Node owns no sockets, threads or clocks. The caller (agent/ in the
// daemon, tests/sim in simulations) drives it:
//   * passes the current monotonic time `now` into every call;
//   * feeds it UDP datagrams (handle_packet) and TCP stream requests
//     (handle_stream, which returns the reply synchronously);
//   * calls tick(now) whenever now >= next_deadline();
//   * after every call drains the outputs: take_datagrams() (best effort, UDP),
//     take_stream_requests() (reliable request/response over TCP; the caller
//     reports the outcome with handle_stream_reply / handle_stream_error),
//     and take_events() (membership changes, in order).
// Addresses are "ip:port" strings ("[v6]:port" for IPv6); the caller resolves
// host names before passing seeds in.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringd::gossip {

using Duration = std::chrono::nanoseconds;
// Monotonic time since an arbitrary epoch chosen by the caller.
using Time = std::chrono::nanoseconds;

enum class MemberState : std::uint8_t { kAlive, kSuspect, kDead, kLeft };
// "alive", "suspect", "dead", "left"
std::string_view to_string(MemberState state);

struct Member {
  std::string name;
  std::string address;   // gossip address, "ip:port"
  std::string service;   // advertised service endpoint "ip:port"; empty = router-only
  MemberState state = MemberState::kAlive;
  std::uint64_t incarnation = 0;
  Time state_since{};    // when this node last saw the state change
};

struct Event {
  enum class Kind : std::uint8_t {
    kJoined,   // first time this member is known (state alive)
    kUpdated,  // address or service changed
    kAlive,    // suspect/dead/left -> alive (refuted or rejoined)
    kSuspect,
    kDead,
    kLeft,
  };
  Kind kind;
  Member member;  // member as it is after the change
};
std::string_view to_string(Event::Kind kind);

struct Config {
  std::string name;       // unique member name
  std::string advertise;  // "ip:port" other members reach us at (UDP and TCP)
  std::string service;    // "ip:port" or empty for a router-only member

  Duration probe_interval = std::chrono::milliseconds(500);
  Duration probe_timeout = std::chrono::milliseconds(200);
  int indirect_checks = 3;          // k members asked to probe indirectly
  int suspicion_mult = 4;           // suspicion timeout = mult * max(1, log10(n)) * probe_interval
  int retransmit_mult = 4;          // λ: each update is piggybacked ~λ·log(n+1) times
  Duration gossip_interval = std::chrono::milliseconds(100);
  int gossip_nodes = 3;             // fan-out of the gossip timer
  Duration push_pull_interval = std::chrono::seconds(30);  // periodic full-state sync
  Duration join_retry_interval = std::chrono::seconds(1);
  Duration dead_forget_after = std::chrono::seconds(60);   // dead/left members dropped after this
  std::size_t max_packet_size = 1400;

  // --- additions beyond the original contract (defaults are fine) ---
  // Incarnation to start from. A restarted member that reuses its name comes
  // back alive even if others still remember an older life: when it learns
  // its own stale state (push-pull reply, or a suspect/dead about itself in an
  // ack), it refutes with a higher incarnation. Setting this to e.g. the wall
  // clock in seconds makes the very first Alive win as well.
  std::uint64_t incarnation = 0;
  // Lifeguard: a suspicion starts at max_mult * timeout and shrinks towards
  // the suspicion timeout as other members confirm it. 1 = plain SWIM.
  int suspicion_max_timeout_mult = 3;
  // Acks carry a digest of the sender's live view; when our view has
  // differed from our peers' for this long, we sync with the peer at once
  // (and at most once per this interval) instead of waiting for the periodic
  // push-pull. Zero disables.
  Duration digest_sync_interval = std::chrono::seconds(2);
  std::size_t max_members = 10000;         // members beyond this are ignored (and counted)
  std::size_t max_broadcasts = 4096;       // piggyback queue bound
  std::size_t max_stream_size = 4 << 20;   // push-pull request/reply bound, bytes
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
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Begins membership. Seeds equal to our own advertise address are ignored.
  // With no other seeds the node is alone and joined() is true at once;
  // otherwise it tries every seed (full-state sync over a stream) and
  // retries every join_retry_interval until one answers.
  void start(Time now, std::vector<std::string> seeds);

  // A UDP datagram. Malformed input is dropped and counted, never thrown.
  void handle_packet(Time now, std::string_view from, std::string_view bytes);
  // A stream (TCP) request from a peer; returns the reply to send back (may be
  // empty: send nothing and close). Malformed input is counted.
  std::string handle_stream(Time now, std::string_view from, std::string_view request);
  void handle_stream_reply(Time now, std::uint64_t id, std::string_view reply);
  void handle_stream_error(Time now, std::uint64_t id);

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

  // True once a seed answered, another member contacted us, or we are alone.
  bool joined() const;
  // Every known member including self, sorted by name.
  std::vector<Member> members() const;
  const Member& self() const;
  // Counters for /metrics, e.g. {"packets_received", 12}, {"malformed_decode", 1}.
  std::vector<std::pair<std::string, std::uint64_t>> counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ringd::gossip
