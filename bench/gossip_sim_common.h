// bench/gossip_sim_common.h — what the simulated membership benchmarks
// (gossip_sim_bench.cc, gossip_calm_run.cc) share: the simulator options,
// members' views kept from the event stream, and formatting helpers.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include "support/sim_cluster.h"

namespace ringd::simbench {

using ringd::gossip::Event;
using ringd::gossip::MemberState;
using ringd::sim::Cluster;
using ringd::sim::Duration;
using ringd::sim::ms;
using ringd::sim::sec;
using ringd::sim::SimOptions;
using ringd::sim::Time;

using WallClock = std::chrono::steady_clock;

inline double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }
inline double wall_since(WallClock::time_point t) {
  return std::chrono::duration<double>(WallClock::now() - t).count();
}

template <class T>
T median(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

inline std::string fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

// What every member thinks of every other, kept from the event stream (the
// members() snapshots would cost O(n^2) per look at N = 1000).
class Views {
 public:
  explicit Views(std::size_t n) : n_(n), state_(n * n, kUnknown) {}

  void on_event(const Cluster& c, std::size_t o, const Event& e) {
    const auto m = c.index_of_name(e.member.name);
    if (!m || o >= n_ || *m >= n_) return;
    std::uint8_t& s = state_[o * n_ + *m];
    if (s == static_cast<std::uint8_t>(MemberState::kAlive)) --alive_pairs_;
    s = static_cast<std::uint8_t>(e.member.state);
    if (s == static_cast<std::uint8_t>(MemberState::kAlive)) ++alive_pairs_;
  }
  void forget(std::size_t o) {  // member o restarts: its view is new
    for (std::size_t m = 0; m < n_; ++m) {
      std::uint8_t& s = state_[o * n_ + m];
      if (s == static_cast<std::uint8_t>(MemberState::kAlive)) --alive_pairs_;
      s = kUnknown;
    }
  }
  bool alive(std::size_t o, std::size_t m) const {
    return state_[o * n_ + m] == static_cast<std::uint8_t>(MemberState::kAlive);
  }
  // Every one of the first k members sees the first k alive.
  std::size_t alive_pairs() const { return alive_pairs_; }
  bool all_alive(std::size_t k) const {
    if (alive_pairs_ < k * k) return false;
    for (std::size_t o = 0; o < k; ++o) {
      for (std::size_t m = 0; m < k; ++m) {
        if (state_[o * n_ + m] != static_cast<std::uint8_t>(MemberState::kAlive)) return false;
      }
    }
    return true;
  }

 private:
  static constexpr std::uint8_t kUnknown = 255;
  std::size_t n_;
  std::vector<std::uint8_t> state_;
  std::size_t alive_pairs_ = 0;
};

inline SimOptions bench_options() {
  SimOptions o;  // o.base is gossip::Config{}: the default ("lan") profile
  o.record_trace = false;
  o.track_views = false;
  o.checks.incarnations = false;
  o.checks.scan_views = false;
  o.checks.fail_on_violation = false;
  return o;
}

}  // namespace ringd::simbench
