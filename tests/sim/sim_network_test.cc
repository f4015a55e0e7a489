// tests/sim/sim_network_test.cc — the simulated network and member faults do
// what the scenarios rely on (loss, duplication, reordering, cuts,
// partitions, pause, streams, restart at a new address), and the invariant
// checker catches what it is meant to catch.
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <random>

#include "support/sim_cluster.h"

namespace ringd::sim {
namespace {

using gossip::MemberState;

// Counts datagrams delivered per directed link.
struct LinkCounter {
  std::map<std::pair<std::size_t, std::size_t>, std::uint64_t> delivered;
  void attach(Cluster& c) {
    c.set_delivery_hook([this](std::size_t from, std::size_t to, const std::string&) {
      ++delivered[{from, to}];
    });
  }
  std::uint64_t operator()(std::size_t from, std::size_t to) const {
    auto it = delivered.find({from, to});
    return it == delivered.end() ? 0 : it->second;
  }
};

TEST(SimNetwork, LossDropsAboutTheConfiguredShare) {
  Cluster c(sim_seed(101));
  c.add_and_start(8);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  c.set_drop_rate(0.3);
  const auto sent0 = c.datagrams_sent();
  const auto got0 = c.datagrams_delivered();
  c.run_for(sec(30));
  const double share = static_cast<double>(c.datagrams_delivered() - got0) /
                       static_cast<double>(c.datagrams_sent() - sent0);
  EXPECT_GT(share, 0.65);
  EXPECT_LT(share, 0.75);
}

TEST(SimNetwork, DuplicationDeliversExtraCopies) {
  SimOptions o;
  o.link.duplicate = 0.5;
  Cluster c(sim_seed(102), o);
  c.add_and_start(8);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  const auto sent0 = c.datagrams_sent();
  const auto got0 = c.datagrams_delivered();
  c.run_for(sec(30));
  const double ratio = static_cast<double>(c.datagrams_delivered() - got0) /
                       static_cast<double>(c.datagrams_sent() - sent0);
  EXPECT_GT(ratio, 1.4);
  EXPECT_LT(ratio, 1.6);
  EXPECT_TRUE(c.converged());  // duplicates are harmless
}

// Number of datagrams that arrived before one sent earlier on the same link.
std::uint64_t reorderings(Cluster& c, Duration run) {
  std::map<std::pair<std::size_t, std::size_t>, std::deque<std::string>> in_flight;
  std::uint64_t overtakes = 0;
  c.set_filter([&](const std::string& from, const std::string& to, std::string& bytes) {
    in_flight[{*c.index_of_addr(from), *c.index_of_addr(to)}].push_back(bytes);
    return false;
  });
  c.set_delivery_hook([&](std::size_t from, std::size_t to, const std::string& bytes) {
    auto& q = in_flight[{from, to}];
    for (auto it = q.begin(); it != q.end(); ++it) {
      if (*it != bytes) continue;
      if (it != q.begin()) ++overtakes;
      q.erase(it);
      break;
    }
  });
  c.run_for(run);
  c.set_filter({});
  c.set_delivery_hook({});
  return overtakes;
}

TEST(SimNetwork, JitterReordersDatagramsAndAFixedDelayDoesNot) {
  SimOptions fixed;
  fixed.link.delay_min = fixed.link.delay_max = ms(3);
  Cluster a(sim_seed(103), fixed);
  a.add_and_start(6);
  EXPECT_EQ(reorderings(a, sec(20)), 0u);

  // Datagrams on one link are rarely closer than ~100 ms (gossip rounds), so
  // it takes a jitter of that order to reorder them.
  SimOptions jitter;
  jitter.link.delay_min = ms(1);
  jitter.link.delay_max = ms(150);
  Cluster b(sim_seed(103), jitter);
  b.add_and_start(6);
  EXPECT_GT(reorderings(b, sec(20)), 0u);
}

TEST(SimNetwork, OneWayCutStopsOneDirectionOnly) {
  Cluster c(sim_seed(104));
  c.add_and_start(6);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  LinkCounter links;
  links.attach(c);
  c.block(1, 2);
  c.run_for(sec(20));
  EXPECT_EQ(links(1, 2), 0u);
  EXPECT_GT(links(2, 1), 0u);
  c.unblock(1, 2);
  c.run_for(sec(20));
  EXPECT_GT(links(1, 2), 0u);
  // Indirect probes carry n1 <-> n2 around the cut: nobody is dead.
  EXPECT_TRUE(c.converged());
}

TEST(SimNetwork, PartitionSeparatesGroupsUntilHealed) {
  Cluster c(sim_seed(105));
  c.add_and_start(8);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  LinkCounter links;
  links.attach(c);
  c.partition({{0, 1, 2}});
  EXPECT_TRUE(c.network().connected(0, 2));
  EXPECT_FALSE(c.network().connected(2, 3));
  EXPECT_TRUE(c.reaches_majority(4));
  EXPECT_FALSE(c.reaches_majority(1));
  c.run_for(sec(2));
  for (std::size_t a = 0; a < 3; ++a) {
    for (std::size_t b = 3; b < 8; ++b) {
      EXPECT_EQ(links(a, b) + links(b, a), 0u) << a << " <-> " << b;
    }
  }
  c.heal_partitions();
  EXPECT_TRUE(c.reaches_majority(1));
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(20)));
}

