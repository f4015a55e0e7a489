// bench/gossip_sim_common.h — what the simulated membership benchmarks
// (gossip_sim_bench.cc, gossip_calm_run.cc) share: the simulator options,
// members' views kept from the event stream, and formatting helpers.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iomanip>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <functional>
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

// What the other members learn about one crashed member, from the event
// stream: when the first suspected it, when the first had it dead, and who
// has it dead.
struct CrashWatch {
  std::optional<std::size_t> victim;
  std::set<std::size_t> knows_dead;
  std::optional<Time> first_suspect;
  std::optional<Time> first_dead;
  // Observer o's event about member m; true if m is the victim.
  bool on_event(const Cluster& c, std::size_t o, std::size_t m, const Event& e) {
    if (!victim || m != *victim) return false;
    if (e.kind == Event::Kind::kSuspect && !first_suspect) first_suspect = c.now();
    if (e.kind == Event::Kind::kDead) {
      if (!first_dead) first_dead = c.now();
      knows_dead.insert(o);
    }
    return true;
  }
};

// Traffic over `idle` of virtual time, per member per second (the cluster
// runs for `idle`): datagrams, their bytes, stream bytes, and the mean bytes
// of one stream exchange.
struct Traffic {
  double datagrams_per_member_s = 0;
  double bytes_per_member_s = 0;
  double stream_bytes_per_member_s = 0;
  double bytes_per_stream = 0;
};
inline Traffic measure_traffic(Cluster& c, std::size_t members, Duration idle) {
  const std::uint64_t d0 = c.datagrams_sent();
  const std::uint64_t b0 = c.bytes_sent();
  const std::uint64_t s0 = c.stream_bytes();
  const std::uint64_t k0 = c.streams_sent();
  c.run_for(idle);
  const double member_s = static_cast<double>(members) * seconds(idle);
  Traffic t;
  t.datagrams_per_member_s = static_cast<double>(c.datagrams_sent() - d0) / member_s;
  t.bytes_per_member_s = static_cast<double>(c.bytes_sent() - b0) / member_s;
  t.stream_bytes_per_member_s = static_cast<double>(c.stream_bytes() - s0) / member_s;
  const std::uint64_t streams = c.streams_sent() - k0;
  t.bytes_per_stream = streams == 0 ? 0 : static_cast<double>(c.stream_bytes() - s0) / static_cast<double>(streams);
  return t;
}

// Runs the jobs on `threads` threads (each job owns its Cluster; nothing is
// shared between them).
inline void run_parallel(const std::vector<std::function<void()>>& jobs, unsigned threads) {
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t k = next++; k < jobs.size(); k = next++) jobs[k]();
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
}

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
