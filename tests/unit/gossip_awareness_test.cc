// tests/unit/gossip_awareness_test.cc — Lifeguard local health score.
#include <gtest/gtest.h>

#include "gossip/awareness.h"

namespace ringd::gossip {
namespace {

Duration ms(std::int64_t n) { return std::chrono::milliseconds(n); }

TEST(GossipAwareness, SaturatesBetweenZeroAndMax) {
  struct Case {
    int max;
    std::vector<int> deltas;
    int want;
  };
  const Case cases[] = {
      {8, {}, 0},
      {8, {1, 1, 1}, 3},
      {8, {1, -1, -1}, 0},        // never below zero
      {8, {5, 5}, 8},             // never above max
      {8, {20, -3}, 5},
      {0, {1, 1}, 0},             // max 0: disabled
      {-2, {1}, 0},               // negative max counts as 0
  };
  for (const auto& c : cases) {
    Awareness a(c.max);
    for (int d : c.deltas) a.apply(d);
    EXPECT_EQ(a.score(), c.want) << "max=" << c.max;
  }
}

TEST(GossipAwareness, ScalesByScorePlusOne) {
  Awareness a(8);
  EXPECT_EQ(a.scale(ms(200)), ms(200));
  a.apply(1);
  EXPECT_EQ(a.scale(ms(200)), ms(400));
  a.apply(7);
  EXPECT_EQ(a.scale(ms(200)), ms(1800));
  a.apply(1);  // saturated
  EXPECT_EQ(a.scale(ms(80)), ms(720));
}

TEST(GossipAwareness, FailedProbeDelta) {
  struct Case {
    int asked;
    int nacks;
    int want;
  };
  const Case cases[] = {
      {0, 0, 1},  // nobody to ask: we cannot tell, blame ourselves a little
      {3, 0, 1},  // relays silent too: our network looks bad
      {3, 2, 1},  // one relay silent
      {3, 3, 0},  // every relay reached us and not the target: target's fault
      {3, 4, 0},  // duplicates do not go negative
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Awareness::failed_probe_delta(c.asked, c.nacks), c.want)
        << "asked=" << c.asked << " nacks=" << c.nacks;
  }
}

}  // namespace
}  // namespace ringd::gossip