TEST(SimNetwork, PausedMemberRunsNoTimersAndFindsItsInputOnResume) {
  SimOptions o;
  o.pause_buffer = 4;
  Cluster c(sim_seed(106), o);
  c.add_and_start(6);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  const auto pings = c.counter(3, "pings_sent");
  const auto received = c.counter(3, "packets_received");
  c.pause(3);
  EXPECT_TRUE(c.paused(3));
  EXPECT_TRUE(c.running(3));
  c.run_for(sec(5));
  EXPECT_EQ(c.counter(3, "pings_sent"), pings);  // no timer fired
  EXPECT_EQ(c.counter(3, "packets_received"), received);
  EXPECT_GT(c.datagrams_dropped_paused(), 0u);  // the "socket buffer" overflowed
  c.resume(3);
  // The buffered datagrams (exactly pause_buffer) are handled at once.
  EXPECT_EQ(c.counter(3, "packets_received"), received + 4);
  c.run_for(ms(1));
  EXPECT_GT(c.counter(3, "pings_sent"), pings);  // the overdue probe runs
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(20)));
}

// Pauses each odd member in turn for `pause`; returns the checker's count of
// members declared dead while running (paused counts as running here).
std::uint64_t deaths_from_pauses(std::uint64_t seed, Duration pause) {
  SimOptions o;
  o.checks.false_deaths = true;
  o.checks.pauses_are_faults = false;  // the claim: such a stall is survived
  o.checks.grace = Duration::zero();
  Cluster c(seed, o);
  c.add_and_start(10);
  EXPECT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  for (std::size_t i = 1; i < 10; i += 2) {
    c.pause(i);
    c.run_for(pause);
    c.resume(i);
    c.run_for(sec(10));
  }
  EXPECT_TRUE(c.converged());
  return c.checker().false_deaths();
}

TEST(SimNetwork, StallOf300msIsNotADeath) {
  EXPECT_EQ(deaths_from_pauses(sim_seed(107), ms(300)), 0u);
}

// Part of issue 3's target (no false deaths with a member paused 1 to 10 s;
// the benchmark measures the longer pauses at N = 100).
TEST(SimNetwork, PauseOfOneSecondIsNotADeath) {
  EXPECT_EQ(deaths_from_pauses(sim_seed(107), sec(1)), 0u);
}

