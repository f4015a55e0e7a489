// tests/sim/support/sim_cluster.h — many gossip::Nodes on a virtual clock and
// a simulated network, all in one process, fully deterministic per seed.
//
//   * Virtual time only: nothing sleeps or reads a clock. The loop repeatedly
//     takes the earliest of (a) the next scheduled network event and (b) the
//     earliest Node::next_deadline() of a member that is running and not
//     paused; ties go to network events first, then members by index.
//     Network events fire in (time, sequence) order (sim_loop.h).
//   * Network (sim_network.h): per-link loss, duplication, delay with jitter
//     (so datagrams reorder), one-way cuts, partitions, a global extra loss,
//     and a packet filter that may drop or rewrite datagrams. Cuts are
//     checked when a datagram is sent and again when it arrives.
//   * Streams (push-pull, joins) use the same links: each leg has the link's
//     delay plus a retransmission timeout per lost segment. A stream that
//     meets a cut, an address nobody has, or a leg slower than
//     stream_timeout ends in handle_stream_error at stream_timeout after it
//     was sent; one to a crashed member (host up, port closed) fails after a
//     round trip (connection refused).
//   * Members: crash (stops at once, no leave), pause (stops processing: its
//     timers do not fire; datagrams queue up to pause_buffer, more are
//     dropped as a full socket buffer would; stream traffic queues), resume
//     (queued input first, then the overdue timers, all at the resume time),
//     restart (a fresh Node with the same name, optionally at a new address).
//   * Every random choice comes from one PRNG seeded from the run's seed
//     (each Node gets its own seed derived from it). The seed is printed
//     when a test fails; RINGD_SIM_SEED=<n> replays (sim_seed()).
//   * Every membership event of every member goes into a trace and a 64-bit
//     digest that also covers every delivered datagram and stream (time,
//     endpoints, bytes): the determinism test compares them. Each event is
//     checked to change the observer's view (exactly one event per change),
//     and the invariant Checker (sim_checker.h) runs after every step.
//   * run_until(pred, max) stops when pred() holds or `max` virtual time has
//     passed, so a broken simulation cannot spin forever; it also reports a
//     failure if time stops advancing.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gossip/member_identity.h"
#include "gossip/node.h"
#include "support/sim_checker.h"
#include "support/sim_loop.h"
#include "support/sim_network.h"
#include "support/sim_report.h"

namespace ringd::sim {

// The seed to use: RINGD_SIM_SEED from the environment if set, else `fallback`.
std::uint64_t sim_seed(std::uint64_t fallback);
// splitmix64: derives independent seeds from one.
std::uint64_t mix_seed(std::uint64_t x);

struct SimOptions {
  LinkParams link;  // every link's parameters unless set per link
  Duration stream_timeout = std::chrono::milliseconds(500);
  Duration stream_rto = std::chrono::milliseconds(200);
  std::size_t pause_buffer = 256;  // datagrams queued for a paused member
  bool record_trace = true;        // trace lines (the digest is always kept)
  bool track_views = true;         // event-derived views for events_match_members
  CheckOptions checks;
  gossip::Config base;  // name/advertise are filled per member
};

class Cluster {
 public:
  explicit Cluster(std::uint64_t seed, SimOptions options = {});
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Adds (does not start) a member "n<i>" at "10.0.<i/256>.<i%256>:7946".
  std::size_t add_node(std::function<void(gossip::Config&)> tweak = {});
  void start(std::size_t i, std::vector<std::string> seeds);
  // Adds n members; member 0 starts alone (if it is the first), the others
  // join through member 0.
  void add_and_start(std::size_t n);
  // Starts members first..size()-1 as a settled cluster: each knows every
  // other one alive at its starting incarnation (Node::start_with_view), as
  // if all had joined long ago. No join traffic, no events.
  void start_settled(std::size_t first = 0);

  std::size_t size() const { return nodes_.size(); }
  gossip::Node& node(std::size_t i) { return *nodes_.at(i).node; }
  const gossip::Node& node(std::size_t i) const { return *nodes_.at(i).node; }
  const std::string& name(std::size_t i) const { return nodes_.at(i).name; }
  const std::string& addr(std::size_t i) const { return nodes_.at(i).addr; }
  // Started and not crashed (a paused member is running).
  bool running(std::size_t i) const { return nodes_.at(i).running; }
  bool paused(std::size_t i) const { return nodes_.at(i).paused; }
  std::uint64_t generation(std::size_t i) const { return nodes_.at(i).generation; }
  std::optional<std::size_t> index_of_name(std::string_view name) const;
  // The member currently at this address, if any.
  std::optional<std::size_t> index_of_addr(const std::string& addr) const { return index_of(addr); }
  Time now() const { return loop_.now(); }
  std::uint64_t seed() const { return seed_; }

