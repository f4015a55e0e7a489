// tests/sim/support/sim_network.h — the simulated network between members.
//
// Members are numbered 0..n-1 (the Cluster maps addresses to numbers). The
// model, per one-way link:
//   * LinkParams: loss and duplication probabilities, and a delay drawn
//     uniformly from [delay_min, delay_max] for every datagram on its own, so
//     a jitter wider than the gap between two sends reorders them;
//   * cuts: a one-way cut drops everything from -> to (blackhole, no error);
//   * partitions: members in different groups cannot reach each other; all
//     members start in group 0, and heal_partitions() puts them back;
//   * a global extra loss on top of every link's own.
// Streams (TCP) see the same links: a lost segment costs a retransmission
// timeout (rto, doubling) instead of being lost, so a stream leg under loss is
// slower, and one that would take longer than the caller's timeout is
// reported as not arriving.
//
// Every random draw comes from the one PRNG passed in, in call order, so the
// same sequence of calls gives the same fates.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "support/sim_loop.h"

namespace ringd::sim {

struct LinkParams {
  double loss = 0.0;       // probability a datagram is lost
  double duplicate = 0.0;  // probability a datagram is delivered twice
  Duration delay_min = std::chrono::milliseconds(1);
  Duration delay_max = std::chrono::milliseconds(5);
};

class Network {
 public:
  Network(std::mt19937_64& rng, LinkParams defaults) : rng_(rng), defaults_(defaults) {}

  // Grows the network to n members (new ones in group 0, uncut).
  void resize(std::size_t n) { group_.resize(n, 0); }
  std::size_t size() const { return group_.size(); }

  void set_defaults(LinkParams p) { defaults_ = p; }
  const LinkParams& defaults() const { return defaults_; }
  void set_link(std::size_t from, std::size_t to, LinkParams p) { links_[{from, to}] = p; }
  void clear_link(std::size_t from, std::size_t to) { links_.erase({from, to}); }
  const LinkParams& link(std::size_t from, std::size_t to) const;
  void set_extra_loss(double p) { extra_loss_ = p; }
  double extra_loss() const { return extra_loss_; }

  void cut(std::size_t from, std::size_t to) { cuts_.insert({from, to}); }
  void uncut(std::size_t from, std::size_t to) { cuts_.erase({from, to}); }
  bool is_cut(std::size_t from, std::size_t to) const { return cuts_.count({from, to}) != 0; }
  bool any_cut_touching(std::size_t i) const;
  // Members listed in groups[k] move to group k+1; the rest stay where they are.
  void partition(const std::vector<std::vector<std::size_t>>& groups);
  void heal_partitions();
  int group(std::size_t i) const { return group_.at(i); }

  // Datagrams and streams from `from` can get to `to` (no cut, same group).
  bool connected(std::size_t from, std::size_t to) const {
    return group_[from] == group_[to] && !is_cut(from, to);
  }
  bool connected_both(std::size_t a, std::size_t b) const {
    return connected(a, b) && connected(b, a);
  }

  // The fate of one datagram: the delays of each copy that arrives (empty:
  // lost). Does not look at cuts; the caller checks connected() at send time.
  std::vector<Duration> datagram_fate(std::size_t from, std::size_t to);
  // How long one stream leg (request or reply) takes, counting a
  // retransmission timeout per lost segment; nullopt when it would exceed
  // `limit`.
  std::optional<Duration> stream_leg(std::size_t from, std::size_t to, Duration limit,
                                     Duration rto);
  Duration draw_delay(const LinkParams& p);

 private:
  double coin() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }

  std::mt19937_64& rng_;
  LinkParams defaults_;
  double extra_loss_ = 0.0;
  std::map<std::pair<std::size_t, std::size_t>, LinkParams> links_;
  std::set<std::pair<std::size_t, std::size_t>> cuts_;
  std::vector<int> group_;
};

}  // namespace ringd::sim
