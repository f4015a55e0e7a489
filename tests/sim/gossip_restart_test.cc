// tests/sim/gossip_restart_test.cc — restarts and incarnation numbers.
#include <gtest/gtest.h>

#include "gossip/codec.h"
#include "support/sim_cluster.h"

namespace ringd::sim {
namespace {

using gossip::MemberState;
namespace msg = gossip::msg;
namespace codec = gossip::codec;

std::string packet_of(std::vector<msg::Message> ms) {
  msg::Packet p;
  p.messages = std::move(ms);
  return codec::encode(p);
}

TEST(GossipRestart, SameNameOnANewAddressTakesItsPlaceWithoutADeath) {
  Cluster c(sim_seed(600));
  c.add_and_start(8);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(20)));
  const std::uint64_t old_inc = c.view(0, 4)->incarnation;
  const std::size_t before = c.trace().size();
  c.crash(4);
  c.restart_moved(4, {c.addr(0)});  // at once: nobody noticed the crash yet
  const std::string moved = c.addr(4);
  ASSERT_TRUE(c.run_until(
      [&] {
        for (std::size_t o = 0; o < c.size(); ++o) {
          const auto v = c.view(o, 4);
          if (o != 4 && (!v || v->address != moved || v->state != MemberState::kAlive)) {
            return false;
          }
        }
        return true;
      },
      sec(5)));
  for (std::size_t o = 0; o < c.size(); ++o) {
    if (o != 4) {
      EXPECT_GT(c.view(o, 4)->incarnation, old_inc);
    }
  }
  // Each observer saw the member come back at the new address once, and no
  // death. It comes as "updated", or as "alive" where a suspicion of the old
  // address got there first: an alive member's address moves only once a
  // ping to the old one went unanswered (gossip/node_conflict.cc).
  int updates = 0;
  for (std::size_t k = before; k < c.trace().size(); ++k) {
    const std::string& line = c.trace()[k];
    if (line.find("sees n4 ") == std::string::npos || line.find("n4 sees") != std::string::npos) {
      continue;
    }
    EXPECT_EQ(line.find(" dead "), std::string::npos) << line;
    const bool back = line.find(" updated ") != std::string::npos || line.find(" alive ") != std::string::npos;
    if (back && line.find(moved) != std::string::npos) ++updates;
  }
  EXPECT_EQ(updates, 7);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  EXPECT_TRUE(c.violations().empty());
}

TEST(GossipRestart, StaleIncarnationsAreIgnored) {
  Cluster c(sim_seed(601));
  c.add_and_start(5);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(20)));
  // n2 moves on to incarnation 7 with a new service.
  c.node(2).set_metadata(c.now(), "10.9.9.9:80", {});
  ASSERT_TRUE(c.run_until([&] { return c.view(1, 2)->service == "10.9.9.9:80"; }, sec(5)));
  const std::uint64_t inc = c.view(1, 2)->incarnation;
  // An old Alive (older incarnation, old service) and an old Suspect arrive.
  c.inject(c.addr(3), 1,
           packet_of({msg::Alive{c.name(2), c.addr(2), "", inc - 1},
                      msg::Suspect{c.name(2), inc - 1, c.name(3)}}));
  EXPECT_EQ(c.view(1, 2)->service, "10.9.9.9:80");
  EXPECT_EQ(c.view(1, 2)->state, MemberState::kAlive);
  EXPECT_EQ(c.view(1, 2)->incarnation, inc);
}

TEST(GossipRestart, ImplausibleIncarnationJumpsAreRefusedAndCounted) {
  Cluster c(sim_seed(602));
  c.add_and_start(5);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(20)));
  const std::uint64_t huge = (std::uint64_t{1} << 32) + 10;
  c.inject(c.addr(3), 1,
           packet_of({msg::Alive{c.name(2), "6.6.6.6:1", "", huge},
                      msg::Dead{c.name(4), huge, c.name(3), false},
                      msg::Suspect{c.name(1), huge, c.name(3)}}));  // about n1 itself
  EXPECT_EQ(c.counter(1, "incarnation_jumps_refused"), 3u);
  EXPECT_EQ(c.view(1, 2)->address, c.addr(2));
  EXPECT_TRUE(c.sees(1, 4, MemberState::kAlive));
  EXPECT_LT(c.node(1).self().incarnation, 100u);  // did not refute up to 2^32
  // Within the bound is fine: a restart with the wall clock as incarnation.
  c.crash(2);
  c.restart(2, {c.addr(0)}, [](gossip::Config& cfg) { cfg.incarnation = 1700000000; });
  ASSERT_TRUE(c.run_until([&] { return c.view(1, 2)->incarnation >= 1700000000; }, sec(5)));
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
}

}  // namespace
}  // namespace ringd::sim
