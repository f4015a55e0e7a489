// tests/sim/sim_chaos_test.cc — seeded chaos: random clusters (10..30
// members) under random fault schedules, invariants checked at every step,
// convergence of member set and ring checked once the faults stop.
//
//   default              seeds 1..kSweep, split over kChunks tests
//   RINGD_SIM_SEED=s     only seed s (replay a failure; the schedule is printed)
//   RINGD_SIM_CAMPAIGN=count [RINGD_SIM_CAMPAIGN_BASE=b]
//                        a long campaign: seeds b..b+count-1 (b defaults to 1000)
//   RINGD_SIM_SPLITS=1   add cuts, lossy links, isolation and partitions
//                        (RINGD_SIM_MAX_SPLIT_MS, default 30000) to the mix
//   RINGD_SIM_TRACE=text with a replay: print the event lines containing text
//   RINGD_SIM_VERBOSE=1  print every run, not only failing ones
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>

#include "support/sim_chaos.h"

namespace ringd::sim {
namespace {

constexpr std::uint64_t kSweep = 50;
constexpr std::uint64_t kChunks = 3;

std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? std::strtoull(v, nullptr, 10) : fallback;
}

// The seeds chunk `chunk` of kChunks runs.
std::vector<std::uint64_t> seeds_for(std::uint64_t chunk, std::uint64_t sweep) {
  std::vector<std::uint64_t> seeds;
  if (const std::uint64_t one = env_u64("RINGD_SIM_SEED", 0); one != 0) {
    if (chunk == 0) seeds.push_back(one);
    return seeds;
  }
  std::uint64_t base = 1;
  if (const std::uint64_t count = env_u64("RINGD_SIM_CAMPAIGN", 0); count != 0) {
    base = env_u64("RINGD_SIM_CAMPAIGN_BASE", 1000);
    sweep = count;
  }
  for (std::uint64_t s = base + chunk; s < base + sweep; s += kChunks) seeds.push_back(s);
  return seeds;
}

ChaosOptions options_from_env(bool splits) {
  ChaosOptions o;
  o.splits = splits || env_u64("RINGD_SIM_SPLITS", 0) != 0;
  if (const std::uint64_t split = env_u64("RINGD_SIM_MAX_SPLIT_MS", 0); split != 0) {
    o.max_split = ms(static_cast<std::int64_t>(split));
  }
  return o;
}

// Runs the seeds; reports every failing one with its schedule.
void sweep(const std::vector<std::uint64_t>& seeds, ChaosOptions options) {
  std::vector<std::uint64_t> failed;
  const char* grep = std::getenv("RINGD_SIM_TRACE");
  options.record_trace = grep != nullptr;
  for (std::uint64_t seed : seeds) {
    SCOPED_TRACE("chaos seed " + std::to_string(seed));
    const ChaosResult r = run_chaos(seed, options);
    for (const auto& line : r.trace) {
      if (line.find(grep) != std::string::npos) std::cout << line << "\n";
    }
    if (!r.ok()) {
      failed.push_back(seed);
      ADD_FAILURE() << r.describe();
    } else if (std::getenv("RINGD_SIM_VERBOSE") != nullptr) {
      std::cout << r.describe() << "\n";
    }
  }
  if (!failed.empty()) {
    std::cerr << "[sim] failing chaos seeds:";
    for (auto s : failed) std::cerr << ' ' << s;
    std::cerr << "  (replay one: RINGD_SIM_SEED=<seed>)\n";
  }
}

// Crashes, restarts (same or new address), graceful leaves and rejoins,
// pauses up to 30 s, loss bursts up to 10%, jitter and duplication.
class SimChaosSweep : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(SimChaosSweep, ConvergesWithoutViolations) {
  sweep(seeds_for(GetParam(), kSweep), options_from_env(false));
}

INSTANTIATE_TEST_SUITE_P(Seeds, SimChaosSweep, ::testing::Range<std::uint64_t>(0, kChunks));

// The same plus cuts, lossy links, isolation and partitions of up to 30 s.
// (Seeds 3, 8 and 11 used to fail here: a member cut off for longer than
// its hold bound declared healthy members dead and gossiped it after it
// reconnected; see expire_suspicions in gossip/node_timers.cc.)
TEST(SimChaos, SweepWithSplits) {
  for (std::uint64_t chunk = 0; chunk < kChunks; ++chunk) {
    sweep(seeds_for(chunk, 30), options_from_env(true));
  }
}

TEST(SimChaos, SameSeedSameRunDifferentSeedDifferentRun) {
  const std::uint64_t seed = sim_seed(4242);
  ChaosOptions o;
  o.min_n = o.max_n = 12;
  o.fault_phase = sec(30);
  o.splits = true;
  o.max_split = sec(3);
  o.record_trace = true;
  const ChaosResult a = run_chaos(seed, o);
  const ChaosResult b = run_chaos(seed, o);
  EXPECT_EQ(a.digest, b.digest);  // every event and every delivered byte
  EXPECT_EQ(a.trace, b.trace);
  EXPECT_EQ(a.schedule, b.schedule);
  EXPECT_EQ(a.steps, b.steps);
  EXPECT_GT(a.steps, 1000u);
  const ChaosResult other = run_chaos(seed + 1, o);
  EXPECT_NE(a.digest, other.digest);
  EXPECT_NE(a.schedule, other.schedule);
}

}  // namespace
}  // namespace ringd::sim
