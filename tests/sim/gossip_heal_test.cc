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

HealRun split_and_heal(std::uint64_t seed, Duration heal_interval, Duration wait) {
  SimOptions o;
  o.base.heal_interval = heal_interval;
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
    const HealRun r = split_and_heal(sim_seed(seed), sec(30), sec(60));
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

TEST(GossipHeal, WithoutHealingTheHalvesStayApart) {
  // The control: dead members are neither probed nor gossiped to, and the
  // periodic push-pull only picks live members.
  const HealRun r = split_and_heal(sim_seed(400), Duration::zero(), sec(50));
  EXPECT_TRUE(r.split);
  EXPECT_FALSE(r.merged);
  EXPECT_EQ(r.heal_syncs, 0u);
}

}  // namespace
}  // namespace ringd::sim
