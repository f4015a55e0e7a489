// tests/unit/gossip_rtt_test.cc — RTT-adaptive probe timeouts.
#include <gtest/gtest.h>

#include "gossip/rtt.h"

namespace ringd::gossip {
namespace {

Duration us(std::int64_t n) { return std::chrono::microseconds(n); }
Duration ms(std::int64_t n) { return std::chrono::milliseconds(n); }

TEST(GossipRtt, NoSampleUsesTheInitialTimeout) {
  RttEstimator r;
  EXPECT_FALSE(r.has_sample());
  EXPECT_EQ(r.timeout(ms(80), ms(10), ms(80)), ms(80));
}

TEST(GossipRtt, JacobsonKarelsTable) {
  struct Case {
    std::vector<std::int64_t> samples_us;
    std::int64_t srtt_us;
    std::int64_t rttvar_us;
  };
  const Case cases[] = {
      {{1000}, 1000, 500},                   // first: srtt = r, rttvar = r/2
      {{1000, 1000}, 1000, 375},             // 3/4*500 + 1/4*0
      {{1000, 2000}, 1125, 625},             // 3/4*500 + 1/4*1000; 7/8*1000 + 1/8*2000
      {{8000, 0}, 7000, 5000},               // 3/4*4000 + 1/4*8000; 7/8*8000
      {{100, 100, 100, 100, 100, 100}, 100, 11},  // variance decays towards 0
  };
  for (const auto& c : cases) {
    RttEstimator r;
    for (auto s : c.samples_us) r.sample(us(s));
    EXPECT_EQ(r.srtt(), us(c.srtt_us));
    EXPECT_NEAR(static_cast<double>(r.rttvar().count()), static_cast<double>(us(c.rttvar_us).count()),
                1000.0);  // 1 us
  }
}

TEST(GossipRtt, TimeoutIsSrttPlusFourVarClamped) {
  struct Case {
    std::int64_t sample_us;  // one sample: timeout = r + 4 * r/2 = 3r
    std::int64_t floor_ms;
    std::int64_t ceiling_ms;
    std::int64_t want_us;
  };
  const Case cases[] = {
      {10000, 1, 100, 30000},   // 3 * 10 ms
      {100, 10, 80, 10000},     // loopback: the floor
      {50000, 10, 80, 80000},   // slow link: the ceiling
      {50000, 10, 5, 10000},    // ceiling below floor counts as floor
  };
  for (const auto& c : cases) {
    RttEstimator r;
    r.sample(us(c.sample_us));
    EXPECT_EQ(r.timeout(ms(500), ms(c.floor_ms), ms(c.ceiling_ms)), us(c.want_us))
        << "sample=" << c.sample_us;
  }
}

TEST(GossipRtt, OutlierRaisesTheTimeoutThenItSettles) {
  RttEstimator r;
  for (int i = 0; i < 20; ++i) r.sample(ms(2));
  const Duration calm = r.timeout(ms(80), ms(1), ms(80));
  r.sample(ms(30));
  const Duration after = r.timeout(ms(80), ms(1), ms(80));
  EXPECT_GT(after, calm);
  for (int i = 0; i < 40; ++i) r.sample(ms(2));
  EXPECT_LT(r.timeout(ms(80), ms(1), ms(80)), after);
  EXPECT_EQ(RttEstimator{}.timeout(ms(7), ms(1), ms(80)), ms(7));
}

TEST(GossipRtt, NegativeSampleCountsAsZero) {
  RttEstimator r;
  r.sample(ms(-5));
  EXPECT_EQ(r.srtt(), Duration::zero());
  EXPECT_EQ(r.timeout(ms(80), ms(10), ms(80)), ms(10));
}

}  // namespace
}  // namespace ringd::gossip
