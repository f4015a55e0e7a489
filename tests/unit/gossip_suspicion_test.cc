// tests/unit/gossip_suspicion_test.cc — table tests of the timeout functions.
#include <gtest/gtest.h>

#include "gossip/suspicion.h"

namespace ringd::gossip {
namespace {

Duration ms(std::int64_t n) { return std::chrono::milliseconds(n); }

// min = mult * max(1, (1 + log10 n) / 2) * interval: 1x at n = 10, 1.5x at
// 100, 2x at 1000.
TEST(GossipSuspicion, TimeoutGrowsWithHalfTheLog10OfClusterSize) {
  struct Case {
    int mult;
    std::size_t n;
    std::int64_t interval_ms;
    std::int64_t want_ms;
  };
  const Case cases[] = {
      {4, 0, 500, 2000},      // n < 1 counts as 1
      {4, 1, 500, 2000},      // max(1, (1 + 0) / 2) = 1
      {4, 5, 500, 2000},      // (1 + 0.699) / 2 < 1
      {4, 10, 500, 2000},     // (1 + 1) / 2 = 1
      {4, 100, 500, 3000},    // 1.5
      {4, 1000, 500, 4000},   // 2
      {4, 50, 500, 2699},     // 4 * 1.349485 * 500 = 2698.97
      {5, 1000, 1000, 10000},
      {0, 10, 500, 500},      // mult < 1 counts as 1
  };
  for (const auto& c : cases) {
    EXPECT_EQ(suspicion_timeout(c.mult, c.n, ms(c.interval_ms)), ms(c.want_ms))
        << "mult=" << c.mult << " n=" << c.n;
  }
}

TEST(GossipSuspicion, ExpectedConfirmationsAreTheIndirectChecks) {
  // Lifeguard: K = indirect_checks independent confirmations, unless the
  // cluster is too small to supply them (n - 2 < K: besides the suspect and
  // the first accuser there are not K others).
  struct Case {
    int k;
    std::size_t n;
    int want;
  };
  const Case cases[] = {
      {3, 0, 0}, {3, 1, 0}, {3, 2, 0}, {3, 4, 0},  // too few others to confirm
      {3, 5, 3}, {3, 10, 3}, {3, 1000, 3}, {5, 10, 5}, {5, 6, 0}, {0, 100, 0}, {-1, 100, 0},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(expected_confirmations(c.k, c.n), c.want) << "k=" << c.k << " n=" << c.n;
  }
}

TEST(GossipSuspicion, LifeguardBoundsForTheLanProfile) {
  // lan: probe 300 ms, suspicion_mult 4, max 3x, k = 3.
  struct Case {
    std::size_t n;
    int confirmations;
    std::int64_t want_ms;
  };
  const Case cases[] = {
      {10, 0, 3600}, {10, 1, 2400}, {10, 2, 1698}, {10, 3, 1200},
      {100, 0, 5400}, {100, 1, 3600}, {100, 3, 1800},
      {4, 0, 1200},  // nobody could confirm: min at once
  };
  for (const auto& c : cases) {
    const Duration min = suspicion_timeout(4, c.n, ms(300));
    const int k = expected_confirmations(3, c.n);
    EXPECT_EQ(suspicion_timeout_after(c.confirmations, k, min, min * 3), ms(c.want_ms))
        << "n=" << c.n << " c=" << c.confirmations;
  }
}

TEST(GossipSuspicion, TimeoutShrinksWithConfirmations) {
  struct Case {
    int confirmations;
    int expected;
    std::int64_t min_ms;
    std::int64_t max_ms;
    std::int64_t want_ms;
  };
  const Case cases[] = {
      {0, 3, 2000, 6000, 6000},  // no confirmation yet: max
      {1, 3, 2000, 6000, 4000},  // 6000 - 4000 * log(2)/log(4) = 4000
      {2, 3, 2000, 6000, 2830},  // 6000 - 4000 * log(3)/log(4) = 2830.07
      {3, 3, 2000, 6000, 2000},  // all in: min
      {5, 3, 2000, 6000, 2000},  // more than expected: still min
      {0, 0, 2000, 6000, 2000},  // nobody can confirm: min at once
      {1, 1, 2000, 6000, 2000},
      {0, 2, 2000, 2000, 2000},  // max == min: plain SWIM
      {0, 2, 2000, 1000, 2000},  // max < min counts as min
      {-1, 3, 2000, 6000, 6000},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(suspicion_timeout_after(c.confirmations, c.expected, ms(c.min_ms), ms(c.max_ms)),
              ms(c.want_ms))
        << "c=" << c.confirmations << " k=" << c.expected;
  }
}

TEST(GossipSuspicion, RemainingTime) {
  struct Case {
    int confirmations;
    std::int64_t elapsed_ms;
    std::int64_t want_ms;
  };
  // k = 3, min 2 s, max 6 s.
  const Case cases[] = {
      {0, 0, 6000}, {0, 5000, 1000}, {1, 1000, 3000}, {1, 4000, 0}, {3, 2500, -500},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(remaining_suspicion_time(c.confirmations, 3, ms(c.elapsed_ms), ms(2000), ms(6000)),
              ms(c.want_ms))
        << "c=" << c.confirmations << " elapsed=" << c.elapsed_ms;
  }
}

Config suspicion_config() {
  Config cfg;
  cfg.probe_interval = ms(500);
  cfg.suspicion_mult = 4;
  cfg.suspicion_max_timeout_mult = 3;
  cfg.indirect_checks = 3;
  return cfg;
}

// n = 10: min 2 s, max 6 s, k = 3 confirmations expected.
TEST(GossipSuspicionType, ConfirmationsShrinkTheDeadlineToTheMinimum) {
  const Time t0 = ms(1000);
  Suspicion s(t0, "a", 10, suspicion_config());
  EXPECT_EQ(s.deadline(), t0 + ms(6000));
  EXPECT_EQ(s.max_timeout(), ms(6000));
  EXPECT_EQ(s.expected_confirmations(), 3);
  EXPECT_EQ(s.confirmations(), 0);
  EXPECT_FALSE(s.confirmed());
  EXPECT_FALSE(s.wants("a")) << "the accuser does not confirm itself";
  EXPECT_FALSE(s.wants("")) << "an anonymous suspicion confirms nothing";
  ASSERT_TRUE(s.wants("b"));
  s.confirm("b");
  EXPECT_TRUE(s.confirmed());
  EXPECT_EQ(s.deadline(), t0 + ms(4000));  // 6 s - 4 s * log 2 / log 4
  EXPECT_FALSE(s.wants("b")) << "one member confirms once";
  s.confirm("c");
  s.confirm("d");
  EXPECT_EQ(s.confirmations(), 3);
  EXPECT_EQ(s.deadline(), t0 + ms(2000));
  EXPECT_FALSE(s.wants("e")) << "no more than expected";
}

TEST(GossipSuspicionType, HoldAndRestartMoveTheClockButNotTheOrigin) {
  const Time t0 = ms(1000);
  Suspicion s(t0, "a", 10, suspicion_config());
  s.confirm("b");
  s.hold(t0 + ms(4000));
  EXPECT_EQ(s.deadline(), t0 + ms(10000)) << "held: the longest timeout again";
  s.confirm("c");  // counted from the hold
  EXPECT_EQ(s.deadline(), t0 + ms(4000) + ms(2830));  // 2 of 3 confirmations
  s.restart(t0 + ms(5000));
  EXPECT_EQ(s.deadline(), t0 + ms(11000)) << "restarted: never earlier";
  EXPECT_FALSE(s.held_too_long(t0 + ms(23999), 4));
  EXPECT_TRUE(s.held_too_long(t0 + ms(24000), 4)) << "4 x 6 s since the first accusation";
}

TEST(GossipSuspicionType, ASmallClusterExpectsNoConfirmation) {
  Suspicion s(ms(0), "a", 3, suspicion_config());
  EXPECT_EQ(s.expected_confirmations(), 0);
  EXPECT_TRUE(s.confirmed());
  EXPECT_FALSE(s.wants("b"));
  EXPECT_EQ(s.deadline(), ms(2000));
}

}  // namespace
}  // namespace ringd::gossip
