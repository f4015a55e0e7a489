// tests/sim/gossip_operator_test.cc — an operator's requests to a running
// node: join more addresses, force a failed member out.
#include <gtest/gtest.h>

#include "support/sim_cluster.h"

namespace ringd::sim {
namespace {

using gossip::MemberState;
using gossip::Node;

// Whether observers 0..n-1 all see member m in `state`.
bool seen_as(const Cluster& c, std::size_t n, std::size_t m, MemberState state) {
  for (std::size_t o = 0; o < n; ++o) {
    if (c.view(o, m)->state != state) return false;
  }
  return true;
}

TEST(GossipOperator, JoinMergesTwoRunningClusters) {
  Cluster c(sim_seed(700));
  for (int i = 0; i < 6; ++i) c.add_node();
  c.start(0, {});
  c.start(1, {c.addr(0)});
  c.start(2, {c.addr(0)});
  c.start(3, {});
  c.start(4, {c.addr(3)});
  c.start(5, {c.addr(3)});
  ASSERT_TRUE(c.run_until([&] { return c.view(2, 1) && c.view(5, 4); }, sec(10)));
  c.run_for(sec(5));
  EXPECT_FALSE(c.view(0, 3)) << "the two clusters met without being asked";
  std::size_t asked = 0;
  c.act(1, [&](Node& n, Time now) { asked = n.join(now, {c.addr(4), c.addr(4), c.addr(1), ""}); });
  EXPECT_EQ(asked, 1u);  // the duplicate, ourselves and "" are skipped
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  for (std::size_t o = 0; o < c.size(); ++o) {
    for (std::size_t m = 0; m < c.size(); ++m) EXPECT_EQ(c.view(o, m)->state, MemberState::kAlive);
  }
}

TEST(GossipOperator, ForceLeaveTurnsAFailedMemberIntoLeftEverywhere) {
  Cluster c(sim_seed(701));
  c.add_and_start(5);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(20)));
  Node::ForceLeave alive = Node::ForceLeave::kDone;
  c.act(0, [&](Node& n, Time now) { alive = n.force_leave(now, c.name(4)); });
  EXPECT_EQ(alive, Node::ForceLeave::kNotFailed);
  c.act(0, [&](Node& n, Time now) { EXPECT_EQ(n.force_leave(now, "nobody"), Node::ForceLeave::kUnknown); });
  c.act(0, [&](Node& n, Time now) { EXPECT_EQ(n.force_leave(now, c.name(0)), Node::ForceLeave::kSelf); });
  EXPECT_EQ(c.view(1, 4)->state, MemberState::kAlive);  // refused: nothing changed

  c.crash(4);
  ASSERT_TRUE(c.run_until([&] { return seen_as(c, 4, 4, MemberState::kDead); }, sec(20)));
  Node::ForceLeave done = Node::ForceLeave::kUnknown;
  c.act(2, [&](Node& n, Time now) { done = n.force_leave(now, c.name(4)); });
  EXPECT_EQ(done, Node::ForceLeave::kDone);
  EXPECT_EQ(gossip::to_string(done), "left");
  ASSERT_TRUE(c.run_until([&] { return seen_as(c, 4, 4, MemberState::kLeft); }, sec(5)));
  c.act(3, [&](Node& n, Time now) { EXPECT_EQ(n.force_leave(now, c.name(4)), Node::ForceLeave::kAlreadyLeft); });
}

TEST(GossipOperator, AForcedLeaveOfAMemberThatLivesIsRefuted) {
  Cluster c(sim_seed(702));
  c.add_and_start(4);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(20)));
  // Member 3 is cut off long enough to be declared dead, forced out while
  // still cut off, then comes back: it refutes and is alive everywhere.
  c.isolate(3);
  ASSERT_TRUE(c.run_until([&] { return c.view(0, 3)->state == MemberState::kDead; }, sec(20)));
  c.act(0, [&](Node& n, Time now) { EXPECT_EQ(n.force_leave(now, c.name(3)), Node::ForceLeave::kDone); });
  c.heal(3);
  c.act(3, [&](Node& n, Time now) { n.join(now, {c.addr(0)}); });
  ASSERT_TRUE(c.run_until([&] { return seen_as(c, 4, 3, MemberState::kAlive); }, sec(20)));
}

}  // namespace
}  // namespace ringd::sim