  // --- members ---
  // Stops member i at once (no leave); traffic to it is lost.
  void crash(std::size_t i);
  // A fresh Node with the same name and address, started with `seeds`.
  void restart(std::size_t i, std::vector<std::string> seeds,
               std::function<void(gossip::Config&)> tweak = {});
  // The same, at a new address "10.<1+k>.<i/256>.<i%256>:7946" (k-th move).
  void restart_moved(std::size_t i, std::vector<std::string> seeds,
                     std::function<void(gossip::Config&)> tweak = {});
  // Graceful leave; keep running the cluster to let it spread.
  void leave(std::size_t i);
  // Calls f on member i's node (an operator request), then sends what it queued.
  void act(std::size_t i, const std::function<void(gossip::Node&, Time)>& f);
  void pause(std::size_t i);
  void resume(std::size_t i);

  // --- network ---
  Network& network() { return net_; }
  const Network& network() const { return net_; }
  // One-way cuts by member index.
  void block(std::size_t from, std::size_t to);
  void unblock(std::size_t from, std::size_t to);
  // Cuts / restores every link to and from member i.
  void isolate(std::size_t i);
  void heal(std::size_t i);
  // Members in groups[k] can only reach members of the same group; members
  // not listed stay together in the default group.
  void partition(const std::vector<std::vector<std::size_t>>& groups);
  void heal_partitions();
  // Removes every cut, partition, per-link setting and the extra loss.
  void heal_all();
  void set_drop_rate(double p) { net_.set_extra_loss(p); }
  void set_link_drop_rate(std::size_t from, std::size_t to, double p);
  void set_link(std::size_t from, std::size_t to, LinkParams p) { net_.set_link(from, to, p); }
  void set_default_link(LinkParams p) { net_.set_defaults(p); }
  // Datagrams for which filter(from_addr, to_addr, bytes) is true are lost;
  // the filter may also rewrite the bytes in flight.
  using Filter = std::function<bool(const std::string&, const std::string&, std::string&)>;
  void set_filter(Filter f) { filter_ = std::move(f); }
  // Delivers raw bytes to member `to` as a datagram from `from_addr`, now.
  void inject(const std::string& from_addr, std::size_t to, const std::string& bytes);

  // --- faults as the checker sees them ---
  // Records that a fault touched member i now (the ops above do this).
  void mark_fault(std::size_t i);
  Time last_fault(std::size_t i) const { return nodes_.at(i).last_fault; }
  Time last_pause(std::size_t i) const { return nodes_.at(i).last_pause; }
  // i can talk both ways with more than half of the running members
  // (itself included), none of them paused.
  bool reaches_majority(std::size_t i) const;

  // --- running ---
  // Runs until pred() or `max` virtual time passed. Returns pred().
  bool run_until(const std::function<bool()>& pred, Duration max);
  // The same, but evaluates pred() only every `every` of virtual time (for
  // predicates that cost O(n^2), such as Checker::converged). Stops within
  // `every` of the moment pred() became true.
  bool run_until_polled(const std::function<bool()>& pred, Duration max, Duration every);
  void run_for(Duration d);
  // Called for every membership event of every member, in order.
  using EventHook = std::function<void(std::size_t observer, const gossip::Event&)>;
  void set_event_hook(EventHook h) { event_hook_ = std::move(h); }
  // Called for every datagram as it is handed to a member (from, to, bytes).
  using DeliveryHook = std::function<void(std::size_t, std::size_t, const std::string&)>;
  void set_delivery_hook(DeliveryHook h) { delivery_hook_ = std::move(h); }

  // --- queries ---
  // Observer o's view of member m (by index).
  std::optional<gossip::Member> view(std::size_t o, std::size_t m) const;
  bool sees(std::size_t o, std::size_t m, gossip::MemberState s) const;
  // Every running member sees every other running member alive, and is joined.
  bool converged() const;
  // Every running member other than m sees m in state s (unknown counts as no).
  bool all_see(std::size_t m, gossip::MemberState s) const;

