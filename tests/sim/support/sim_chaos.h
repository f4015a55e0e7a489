// tests/sim/support/sim_chaos.h — seeded chaos runs: a random cluster, a
// random schedule of faults, invariants checked at every step, and a
// convergence check once the faults stop (in the spirit of memberlist's
// simulation "vopr").
//
// One seed decides everything: the cluster size, the fault schedule, and (via
// the Cluster) every network draw, so a failing seed replays exactly:
//   RINGD_SIM_SEED=<seed> ./sim_chaos_test
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "support/sim_cluster.h"

namespace ringd::sim {

struct ChaosOptions {
  std::size_t min_n = 10;
  std::size_t max_n = 30;
  Duration fault_phase = std::chrono::seconds(60);  // faults start and end inside it
  Duration settle = std::chrono::seconds(120);      // max wait for convergence afterwards
  int min_faults = 3;
  int max_faults = 10;
  // Longest isolation / partition / pause. Beyond the failure detector's
  // timeout both sides declare each other dead; merging again then relies on
  // the members retrying dead peers and seeds.
  Duration max_split = std::chrono::seconds(30);
  double max_loss = 0.10;  // global loss bursts up to this (not a fault)
  // Which faults the schedule draws from. "splits": one-way cuts, lossy
  // links, isolation and partitions (each up to max_split).
  bool splits = true;
  bool pauses = true;
  Duration max_pause = std::chrono::seconds(30);
  bool crashes = true;
  bool restarts = true;
  bool leaves = true;
  Duration grace = std::chrono::seconds(20);  // CheckOptions::grace
  bool record_trace = false;  // keep the event trace in the result (for replays)
};

struct ChaosResult {
  std::uint64_t seed = 0;
  std::size_t n = 0;
  std::vector<std::string> schedule;  // "t=12.3s crash n4", in order
  bool converged = false;
  std::string why;         // when not converged: what still differs
  Duration settle_took{};  // from the end of the faults to convergence
  std::vector<std::string> violations;  // checker + event-consistency
  std::uint64_t digest = 0;
  std::uint64_t steps = 0;
  std::vector<std::string> trace;  // with ChaosOptions::record_trace
  bool ok() const { return converged && violations.empty(); }
  std::string describe() const;  // seed, n, schedule, outcome
};

// Runs one chaos scenario. Invariant violations are collected, not reported
// through report_failure: the caller decides (and prints describe()).
ChaosResult run_chaos(std::uint64_t seed, const ChaosOptions& options = {});

}  // namespace ringd::sim
