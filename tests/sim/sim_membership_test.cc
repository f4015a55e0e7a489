// tests/sim/sim_membership_test.cc — SWIM behaviour a user would notice, on a
// virtual clock: join, failure detection, refutation, leave, rejoin.
#include <gtest/gtest.h>

#include <algorithm>

#include "support/sim_cluster.h"

namespace ringd::sim {
namespace {

using gossip::MemberState;

void expect_consistent(const Cluster& c) {
  std::string why;
  EXPECT_TRUE(c.events_match_members(&why)) << why;
  EXPECT_TRUE(c.violations().empty()) << c.violations().front();
}

bool trace_has(const Cluster& c, const std::string& needle) {
  return std::any_of(c.trace().begin(), c.trace().end(),
                     [&](const std::string& l) { return l.find(needle) != std::string::npos; });
}

// Index of the first trace line containing needle, or trace size.
std::size_t trace_find(const Cluster& c, const std::string& needle, std::size_t from = 0) {
  for (std::size_t i = from; i < c.trace().size(); ++i) {
    if (c.trace()[i].find(needle) != std::string::npos) return i;
  }
  return c.trace().size();
}

TEST(SimMembership, AloneIsJoinedAtOnce) {
  Cluster c(sim_seed(1));
  c.add_and_start(1);
  EXPECT_TRUE(c.node(0).joined());
  ASSERT_EQ(c.node(0).members().size(), 1u);
  EXPECT_EQ(c.node(0).members()[0].state, MemberState::kAlive);
}

TEST(SimMembership, TenMembersJoinThroughOneSeed) {
  Cluster c(sim_seed(2));
  c.add_and_start(10);
  const Time t0 = c.now();
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  EXPECT_LT(c.now() - t0, sec(3));
  for (std::size_t i = 0; i < c.size(); ++i) EXPECT_EQ(c.node(i).members().size(), 10u);
  c.run_for(sec(20));  // stays converged with nothing going on
  EXPECT_TRUE(c.converged());
  EXPECT_FALSE(trace_has(c, " suspect ")) << "false suspicion in a healthy cluster";
  expect_consistent(c);
}

// State syncs in pages (push_pull_max_members far below the cluster's
// size): a joiner's first sync brings only a page, yet gossip and the next
// syncs bring everyone, with no false suspicion on the way (issue 15).
TEST(SimMembership, PagedStateSyncsStillConverge) {
  SimOptions o;
  o.base.push_pull_max_members = 8;
  o.base.push_pull_interval = sec(5);
  Cluster c(sim_seed(21), o);
  c.add_and_start(40);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(120)));
  for (std::size_t i = 0; i < c.size(); ++i) EXPECT_EQ(c.node(i).members().size(), 40u);
  std::uint64_t paged = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    for (const auto& [name, value] : c.node(i).counters()) paged += name == "push_pulls_paged" ? value : 0;
  }
  EXPECT_GT(paged, 0u);
  EXPECT_FALSE(trace_has(c, " suspect ")) << "false suspicion in a healthy cluster";
  expect_consistent(c);
}

// A settled cluster (every member started knowing all the others, as the
// N = 10,000 benchmark starts) is converged at once, holds the view a
// cluster that joined holds, stays quiet, and detects a crash.
TEST(SimMembership, SettledClusterIsConvergedAtOnceAndDetectsACrash) {
  Cluster c(sim_seed(31));
  for (int i = 0; i < 40; ++i) c.add_node();
  c.start_settled();
  EXPECT_TRUE(c.converged());
  Cluster joined(sim_seed(32));
  joined.add_and_start(40);
  ASSERT_TRUE(joined.run_until([&] { return joined.converged(); }, sec(20)));
  auto view_of = [](const Cluster& k, std::size_t i) {
    std::vector<std::tuple<std::string, std::string, MemberState, std::uint64_t>> v;
    for (const gossip::Member& m : k.node(i).members()) v.emplace_back(m.name, m.address, m.state, m.incarnation);
    return v;
  };
  for (std::size_t i = 0; i < c.size(); ++i) {
    ASSERT_EQ(view_of(c, i), view_of(joined, i)) << "member " << i;
  }
  c.run_for(sec(30));
  EXPECT_TRUE(c.converged());
  EXPECT_FALSE(trace_has(c, " suspect ")) << "false suspicion in a settled cluster";
  std::uint64_t refutes = 0;
  for (std::size_t i = 0; i < c.size(); ++i) refutes += c.counter(i, "refutations");
  EXPECT_EQ(refutes, 0u) << "a member disagreed with how others saw it";
  c.crash(7);
  ASSERT_TRUE(c.run_until([&] { return c.all_see(7, MemberState::kDead); }, sec(20)));
  expect_consistent(c);
}

