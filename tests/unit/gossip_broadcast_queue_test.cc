// tests/unit/gossip_broadcast_queue_test.cc — the piggyback queue.
#include <gtest/gtest.h>

#include "gossip/broadcast_queue.h"

namespace ringd::gossip {
namespace {

msg::Message alive(const std::string& name, std::uint64_t inc) {
  return msg::Alive{name, "10.0.0.1:1", "", inc};
}
std::string name_of(const msg::Message& m) {
  return std::visit([](const auto& x) -> std::string {
    if constexpr (requires { x.name; }) {
      return x.name;
    } else {
      return "";
    }
  }, m);
}

TEST(GossipBroadcastQueue, RetransmitLimit) {
  struct Case {
    int mult;
    std::size_t n;
    int want;
  };
  const Case cases[] = {{4, 0, 1},  {4, 1, 4},  {4, 9, 4},   {4, 10, 8}, {4, 99, 8},
                        {4, 100, 12}, {3, 1000, 12}, {0, 5, 1}, {4, 10000, 20}};
  for (const auto& c : cases) {
    EXPECT_EQ(BroadcastQueue::retransmit_limit(c.mult, c.n), c.want) << c.mult << " " << c.n;
  }
}

TEST(GossipBroadcastQueue, EachUpdateIsSentLimitTimesThenDropped) {
  BroadcastQueue q;
  q.push("a", alive("a", 1), 10);
  for (int i = 0; i < 3; ++i) {
    auto out = q.take(1000, 3);
    ASSERT_EQ(out.size(), 1u) << i;
  }
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(q.take(1000, 3).empty());
}

TEST(GossipBroadcastQueue, NewerUpdateAboutTheSameMemberReplacesTheOlder) {
  BroadcastQueue q;
  q.push("a", alive("a", 1), 10);
  q.take(1000, 5);
  q.push("a", msg::Suspect{"a", 1, "b"}, 10);
  EXPECT_EQ(q.size(), 1u);
  auto out = q.take(1000, 5);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<msg::Suspect>(out[0]));
  // And the replacement starts with a fresh transmit count: 4 more to go.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(q.take(1000, 5).size(), 1u);
  EXPECT_TRUE(q.empty());
}

TEST(GossipBroadcastQueue, FewestTransmitsFirstThenNewest) {
  BroadcastQueue q;
  q.push("a", alive("a", 1), 10);
  q.take(1000, 10);  // a sent once
  q.push("b", alive("b", 1), 10);
  q.push("c", alive("c", 1), 10);
  auto out = q.take(25, 10);  // room for two
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(name_of(out[0]), "c");
  EXPECT_EQ(name_of(out[1]), "b");
  out = q.take(25, 10);  // a(1), b(1), c(1): newest first among equals
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(name_of(out[0]), "c");
  EXPECT_EQ(name_of(out[1]), "b");
}

TEST(GossipBroadcastQueue, RespectsTheByteBudgetAndSkipsWhatDoesNotFit) {
  BroadcastQueue q;
  q.push("big", alive("big", 1), 100);
  q.push("small", alive("small", 1), 10);
  auto out = q.take(50, 3);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(name_of(out[0]), "small");
  EXPECT_TRUE(q.take(0, 3).empty());
  EXPECT_EQ(q.size(), 2u);
}

TEST(GossipBroadcastQueue, BoundedEvictingTheMostSent) {
  BroadcastQueue q(3);
  q.push("a", alive("a", 1), 10);
  q.take(1000, 10);
  q.push("b", alive("b", 1), 10);
  q.push("c", alive("c", 1), 10);
  q.push("d", alive("d", 1), 10);  // full: "a" (sent most) goes
  EXPECT_EQ(q.size(), 3u);
  EXPECT_FALSE(q.contains("a"));
  EXPECT_TRUE(q.contains("d"));
  EXPECT_EQ(q.dropped(), 1u);
  q.push("d", alive("d", 2), 10);  // replacing does not evict
  EXPECT_EQ(q.dropped(), 1u);
}

TEST(GossipBroadcastQueue, AliveGoesFirstAmongEqualsAndLeadsThePacket) {
  BroadcastQueue q;
  q.push("a", msg::Suspect{"a", 1, "x"}, 10);
  q.push("b", alive("b", 1), 10);
  q.push("c", msg::Dead{"c", 1, "x", false}, 10);
  q.push("d", alive("d", 1), 10);
  // Room for two: both Alives win over newer Suspect/Dead.
  auto two = q.take(20, 10);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<msg::Alive>(two[0]));
  EXPECT_TRUE(std::holds_alternative<msg::Alive>(two[1]));
  // Fewer transmissions still come first: now a and c (0 sends) beat b, d.
  auto next = q.take(20, 10);
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(name_of(next[0]) + name_of(next[1]), "ca");
  // All four: the packet leads with the Alives.
  auto all = q.take(100, 10);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_TRUE(std::holds_alternative<msg::Alive>(all[0]));
  EXPECT_TRUE(std::holds_alternative<msg::Alive>(all[1]));
}

TEST(GossipBroadcastQueue, MaxCountBoundsTheMessagesPerPacket) {
  BroadcastQueue q;
  for (int i = 0; i < 1000; ++i) {
    std::string name(1, 'm');
    name += std::to_string(i);
    q.push(name, alive("m", 1), 5);
  }
  EXPECT_EQ(q.take(1 << 20, 10, 256).size(), 256u);
  EXPECT_EQ(q.take(1400, 10).size(), 280u);  // 1400 / 5
}

}  // namespace
}  // namespace ringd::gossip