TEST(SimNetwork, CheckerCatchesADeathOfAPausedMemberWhenPausesAreNotFaults) {
  SimOptions o;
  o.checks.false_deaths = true;
  o.checks.pauses_are_faults = false;
  o.checks.grace = Duration::zero();
  o.checks.fail_on_violation = false;  // this test expects violations
  Cluster c(sim_seed(108), o);
  c.add_and_start(8);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  c.pause(5);
  ASSERT_TRUE(c.run_until([&] { return c.all_see(5, MemberState::kDead); }, sec(60)));
  EXPECT_GE(c.checker().false_deaths(), 7u);
  ASSERT_FALSE(c.checker().violations().empty());
  EXPECT_NE(c.checker().violations().front().find("declared n5"), std::string::npos);
  EXPECT_NE(c.checker().violations().front().find("(paused)"), std::string::npos);
  // With pauses counted as faults (the default), the same run is clean.
  SimOptions d;
  d.checks.false_deaths = true;
  Cluster c2(sim_seed(108), d);
  c2.add_and_start(8);
  ASSERT_TRUE(c2.run_until([&] { return c2.converged(); }, sec(10)));
  c2.pause(5);
  ASSERT_TRUE(c2.run_until([&] { return c2.all_see(5, MemberState::kDead); }, sec(60)));
  EXPECT_EQ(c2.checker().false_deaths(), 0u);
}

TEST(SimNetwork, CheckerCatchesAnIncarnationGoingDown) {
  SimOptions o;
  o.checks.fail_on_violation = false;
  Cluster c(sim_seed(109), o);
  c.add_and_start(3);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  EXPECT_TRUE(c.checker().violations().empty());
  gossip::Event e{gossip::Event::Kind::kAlive, *c.view(0, 2)};
  e.member.incarnation = 7;
  c.checker().on_event(c, 0, e);
  EXPECT_TRUE(c.checker().violations().empty());
  e.member.incarnation = 6;
  c.checker().on_event(c, 0, e);
  ASSERT_EQ(c.checker().violations().size(), 1u);
  EXPECT_NE(c.checker().violations()[0].find("n0 saw n2's incarnation go from 7 down to 6"),
            std::string::npos);
}

TEST(SimNetwork, StreamThroughACutFailsAtTheTimeout) {
  SimOptions o;
  o.stream_timeout = ms(500);
  Cluster c(sim_seed(110), o);
  c.add_node();
  c.add_node();
  c.start(0, {});
  c.block(0, 1);  // replies from the seed never come back
  c.start(1, {c.addr(0)});
  c.run_for(ms(499));
  EXPECT_EQ(c.counter(1, "stream_errors"), 0u);
  c.run_for(ms(2));
  EXPECT_EQ(c.counter(1, "stream_errors"), 1u);
  EXPECT_FALSE(c.node(1).joined());
  c.unblock(0, 1);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(3)));
}

TEST(SimNetwork, StreamToACrashedMemberIsRefusedAfterARoundTrip) {
  Cluster c(sim_seed(111));
  c.add_node();
  c.add_node();
  c.start(0, {});
  c.crash(0);
  c.start(1, {c.addr(0)});
  c.run_for(ms(20));  // two legs of at most 5 ms, not the 500 ms timeout
  EXPECT_EQ(c.counter(1, "stream_errors"), 1u);
}

TEST(SimNetwork, StreamsTakeTheLinkDelay) {
  Cluster c(sim_seed(112));
  c.add_node();
  c.add_node();
  c.set_link(0, 1, LinkParams{0.0, 0.0, ms(100), ms(100)});
  c.set_link(1, 0, LinkParams{0.0, 0.0, ms(100), ms(100)});
  c.start(0, {});
  const Time t0 = c.now();
  c.start(1, {c.addr(0)});
  ASSERT_TRUE(c.run_until([&] { return c.node(1).joined(); }, sec(2)));
  EXPECT_EQ(c.now() - t0, ms(200));  // request and reply, one leg each
}