TEST(SimMembership, JoinRetriesUntilTheSeedAnswers) {
  Cluster c(sim_seed(3));
  c.add_node();
  c.add_node();
  c.start(1, {c.addr(0)});  // seed is not up yet
  c.run_for(sec(5));
  EXPECT_FALSE(c.node(1).joined());
  EXPECT_GT(c.counter(1, "stream_errors"), 2u);
  c.start(0, {});
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(3)));
  expect_consistent(c);
}

TEST(SimMembership, CrashedMemberIsSuspectedThenDeclaredDeadByAll) {
  Cluster c(sim_seed(4));
  c.add_and_start(10);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  c.run_for(sec(2));
  const std::size_t before = c.trace().size();
  const Time t0 = c.now();
  c.crash(3);
  ASSERT_TRUE(c.run_until([&] { return c.all_see(3, MemberState::kDead); }, sec(20)));
  const Duration took = c.now() - t0;
  // Bound: one probe round to notice (n-1 members probe it, so well under a
  // round), then at most the Lifeguard maximum of 3 * 4 * 0.5 s.
  EXPECT_LT(took, sec(8)) << "took " << took.count() / 1000000 << " ms";
  const std::size_t first_suspect = trace_find(c, "sees n3 suspect", before);
  const std::size_t first_dead = trace_find(c, "sees n3 dead", before);
  EXPECT_LT(first_suspect, first_dead) << "dead without a suspicion first";
  // Nobody else was hurt.
  for (std::size_t o = 0; o < c.size(); ++o) {
    for (std::size_t m = 0; m < c.size(); ++m) {
      if (o == 3 || m == 3 || o == m) continue;
      EXPECT_TRUE(c.sees(o, m, MemberState::kAlive)) << o << " sees " << m;
    }
  }
  expect_consistent(c);
}

TEST(SimMembership, FalselySuspectedMemberRefutesAndStaysAlive) {
  Cluster c(sim_seed(5));
  c.add_and_start(10);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  c.run_for(sec(2));
  const std::uint64_t inc_before = c.node(4).self().incarnation;
  c.isolate(4);  // a short network hiccup
  ASSERT_TRUE(c.run_until(
      [&] {
        for (std::size_t o = 0; o < c.size(); ++o) {
          if (c.sees(o, 4, MemberState::kSuspect)) return true;
        }
        return false;
      },
      sec(10)));
  c.heal(4);
  c.run_for(sec(15));
  EXPECT_FALSE(trace_has(c, "sees n4 dead"));
  EXPECT_TRUE(c.all_see(4, MemberState::kAlive));
  EXPECT_GT(c.node(4).self().incarnation, inc_before);
  EXPECT_GE(c.counter(4, "refutations"), 1u);
  for (std::size_t o = 0; o < c.size(); ++o) {
    if (o == 4) continue;
    EXPECT_EQ(c.view(o, 4)->incarnation, c.node(4).self().incarnation);
  }
  expect_consistent(c);
}

TEST(SimMembership, GracefulLeaveIsSeenAsLeftNotDead) {
  Cluster c(sim_seed(6));
  c.add_and_start(10);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  const Time t0 = c.now();
  c.leave(5);
  EXPECT_EQ(c.node(5).self().state, MemberState::kLeft);
  ASSERT_TRUE(c.run_until([&] { return c.node(5).leave_done(); }, sec(2)));
  c.crash(5);  // the process exits once the leave went out
  ASSERT_TRUE(c.run_until([&] { return c.all_see(5, MemberState::kLeft); }, sec(5)));
  EXPECT_LT(c.now() - t0, sec(2));
  c.run_for(sec(30));
  EXPECT_TRUE(c.all_see(5, MemberState::kLeft));
  EXPECT_FALSE(trace_has(c, "sees n5 dead"));
  EXPECT_FALSE(trace_has(c, "sees n5 suspect"));
  expect_consistent(c);
}

