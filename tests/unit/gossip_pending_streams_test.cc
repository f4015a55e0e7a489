// tests/unit/gossip_pending_streams_test.cc — the open streams a node waits
// on, and the contact record behind the "cut off" judgement.
#include <gtest/gtest.h>

#include "gossip/contact.h"
#include "gossip/pending_streams.h"

namespace ringd::gossip {
namespace {

TEST(GossipPendingStreams, NumbersBoundsAndAnswersEachQuestion) {
  PendingStreams p;
  const std::uint64_t join = p.open(PendingStream{true, "10.0.0.1:7946"});
  const std::uint64_t sync = p.open(PendingStream{false, "10.0.0.2:7946"});
  const std::uint64_t ping = p.open(PendingStream{false, "10.0.0.3:7946", 42});
  EXPECT_EQ(join, 1u);
  EXPECT_EQ(sync, 2u);
  EXPECT_EQ(ping, 3u);
  EXPECT_TRUE(p.join_to("10.0.0.1:7946"));
  EXPECT_FALSE(p.join_to("10.0.0.2:7946"));
  EXPECT_TRUE(p.sync_to("10.0.0.1:7946"));  // a join is a sync too
  EXPECT_TRUE(p.sync_to("10.0.0.2:7946"));
  EXPECT_FALSE(p.sync_to("10.0.0.3:7946"));  // a TCP ping is not
  EXPECT_TRUE(p.any_to("10.0.0.3:7946"));
  EXPECT_FALSE(p.any_to("10.0.0.4:7946"));

  const auto taken = p.take(ping);
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->probe_seq, 42u);
  EXPECT_FALSE(p.take(ping).has_value()) << "an answer is taken once";
  EXPECT_FALSE(p.any_to("10.0.0.3:7946"));
  p.forget(sync);
  EXPECT_FALSE(p.sync_to("10.0.0.2:7946"));
  EXPECT_EQ(p.size(), 1u);

  while (p.size() < PendingStreams::kMax) ASSERT_NE(p.open(PendingStream{false, "x"}), 0u);
  EXPECT_EQ(p.open(PendingStream{false, "y"}), 0u) << "bounded";
  EXPECT_FALSE(p.any_to("y"));
}

TEST(GossipContact, CutOffAfterThreeSilentProbesOrThreeQuietPeriods) {
  const Time t0 = std::chrono::seconds(1000);
  const Duration period = std::chrono::milliseconds(300);
  Contact c;
  c.start(t0);
  EXPECT_FALSE(c.cut_off(t0 + period * 3, period));
  EXPECT_TRUE(c.cut_off(t0 + period * 3 + Duration(1), period));
  c.heard(t0 + period);
  c.silent_probe();
  c.silent_probe();
  EXPECT_FALSE(c.cut_off(t0 + period * 2, period));
  c.silent_probe();
  EXPECT_TRUE(c.cut_off(t0 + period * 2, period));
  c.heard(t0 + period * 2);  // an ack or nack clears the count
  EXPECT_FALSE(c.cut_off(t0 + period * 2, period));
}

}  // namespace
}  // namespace ringd::gossip