TEST(SimNetwork, StreamLegUnderLossIsSlowerNotLostUnlessTooSlow) {
  std::mt19937_64 rng(sim_seed(113));
  Network net(rng, LinkParams{0.5, 0.0, ms(2), ms(2)});
  net.resize(2);
  int retransmitted = 0;
  for (int k = 0; k < 1000; ++k) {
    const auto leg = net.stream_leg(0, 1, sec(1000), ms(200));
    ASSERT_TRUE(leg.has_value());
    EXPECT_GE(*leg, ms(2));
    if (*leg >= ms(202)) ++retransmitted;
  }
  EXPECT_GT(retransmitted, 400);  // about half the first segments are lost
  EXPECT_LT(retransmitted, 600);
  int too_slow = 0;
  for (int k = 0; k < 1000; ++k) too_slow += net.stream_leg(0, 1, ms(300), ms(200)) ? 0 : 1;
  EXPECT_GT(too_slow, 150);  // lost twice: 2 + 200 + 400 ms > 300 ms (about a fourth)
  EXPECT_LT(too_slow, 350);
}

TEST(SimNetwork, RestartAtANewAddressTakesItsPlace) {
  Cluster c(sim_seed(114));
  c.add_and_start(8);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  const std::string old_addr = c.addr(3);
  c.crash(3);
  c.restart_moved(3, {c.addr(0)});
  EXPECT_NE(c.addr(3), old_addr);
  ASSERT_TRUE(c.run_until(
      [&] {
        if (!c.converged()) return false;
        for (std::size_t o = 0; o < c.size(); ++o) {
          if (o != 3 && c.view(o, 3)->address != c.addr(3)) return false;
        }
        return true;
      },
      sec(20)));
  std::string why;
  EXPECT_TRUE(Checker::converged(c, &why)) << why;
}

// A filter that drops datagrams (UDP) but not streams (TCP) between two
// members: the TCP fallback probe keeps them alive, and one notice says so.
TEST(SimNetwork, UdpBlockedButTcpWorksIsNoSuspicion) {
  Cluster c(sim_seed(116));
  c.add_and_start(6);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  const std::string a = c.addr(1);
  const std::string b = c.addr(2);
  c.set_filter([a, b](const std::string& from, const std::string& to, std::string&) {
    return (from == a && to == b) || (from == b && to == a);
  });
  // No relays either: only n1 and n2 exist as far as the probes go.
  for (std::size_t i : {0, 3, 4, 5}) c.crash(i);
  const std::size_t before = c.notices().size();
  c.run_for(sec(30));
  EXPECT_TRUE(c.sees(1, 2, MemberState::kAlive));
  EXPECT_TRUE(c.sees(2, 1, MemberState::kAlive));
  bool blocked_notice = false;
  for (std::size_t k = before; k < c.notices().size(); ++k) {
    blocked_notice = blocked_notice || c.notices()[k].find("UDP") != std::string::npos;
  }
  EXPECT_TRUE(blocked_notice);
}

TEST(SimNetwork, SameSeedSameBytesDifferentSeedDifferentBytes) {
  auto run = [](std::uint64_t seed) {
    SimOptions o;
    o.link.delay_max = ms(40);
    o.link.duplicate = 0.05;
    Cluster c(seed, o);
    c.add_and_start(10);
    c.set_drop_rate(0.05);
    c.run_for(sec(5));
    c.pause(4);
    c.block(2, 7);
    c.run_for(sec(3));
    c.resume(4);
    c.crash(6);
    c.run_for(sec(10));
    c.restart_moved(6, {c.addr(0)});
    c.run_for(sec(10));
    return std::make_pair(c.trace(), c.trace_digest());
  };
  const std::uint64_t seed = sim_seed(115);
  const auto a = run(seed);
  const auto b = run(seed);
  EXPECT_EQ(a.first, b.first);
  EXPECT_EQ(a.second, b.second);
  const auto other = run(seed + 1);
  EXPECT_NE(a.second, other.second);
}

}  // namespace
}  // namespace ringd::sim