TEST(SimMembership, LeaveDoneAtOnceWhenAlone) {
  Cluster c(sim_seed(7));
  c.add_and_start(1);
  c.leave(0);
  EXPECT_TRUE(c.node(0).leave_done());
}

TEST(SimMembership, LeftAndForgottenMembersDisappear) {
  SimOptions o;
  o.base.dead_forget_after = sec(10);
  Cluster c(sim_seed(8), o);
  c.add_and_start(5);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  c.leave(2);
  ASSERT_TRUE(c.run_until([&] { return c.node(2).leave_done(); }, sec(2)));
  c.crash(2);
  ASSERT_TRUE(c.run_until([&] { return c.all_see(2, MemberState::kLeft); }, sec(5)));
  ASSERT_TRUE(c.run_until(
      [&] {
        for (std::size_t i = 0; i < c.size(); ++i) {
          if (i != 2 && c.view(i, 2)) return false;
        }
        return true;
      },
      sec(15)));
  EXPECT_TRUE(c.converged());
}

TEST(SimMembership, RejoinAfterLeaveWithSameNameComesBackAlive) {
  Cluster c(sim_seed(9));
  c.add_and_start(8);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  c.leave(5);
  ASSERT_TRUE(c.run_until([&] { return c.node(5).leave_done(); }, sec(2)));
  c.crash(5);
  ASSERT_TRUE(c.run_until([&] { return c.all_see(5, MemberState::kLeft); }, sec(5)));
  const std::uint64_t left_inc = c.view(0, 5)->incarnation;
  c.run_for(sec(3));
  c.restart(5, {c.addr(0)});  // fresh process, incarnation starts at 0 again
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(5)));
  EXPECT_GT(c.node(5).self().incarnation, left_inc);
  EXPECT_TRUE(trace_has(c, "sees n5 alive"));
  expect_consistent(c);
}

TEST(SimMembership, RejoinAfterCrashWithSameNameComesBackAlive) {
  Cluster c(sim_seed(10));
  c.add_and_start(8);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  c.crash(6);
  ASSERT_TRUE(c.run_until([&] { return c.all_see(6, MemberState::kDead); }, sec(20)));
  const std::size_t mark = c.trace().size();
  c.restart(6, {c.addr(1)});
  const bool ok = c.run_until([&] { return c.converged(); }, sec(5));
  if (!ok) {
    for (std::size_t i = mark; i < c.trace().size(); ++i) ADD_FAILURE() << c.trace()[i];
    for (std::size_t o = 0; o < c.size(); ++o) for (auto& m : c.node(o).members()) ADD_FAILURE() << o << " " << m.name << " " << gossip::to_string(m.state) << " " << m.incarnation;
  }
  ASSERT_TRUE(ok);
  c.run_for(sec(10));
  EXPECT_TRUE(c.converged());
  expect_consistent(c);
}

TEST(SimMembership, RestartWithConfiguredHigherIncarnationWinsAtOnce) {
  Cluster c(sim_seed(11));
  c.add_and_start(5);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  c.crash(4);
  ASSERT_TRUE(c.run_until([&] { return c.all_see(4, MemberState::kDead); }, sec(20)));
  c.restart(4, {c.addr(0)}, [](gossip::Config& cfg) { cfg.incarnation = 1000; });
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(5)));
  EXPECT_EQ(c.node(4).self().incarnation, 1000u);  // no refutation was needed
  expect_consistent(c);
}

TEST(SimMembership, ServiceChangeIsAnUpdate) {
  Cluster c(sim_seed(12));
  c.add_and_start(4);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  c.crash(3);
  c.restart(3, {c.addr(0)}, [](gossip::Config& cfg) {
    cfg.service = "10.9.9.9:8000";
    cfg.incarnation = 50;
  });
  ASSERT_TRUE(c.run_until(
      [&] {
        for (std::size_t o = 0; o < 3; ++o) {
          auto v = c.view(o, 3);
          if (!v || v->service != "10.9.9.9:8000") return false;
        }
        return true;
      },
      sec(5)));
  EXPECT_TRUE(trace_has(c, "sees n3 updated inc=50"));
  expect_consistent(c);
}

}  // namespace
}  // namespace ringd::sim