  Checker& checker() { return checker_; }
  const Checker& checker() const { return checker_; }
  const std::vector<std::string>& trace() const { return trace_; }
  // Every member's notices (Node::take_notices), "<ms>ms <name>: <line>".
  const std::vector<std::string>& notices() const { return notices_; }
  std::uint64_t trace_digest() const { return digest_; }
  // Events that did not change the observer's view of a member.
  const std::vector<std::string>& violations() const { return violations_; }
  // Each member's event-derived view agrees with members() (state, address, service).
  bool events_match_members(std::string* why) const;
  std::uint64_t counter(std::size_t i, const std::string& name) const;
  // Totals over the run: datagrams handed to the network, their bytes, and
  // datagrams delivered (duplicates count twice, losses not at all).
  std::uint64_t datagrams_sent() const { return datagrams_sent_; }
  std::uint64_t bytes_sent() const { return bytes_sent_; }
  std::uint64_t datagrams_delivered() const { return datagrams_delivered_; }
  std::uint64_t datagrams_dropped_paused() const { return dropped_paused_; }
  std::uint64_t streams_sent() const { return streams_sent_; }
  std::uint64_t stream_bytes() const { return stream_bytes_; }

 private:
  struct SimNode {
    std::string name;
    std::string addr;
    std::unique_ptr<gossip::Node> node;
    bool running = false;
    bool paused = false;
    std::uint64_t generation = 0;
    std::uint64_t moves = 0;
    Time last_fault{};  // the epoch: "long ago" (the clock starts at 1000 s)
    Time last_pause{};
    Time deadline = Time::max();  // key in deadlines_ while scheduled
    // Input that arrived while paused, run in order on resume.
    std::deque<std::function<void()>> inbox;
    std::size_t inbox_datagrams = 0;
    // Observer's view built from its events.
    std::map<std::string, gossip::Member> view;
  };
  using StreamKey = std::tuple<std::size_t, std::uint64_t, std::uint64_t>;  // from, gen, id

  gossip::Config config_for(std::size_t i, const std::function<void(gossip::Config&)>& tweak) const;
  void make_node(std::size_t i, const std::function<void(gossip::Config&)>& tweak);
  void stop(std::size_t i);
  // After any call into member i: send its output, record its events, check.
  class Outlet;
  void drain(std::size_t i);
  // "10.<moves>.<i/256>.<i%256>:7946"
  static std::string address_of(std::size_t i, std::uint64_t moves);
  void record_event(std::size_t i, const gossip::Event& e);
  void update_deadline(std::size_t i);
  // Runs fn for member i (generation gen) now, or queues it while paused.
  // Returns false if the member is gone (crashed / restarted).
  bool deliver_to(std::size_t i, std::uint64_t gen, bool is_datagram, std::function<void()> fn);
  void send_datagram(std::size_t from, gossip::Datagram d);
  void send_stream(std::size_t from, gossip::StreamRequest r);
  void finish_stream(const StreamKey& key, std::optional<std::string> reply);
  std::optional<std::size_t> index_of(const std::string& addr) const;
  void digest_bytes(std::string_view bytes);
  void digest_u64(std::uint64_t v);
  // Advances to and runs the next thing due; false when nothing is due by limit.
  bool step(Time limit);

  std::uint64_t seed_;
  SimOptions options_;
  std::mt19937_64 rng_;
  EventLoop loop_;
  Network net_;
  Checker checker_;
  // Member identities, shared by every node (gossip::Config::identity_pool).
  std::shared_ptr<gossip::IdentityPool> identities_ = std::make_shared<gossip::IdentityPool>();
  std::vector<SimNode> nodes_;
  // Looked up per datagram and per event: hashed (N = 10,000).
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Index = std::unordered_map<std::string, std::size_t, NameHash, std::equal_to<>>;
  Index by_addr_;
  Index by_name_;
  std::set<std::pair<Time, std::size_t>> deadlines_;
  std::set<StreamKey> open_streams_;
  Filter filter_;
  EventHook event_hook_;
  DeliveryHook delivery_hook_;
  std::vector<std::string> trace_;
  std::vector<std::string> notices_;
  std::uint64_t digest_ = 0xcbf29ce484222325ULL;
  std::vector<std::string> violations_;
  std::uint64_t datagrams_sent_ = 0;
  std::uint64_t bytes_sent_ = 0;
  std::uint64_t datagrams_delivered_ = 0;
  std::uint64_t dropped_paused_ = 0;
  std::uint64_t streams_sent_ = 0;
  std::uint64_t stream_bytes_ = 0;
};

}  // namespace ringd::sim
