// tests/sim/gossip_heal_test.cc — partitions heal by themselves.
#include <gtest/gtest.h>

#include <iostream>

#include "support/sim_cluster.h"

namespace ringd::sim {
namespace {

using gossip::MemberState;

bool half_sees_other_dead(const Cluster& c, std::size_t from, std::size_t to) {
  for (std::size_t o = from; o < from + 5; ++o) {
    for (std::size_t m = to; m < to + 5; ++m) {
      const auto v = c.view(o, m);
      if (v && (v->state == MemberState::kAlive || v->state == MemberState::kSuspect)) return false;
    }
  }
  return true;
}

struct HealRun {
  bool split = false;
  bool merged = false;
  Duration took{};
  std::uint64_t heal_syncs = 0;
};

// heal_dead_interval zero: only the heal_interval round (seeds and up to 3
// dead members every 30 s).
HealRun split_and_heal(std::uint64_t seed, Duration heal_interval, Duration wait,
                       Duration heal_dead_interval = sec(2)) {
  SimOptions o;
  o.base.heal_interval = heal_interval;
  o.base.heal_dead_interval = heal_dead_interval;
  Cluster c(seed, o);
  c.add_and_start(10);
  HealRun r;
  EXPECT_TRUE(c.run_until([&] { return c.converged(); }, sec(20)));
  c.partition({{0, 1, 2, 3, 4}, {5, 6, 7, 8, 9}});
  r.split = c.run_until(
      [&] { return half_sees_other_dead(c, 0, 5) && half_sees_other_dead(c, 5, 0); }, sec(30));
  c.heal_partitions();
  const Time t0 = c.now();
  r.merged = c.run_until_polled([&] { return c.converged(); }, wait, ms(100));
  r.took = c.now() - t0;
  for (std::size_t i = 0; i < c.size(); ++i) r.heal_syncs += c.counter(i, "heal_syncs");
  return r;
}

TEST(GossipHeal, FiveFiveSplitMergesAfterTheNetworkHeals) {
  for (std::uint64_t seed : {400u, 401u, 402u}) {
    const HealRun r = split_and_heal(sim_seed(seed), sec(30), sec(60), Duration::zero());
    EXPECT_TRUE(r.split) << "seed " << seed;
    EXPECT_TRUE(r.merged) << "seed " << seed;
    // Within one heal period (at most 1.5 intervals after the last one) plus
    // a few seconds of gossip.
    EXPECT_LT(r.took, sec(50)) << "seed " << seed;
    EXPECT_GT(r.heal_syncs, 0u);
    std::cout << "[heal] seed " << seed << " merged after "
              << std::chrono::duration_cast<std::chrono::milliseconds>(r.took).count() << " ms\n";
  }
}

TEST(GossipHeal, RetryingRecentlyDeadMembersMergesWithinTenSeconds) {
  // Issue 13's target: one view within 10 s of the cut lifting, unaided. The
  // 30 s round alone leaves tails past 10 s (tests/net saw 11.5 s).
  for (std::uint64_t seed = 410; seed < 420; ++seed) {
    const HealRun r = split_and_heal(sim_seed(seed), sec(30), sec(60));
    EXPECT_TRUE(r.split) << "seed " << seed;
    EXPECT_TRUE(r.merged) << "seed " << seed;
    EXPECT_LT(r.took, sec(10)) << "seed " << seed;
    std::cout << "[heal] fast retry, seed " << seed << " merged after "
              << std::chrono::duration_cast<std::chrono::milliseconds>(r.took).count() << " ms\n";
  }
}

TEST(GossipHeal, ACrashedMemberCostsTheClusterAboutOneSyncPerSecond) {
  // heal_dead_rate 2 per 2 s interval, shared by the live members: the
  // cluster as a whole, not each member, retries the dead address.
  for (std::size_t n : {10u, 40u}) {
    Cluster c(sim_seed(430), SimOptions{});
    c.add_and_start(n);
    ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(30)));
    c.crash(n - 1);
    ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(30)));
    std::uint64_t before = 0;
    for (std::size_t i = 0; i + 1 < n; ++i) before += c.counter(i, "heal_syncs");
    c.run_for(sec(120));
    std::uint64_t after = 0;
    for (std::size_t i = 0; i + 1 < n; ++i) after += c.counter(i, "heal_syncs");
    const auto syncs = after - before;
    std::cout << "[heal] n=" << n << ": " << syncs << " heal syncs to the crashed member in 120 s\n";
    // Expected 120 (60 intervals x 2), whatever n (the 30 s round keeps to
    // the seeds; the simulated members have none).
    EXPECT_GT(syncs, 60u);
    EXPECT_LT(syncs, 200u);
  }
}

TEST(GossipHeal, WithoutHealingTheHalvesStayApart) {
  // The control: dead members are neither probed nor gossiped to, and the
  // periodic push-pull only picks live members.
  const HealRun r = split_and_heal(sim_seed(400), Duration::zero(), sec(50), Duration::zero());
  EXPECT_TRUE(r.split);
  EXPECT_FALSE(r.merged);
  EXPECT_EQ(r.heal_syncs, 0u);
}

}  // namespace
}  // namespace ringd::sim
