// tests/sim/gossip_conflict_test.cc — two agents started with one name
// (gossip/node_conflict.cc): the first holder keeps it, the newcomer stays
// out, and nobody's view of the member flaps.
#include <gtest/gtest.h>

#include "gossip/codec.h"
#include "support/sim_cluster.h"

namespace ringd::sim {
namespace {

using gossip::MemberState;
namespace msg = gossip::msg;
namespace codec = gossip::codec;

bool any_notice(const Cluster& c, const std::string& who, const std::string& text) {
  for (const auto& line : c.notices()) {
    if (line.find(" " + who + ": ") != std::string::npos && line.find(text) != std::string::npos) return true;
  }
  return false;
}

// Events about the member named `name` since trace index `from`, as members
// other than `except` (by its simulator name) saw them.
std::vector<std::string> events_about(const Cluster& c, const std::string& name, std::size_t from,
                                      const std::string& except = "") {
  std::vector<std::string> out;
  for (std::size_t k = from; k < c.trace().size(); ++k) {
    const std::string& line = c.trace()[k];
    if (!except.empty() && line.find(" " + except + " sees ") != std::string::npos) continue;
    if (line.find("sees " + name + " ") != std::string::npos) out.push_back(line);
  }
  return out;
}

// Five members; then a sixth agent at its own address claims the name n2.
struct Impostor {
  Cluster c;
  std::size_t impostor = 0;
  std::size_t trace_mark = 0;
  explicit Impostor(std::uint64_t seed) : c(seed) {
    c.add_and_start(5);
    EXPECT_TRUE(c.run_until([&] { return c.converged(); }, sec(20)));
    trace_mark = c.trace().size();
    impostor = c.add_node([](gossip::Config& cfg) { cfg.name = "n2"; });
    c.start(impostor, {c.addr(0)});
  }
};

TEST(GossipConflict, TheFirstHolderKeepsItsNameAndTheNewcomerStaysOut) {
  Impostor s(sim_seed(1700));
  Cluster& c = s.c;
  c.run_for(sec(20));
  for (std::size_t o = 0; o < 5; ++o) {
    if (o == 2) continue;
    const auto v = c.view(o, 2);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->address, c.addr(2)) << "observer n" << o;
    EXPECT_EQ(v->state, MemberState::kAlive) << "observer n" << o;
  }
  // Not one event about n2 anywhere: no update, no suspicion, no flap.
  EXPECT_EQ(events_about(c, "n2", s.trace_mark, c.name(s.impostor)), std::vector<std::string>{});
  EXPECT_FALSE(c.node(s.impostor).joined());
  EXPECT_EQ(c.node(2).self().address, c.addr(2));
  // Loud on both sides.
  EXPECT_TRUE(any_notice(c, c.name(s.impostor), "name conflict: the name n2 is held by a live agent at " + c.addr(2)));
  EXPECT_TRUE(any_notice(c, "n2", "name conflict: an agent at " + c.addr(s.impostor) + " uses our name n2"));
  EXPECT_GT(c.counter(s.impostor, "name_conflicts"), 0u);
  // The newcomer keeps asking (every join retry) and keeps being told no.
  EXPECT_GE(c.counter(s.impostor, "address_checks"), 10u);
}

TEST(GossipConflict, TheNewcomerLeavingDoesNotTakeTheHolderOffTheRing) {
  Impostor s(sim_seed(1701));
  Cluster& c = s.c;
  c.run_for(sec(5));
  c.leave(s.impostor);
  EXPECT_TRUE(c.node(s.impostor).leave_done());
  c.run_for(sec(5));
  for (std::size_t o = 0; o < 5; ++o) {
    if (o != 2) {
      EXPECT_TRUE(c.sees(o, 2, MemberState::kAlive)) << "observer n" << o;
    }
  }
  EXPECT_EQ(events_about(c, "n2", s.trace_mark, c.name(s.impostor)), std::vector<std::string>{});
}

TEST(GossipConflict, TheNewcomerJoinsOnceTheHolderIsGone) {
  Impostor s(sim_seed(1702));
  Cluster& c = s.c;
  c.run_for(sec(3));
  ASSERT_FALSE(c.node(s.impostor).joined());
  c.crash(2);
  const std::string moved = c.addr(s.impostor);
  ASSERT_TRUE(c.run_until(
      [&] {
        if (!c.node(s.impostor).joined()) return false;
        for (std::size_t o = 0; o < 5; ++o) {
          if (o == 2) continue;
          const auto v = c.view(o, 2);
          if (!v || v->address != moved || v->state != MemberState::kAlive) return false;
        }
        return true;
      },
      sec(15)));
}

// A claim that the live n1 moved (as the other holder of a name would
// gossip it): third parties ask n1's address first, n1 answers, and the
// claim is refused instead of followed.
TEST(GossipConflict, ThirdPartiesAskTheOldAddressBeforeFollowingAClaim) {
  Cluster c(sim_seed(1703));
  c.add_and_start(4);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(20)));
  const std::size_t mark = c.trace().size();
  const std::string elsewhere = "10.9.9.9:7946";
  msg::Packet claim;
  claim.messages.push_back(msg::Alive{"n1", elsewhere, "", c.view(0, 1)->incarnation + 5, {}});
  c.inject(elsewhere, 0, codec::encode(claim));
  c.run_for(sec(5));
  for (std::size_t o : {0u, 2u, 3u}) EXPECT_EQ(c.view(o, 1)->address, c.addr(1)) << "observer n" << o;
  EXPECT_EQ(events_about(c, "n1", mark), std::vector<std::string>{});
  EXPECT_EQ(c.counter(0, "address_checks"), 1u);
  EXPECT_TRUE(any_notice(c, "n0", "name conflict: member n1 lives at " + c.addr(1) + ", but " + elsewhere +
                                      " also claims that name; keeping the first holder"));
  // The same claim again is refused without asking.
  c.inject(elsewhere, 0, codec::encode(claim));
  c.run_for(sec(1));
  EXPECT_EQ(c.counter(0, "address_checks"), 1u);
  EXPECT_EQ(c.view(0, 1)->address, c.addr(1));
}

// The same claim about a member that crashed: nothing answers at the old
// address, so the move applies (a restart on a new address).
TEST(GossipConflict, AClaimMovesAMemberThatNoLongerAnswers) {
  Cluster c(sim_seed(1704));
  c.add_and_start(4);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(20)));
  c.crash(1);
  const std::string elsewhere = "10.9.9.9:7946";
  msg::Packet claim;
  claim.messages.push_back(msg::Alive{"n1", elsewhere, "", c.view(0, 1)->incarnation + 1, {}});
  c.inject(elsewhere, 0, codec::encode(claim));
  ASSERT_TRUE(c.run_until([&] { return c.view(0, 1)->address == elsewhere; }, ms(500)));
  EXPECT_EQ(c.counter(0, "name_conflicts"), 0u);
}

}  // namespace
}  // namespace ringd::sim
