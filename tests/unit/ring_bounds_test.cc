// tests/unit/ring_bounds_test.cc — what one member's weight can cost every
// agent: weights stop at kMaxWeight, and a ring stops at kMaxRingPoints.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ring/ring.h"

namespace ringd::ring {
namespace {

std::vector<WeightedNode> nodes_of_weight(std::size_t count, std::uint32_t weight) {
  std::vector<WeightedNode> out;
  for (std::size_t i = 0; i < count; ++i) out.push_back({"10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":80", weight});
  return out;
}

// The report: one member tagged weight=65535 grew a 16-point ring from 32
// points to 1,048,576.
TEST(RingBounds, AWeightAboveTheMaximumCountsAsTheMaximum) {
  const Options o{.points_per_node = 16};
  auto ring = Ring::build_weighted({{"10.0.0.1:80", 1}, {"10.0.0.2:80", 65535}}, o);
  EXPECT_EQ(ring->point_count(), 16u * (1 + kMaxWeight));
  EXPECT_EQ(ring->weights(), (std::vector<std::uint32_t>{1, kMaxWeight}));
  // The same ring (checksum) as a member tagged with the maximum itself.
  EXPECT_EQ(ring->checksum(), Ring::build_weighted({{"10.0.0.1:80", 1}, {"10.0.0.2:80", kMaxWeight}}, o)->checksum());
}

TEST(RingBounds, TheDefaultRingUsesFewerPointsPerWeightUnitBeyondTheBudget) {
  // 40 members at the maximum weight: 10,240 weight units, 10.5 million
  // points at 1,024 each; the budget allows 409 each.
  auto ring = Ring::build_weighted(nodes_of_weight(40, kMaxWeight), Options{});
  const std::uint64_t units = 40 * kMaxWeight;
  EXPECT_EQ(ring->options().points_per_node, kMaxRingPoints / units);
  EXPECT_EQ(ring->point_count(), ring->options().points_per_node * units);
  EXPECT_LE(ring->point_count(), kMaxRingPoints);
  // Lookups still agree with the plain binary search, and two builds agree.
  for (int k = 0; k < 2000; ++k) {
    const std::string key = "/k/" + std::to_string(k);
    ASSERT_EQ(ring->owner(key), ring->owner_of_hash_binary_search(ring->key_hash(key)));
  }
  EXPECT_EQ(ring->checksum(), Ring::build_weighted(nodes_of_weight(40, kMaxWeight), Options{})->checksum());
  // Under the budget nothing changes.
  EXPECT_EQ(Ring::build_weighted(nodes_of_weight(4, 1), Options{})->options().points_per_node, kDefaultPointsPerNode);
}

TEST(RingBounds, AnUpdateThatCrossesTheBudgetEqualsAFreshBuild) {
  auto before = Ring::build_weighted(nodes_of_weight(3, kMaxWeight), Options{});
  EXPECT_EQ(before->options().points_per_node, kDefaultPointsPerNode);
  auto grown = nodes_of_weight(20, kMaxWeight);
  auto after = Ring::build_weighted_from(*before, grown, Options{});
  auto fresh = Ring::build_weighted(grown, Options{});
  EXPECT_LT(after->options().points_per_node, kDefaultPointsPerNode);
  EXPECT_EQ(after->checksum(), fresh->checksum());
  EXPECT_EQ(after->point_count(), fresh->point_count());
  for (int k = 0; k < 2000; ++k) {
    const std::string key = "/k/" + std::to_string(k);
    ASSERT_EQ(*after->owner(key), *fresh->owner(key));
  }
}

TEST(RingBounds, TheNginxRingScalesItsWeightsDownBeyondTheBudget) {
  Options o{.mode = Mode::kNginx};
  auto ring = Ring::build_weighted(nodes_of_weight(200, kMaxWeight), o);  // 8.2 million points unbounded
  EXPECT_LE(ring->point_count(), kMaxRingPoints);
  EXPECT_GT(ring->point_count(), kMaxRingPoints / 2);
  for (std::uint32_t w : ring->weights()) EXPECT_EQ(w, ring->weights().front());
  // Under the budget the weights are nginx's own.
  auto small = Ring::build_weighted({{"10.0.0.1:80", 3}, {"10.0.0.2:80", 1}}, o);
  EXPECT_EQ(small->weights(), (std::vector<std::uint32_t>{3, 1}));
}

}  // namespace
}  // namespace ringd::ring
