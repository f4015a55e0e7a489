// tests/sim/gossip_metadata_test.cc — member tags and service changes.
#include <gtest/gtest.h>

#include "support/sim_cluster.h"

namespace ringd::sim {
namespace {

using gossip::MemberState;
using gossip::Tags;

TEST(GossipMetadata, TagsFromTheStartAreSeenByEveryone) {
  Cluster c(sim_seed(700));
  for (int i = 0; i < 6; ++i) {
    c.add_node([i](gossip::Config& cfg) {
      cfg.tags = {{"zone", i % 2 == 0 ? "a" : "b"}, {"weight", "1"}};
    });
  }
  c.start(0, {});
  for (std::size_t i = 1; i < 6; ++i) c.start(i, {c.addr(0)});
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(20)));
  for (std::size_t o = 0; o < 6; ++o) {
    for (std::size_t m = 0; m < 6; ++m) {
      const Tags want = {{"zone", m % 2 == 0 ? "a" : "b"}, {"weight", "1"}};
      EXPECT_EQ(c.view(o, m)->tags, want) << c.name(o) << " about " << c.name(m);
    }
  }
}

TEST(GossipMetadata, SetMetadataIsAnUpdateSeenEverywhere) {
  Cluster c(sim_seed(701));
  c.add_and_start(10);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(20)));
  std::vector<int> updates(c.size(), 0);
  c.set_event_hook([&](std::size_t o, const gossip::Event& e) {
    if (e.kind == gossip::Event::Kind::kUpdated && e.member.name == "n2") ++updates[o];
  });
  const std::uint64_t inc = c.node(2).self().incarnation;
  const Tags tags = {{"zone", "eu-1"}, {"canary", "yes"}};
  ASSERT_TRUE(c.node(2).set_metadata(c.now(), "10.2.0.2:9000", tags));
  EXPECT_EQ(c.node(2).self().incarnation, inc + 1);
  ASSERT_TRUE(c.run_until(
      [&] {
        for (std::size_t o = 0; o < c.size(); ++o) {
          const auto v = c.view(o, 2);
          if (!v || v->tags != tags || v->service != "10.2.0.2:9000") return false;
        }
        return true;
      },
      sec(3)));
  c.run_for(sec(2));
  for (std::size_t o = 0; o < c.size(); ++o) EXPECT_EQ(updates[o], 1) << c.name(o);
  // Setting the same metadata again changes nothing.
  ASSERT_TRUE(c.node(2).set_metadata(c.now(), "10.2.0.2:9000", tags));
  EXPECT_EQ(c.node(2).self().incarnation, inc + 1);
  EXPECT_TRUE(c.converged());
}

// A service's health (the agent's checks, or a drain) spreads like any
// other member change, and a joiner learns it from the full state.
TEST(GossipMetadata, ServiceStateIsAnUpdateSeenEverywhere) {
  Cluster c(sim_seed(702));
  c.add_and_start(8);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(20)));
  const std::uint64_t inc = c.node(3).self().incarnation;
  c.node(3).set_service_state(c.now(), gossip::ServiceState::kFailing);
  auto everyone_sees = [&](gossip::ServiceState want) {
    for (std::size_t o = 0; o < c.size(); ++o) {
      if (c.view(o, 3)->service_state != want) return false;
    }
    return true;
  };
  ASSERT_TRUE(c.run_until([&] { return everyone_sees(gossip::ServiceState::kFailing); }, sec(2)));
  EXPECT_EQ(c.node(3).self().incarnation, inc + 1);
  c.node(3).set_service_state(c.now(), gossip::ServiceState::kFailing);  // unchanged: nothing to say
  EXPECT_EQ(c.node(3).self().incarnation, inc + 1);
  c.start(c.add_node(), {c.addr(0)});
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  EXPECT_EQ(c.view(8, 3)->service_state, gossip::ServiceState::kFailing);
  c.node(3).set_service_state(c.now(), gossip::ServiceState::kPassing);
  ASSERT_TRUE(c.run_until([&] { return everyone_sees(gossip::ServiceState::kPassing); }, sec(2)));
  EXPECT_TRUE(c.violations().empty());
}

TEST(GossipMetadata, OversizedMetadataIsRefused) {
  Cluster c(sim_seed(702));
  c.add_and_start(3);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(20)));
  Tags big;
  for (char k = 'a'; k <= 'j'; ++k) big[std::string(1, k)] = std::string(60, 'x');
  const std::uint64_t inc = c.node(1).self().incarnation;
  EXPECT_FALSE(c.node(1).set_metadata(c.now(), "", big));
  EXPECT_EQ(c.node(1).self().incarnation, inc);
  EXPECT_TRUE(c.node(1).self().tags.empty());
}

TEST(GossipMetadata, MemberThatMissedTheUpdateCatchesUpByDigest) {
  // Tags are part of the live-view digest, so a member whose view of them is
  // stale syncs even though names and states agree.
  SimOptions o;
  o.base.push_pull_interval = std::chrono::hours(1);
  Cluster c(sim_seed(703), o);
  c.add_and_start(6);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(20)));
  c.isolate(5);
  ASSERT_TRUE(c.node(1).set_metadata(c.now(), "", {{"k", "v"}}));
  c.run_for(ms(600));  // gossip spreads and dies out while n5 hears nothing
  c.heal(5);
  ASSERT_TRUE(c.run_until([&] { return c.view(5, 1)->tags == Tags{{"k", "v"}}; }, sec(20)));
}

}  // namespace
}  // namespace ringd::sim
