// tests/sim/support/sim_cluster.h — many gossip::Nodes on a virtual clock and
// a simulated network, all in one process, fully deterministic per seed.
//
//   * Virtual time only: nothing sleeps or reads a clock. The loop repeatedly
//     takes the earliest of (a) the next scheduled network event and (b) the
//     earliest Node::next_deadline(); ties go to network events first, then
//     nodes by index. Network events fire in (deadline, sequence) order.
//   * Network: each datagram gets a latency in [min_latency, max_latency]
//     from the seeded PRNG. Per-link (one way) blocks, per-link and global
//     drop rates, and an arbitrary packet filter decide what is lost. Streams
//     (push-pull) are one request + one reply; a blocked or crashed peer
//     yields handle_stream_error after stream_timeout.
//   * run_until(pred, max) stops when pred() holds or `max` virtual time has
//     passed, so a broken simulation cannot spin forever; it also fails the
//     test if time stops advancing.
//   * Every membership event of every node goes into a trace (used by the
//     determinism test) and is checked: an event must change the state the
//     observer had (exactly one event per state change).
//   * On a failing test the destructor prints the seed; set RINGD_SIM_SEED to
//     replay a run with that seed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gossip/node.h"

namespace ringd::sim {

using gossip::Duration;
using gossip::Time;
inline Duration ms(std::int64_t n) { return std::chrono::milliseconds(n); }
inline Duration sec(std::int64_t n) { return std::chrono::seconds(n); }

// The seed to use: RINGD_SIM_SEED from the environment if set, else `fallback`.
std::uint64_t sim_seed(std::uint64_t fallback);

// Events at (time, sequence) order; the virtual clock.
class EventLoop {
 public:
  Time now() const { return now_; }
  void set_now(Time t) { now_ = t; }
  void schedule(Time at, std::function<void()> fn);
  bool empty() const { return queue_.empty(); }
  Time next_time() const { return queue_.empty() ? Time::max() : queue_.top().at; }
  // Pops the earliest event, advances the clock to it and runs it.
  void run_one();

 private:
  struct Item {
    Time at;
    std::uint64_t seq;
    std::function<void()> fn;
  };
  struct Later {
    bool operator()(const Item& a, const Item& b) const {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };
  Time now_{};
  std::uint64_t seq_ = 0;
  std::priority_queue<Item, std::vector<Item>, Later> queue_;
};

struct SimOptions {
  Duration min_latency = std::chrono::milliseconds(1);
  Duration max_latency = std::chrono::milliseconds(5);
  Duration stream_timeout = std::chrono::milliseconds(500);
  gossip::Config base;  // name/advertise are filled per node
};

class Cluster {
 public:
  explicit Cluster(std::uint64_t seed, SimOptions options = {});
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Adds (does not start) a node "n<i>" at "10.0.<i/256>.<i%256>:7946".
  std::size_t add_node(std::function<void(gossip::Config&)> tweak = {});
  void start(std::size_t i, std::vector<std::string> seeds);
  // Adds n nodes; node 0 starts alone, the others join through node 0.
  void add_and_start(std::size_t n);

  std::size_t size() const { return nodes_.size(); }
  gossip::Node& node(std::size_t i) { return *nodes_.at(i).node; }
  const std::string& name(std::size_t i) const { return nodes_.at(i).name; }
  const std::string& addr(std::size_t i) const { return nodes_.at(i).addr; }
  bool running(std::size_t i) const { return nodes_.at(i).running; }
  Time now() const { return loop_.now(); }
  std::uint64_t seed() const { return seed_; }

  // Stops driving node i at once (no leave); traffic to it is lost.
  void crash(std::size_t i);
  // A fresh Node with the same name and address, started with `seeds`.
  void restart(std::size_t i, std::vector<std::string> seeds,
               std::function<void(gossip::Config&)> tweak = {});
  // Graceful leave; keep running the cluster to let it spread.
  void leave(std::size_t i);

  // One-way link controls by node index.
  void block(std::size_t from, std::size_t to);
  void unblock(std::size_t from, std::size_t to);
  // Blocks / unblocks every link to and from node i.
  void isolate(std::size_t i);
  void heal(std::size_t i);
  void set_drop_rate(double p) { drop_rate_ = p; }
  void set_link_drop_rate(std::size_t from, std::size_t to, double p);
  // Datagrams for which filter(from_addr, to_addr, bytes) is true are lost;
  // the filter may also rewrite the bytes in flight.
  using Filter = std::function<bool(const std::string&, const std::string&, std::string&)>;
  void set_filter(Filter f) { filter_ = std::move(f); }
  // Delivers raw bytes to node `to` as a datagram from `from_addr`, now.
  void inject(const std::string& from_addr, std::size_t to, const std::string& bytes);

  // Runs until pred() or `max` virtual time passed. Returns pred().
  bool run_until(const std::function<bool()>& pred, Duration max);
  void run_for(Duration d);

  // Queries about observer o's view of member m (by index).
  std::optional<gossip::Member> view(std::size_t o, std::size_t m) const;
  bool sees(std::size_t o, std::size_t m, gossip::MemberState s) const;
  // Every running node sees every other running node alive, and is joined.
  bool converged() const;
  // Every running node other than m sees m in state s (unknown counts as no).
  bool all_see(std::size_t m, gossip::MemberState s) const;

  const std::vector<std::string>& trace() const { return trace_; }
  // Events that did not change the observer's view of a member.
  const std::vector<std::string>& violations() const { return violations_; }
  // Each node's event-derived view agrees with members() (state, address, service).
  bool events_match_members(std::string* why) const;
  std::uint64_t counter(std::size_t i, const std::string& name) const;
  std::uint64_t datagrams_sent() const { return datagrams_sent_; }

 private:
  struct SimNode {
    std::string name;
    std::string addr;
    std::unique_ptr<gossip::Node> node;
    bool running = false;
    std::uint64_t generation = 0;
    // Observer's view built from its events: member -> (state, address, service).
    std::map<std::string, gossip::Member> view;
  };

  gossip::Config config_for(std::size_t i, const std::function<void(gossip::Config&)>& tweak) const;
  void make_node(std::size_t i, const std::function<void(gossip::Config&)>& tweak);
  void drain(std::size_t i);
  void deliver_datagram(std::size_t from, gossip::Datagram d);
  void deliver_stream(std::size_t from, std::uint64_t generation, gossip::StreamRequest r);
  bool link_up(const std::string& from_addr, const std::string& to_addr) const;
  std::optional<std::size_t> index_of(const std::string& addr) const;
  Duration latency();
  // Advances to and runs the next thing due; false when nothing is scheduled.
  bool step(Time limit);

  std::uint64_t seed_;
  SimOptions options_;
  std::mt19937_64 rng_;
  EventLoop loop_;
  std::vector<SimNode> nodes_;
  std::map<std::string, std::size_t> by_addr_;
  std::set<std::pair<std::string, std::string>> blocked_;
  std::map<std::pair<std::string, std::string>, double> link_drop_;
  double drop_rate_ = 0.0;
  Filter filter_;
  std::vector<std::string> trace_;
  std::vector<std::string> violations_;
  std::uint64_t datagrams_sent_ = 0;
};

}  // namespace ringd::sim
