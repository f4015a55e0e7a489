// tests/sim/gossip_fallback_test.cc — the TCP fallback probe: UDP to a
// member is blocked, streams pass.
#include <gtest/gtest.h>

#include "support/sim_cluster.h"

namespace ringd::sim {
namespace {

using gossip::MemberState;

struct FallbackRun {
  bool n3_died = false;
  std::uint64_t udp_blocked = 0;
  std::vector<std::string> notices;  // from every member but n3
};

FallbackRun block_udp_to_n3(std::uint64_t seed, bool fallback, Duration how_long) {
  SimOptions o;
  o.base.tcp_fallback_probe = fallback;
  Cluster c(seed, o);
  c.add_and_start(8);
  FallbackRun r;
  EXPECT_TRUE(c.run_until([&] { return c.converged(); }, sec(20)));
  const std::size_t notices_before = c.notices().size();
  const std::string n3 = c.addr(3);
  c.set_filter([n3](const std::string&, const std::string& to, std::string&) { return to == n3; });
  r.n3_died = c.run_until(
      [&] {
        for (std::size_t o2 = 0; o2 < c.size(); ++o2) {
          if (o2 != 3 && c.sees(o2, 3, MemberState::kDead)) return true;
        }
        return false;
      },
      how_long);
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (i == 3) continue;
    r.udp_blocked += c.counter(i, "udp_blocked");
  }
  // The simulator collects notices as "<ms>ms <member>: <line>".
  for (std::size_t k = notices_before; k < c.notices().size(); ++k) {
    const std::string& line = c.notices()[k];
    if (line.find(" n3: ") != std::string::npos) continue;
    r.notices.push_back(line.substr(line.find(": ") + 2));
  }
  return r;
}

TEST(GossipFallback, MemberReachableOnlyOverTcpStaysAliveWithOneNoticePerProber) {
  const FallbackRun r = block_udp_to_n3(sim_seed(500), true, sec(30));
  EXPECT_FALSE(r.n3_died);
  EXPECT_GT(r.udp_blocked, 7u);  // every prober, repeatedly
  // One notice per prober in 30 s (the interval is 5 minutes), each naming n3.
  EXPECT_GE(r.notices.size(), 1u);
  EXPECT_LE(r.notices.size(), 7u);
  for (const auto& line : r.notices) {
    EXPECT_EQ(line, "UDP to n3 (10.0.0.3:7946) looks blocked; TCP probe succeeded");
  }
}

TEST(GossipFallback, WithoutTheFallbackTheMemberIsDeclaredDead) {
  const FallbackRun r = block_udp_to_n3(sim_seed(500), false, sec(30));
  EXPECT_TRUE(r.n3_died);
  EXPECT_EQ(r.udp_blocked, 0u);
  EXPECT_TRUE(r.notices.empty());
}

TEST(GossipFallback, CrashedMemberStillDiesFast) {
  // The TCP ping to a crashed member fails (connection refused): no delay.
  Cluster c(sim_seed(501));
  c.add_and_start(10);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(20)));
  const Time t0 = c.now();
  c.crash(2);
  ASSERT_TRUE(c.run_until([&] { return c.all_see(2, MemberState::kDead); }, sec(10)));
  EXPECT_LT(c.now() - t0, ms(2500));
  std::uint64_t tcp = 0;
  for (std::size_t i = 0; i < c.size(); ++i) tcp += i == 2 ? 0 : c.counter(i, "tcp_pings_sent");
  EXPECT_GT(tcp, 0u);
}

}  // namespace
}  // namespace ringd::sim
