// tests/unit/ring_update_test.cc — Ring::build_weighted_from (reusing the
// previous ring's points) gives exactly the ring a full build gives: same
// checksum, same shares to the last bit (any point out of place would change
// an arc), same owner for every probed hash, through a random walk of joins,
// leaves, weight changes and mass changes.
#include "ring/ring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace ringd::ring {
namespace {

void expect_same(const Ring& a, const Ring& b, std::mt19937_64& rng) {
  ASSERT_EQ(a.checksum(), b.checksum());
  ASSERT_EQ(a.nodes(), b.nodes());
  ASSERT_EQ(a.point_count(), b.point_count());
  ASSERT_EQ(a.shares(), b.shares());
  for (int i = 0; i < 20000; ++i) {
    std::uint64_t h = rng();
    if (a.mode() == Mode::kNginx) h &= 0xffffffffu;
    ASSERT_EQ(*a.owner_of_hash(h), *b.owner_of_hash(h)) << h;
    // The updated ring's patched index and lines answer as a binary search
    // over its own points does.
    ASSERT_EQ(a.owner_of_hash(h), a.owner_of_hash_binary_search(h)) << h;
  }
  // Exactly at, just below and just above every point (default mode: the
  // points are hash_point(node, i)).
  if (a.mode() != Mode::kDefault) return;
  for (std::size_t n = 0; n < a.nodes().size(); ++n) {
    const std::uint32_t count = a.options().points_per_node * a.weights()[n];
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::uint64_t p = hash_point(a.nodes()[n], i);
      for (std::uint64_t h : {p - 1, p, p + 1}) {
        ASSERT_EQ(*a.owner_of_hash(h), *b.owner_of_hash(h)) << h;
        ASSERT_EQ(a.owner_of_hash(h), a.owner_of_hash_binary_search(h)) << h;
      }
    }
  }
}

class RingUpdateTest : public ::testing::TestWithParam<Mode> {};

TEST_P(RingUpdateTest, RandomWalkMatchesFullBuilds) {
  const Options options{.points_per_node = 64, .mode = GetParam()};
  std::mt19937_64 rng(77);
  std::vector<WeightedNode> nodes;
  for (int i = 0; i < 30; ++i) nodes.push_back({"10.0.0." + std::to_string(i) + ":80", 1});
  auto ring = Ring::build_weighted(nodes, options);
  int next_id = 100;
  for (int step = 0; step < 60; ++step) {
    switch (rng() % 5) {
      case 0:  // join
        nodes.push_back({"10.0.1." + std::to_string(next_id++) + ":80", 1});
        break;
      case 1:  // leave
        if (nodes.size() > 1) nodes.erase(nodes.begin() + static_cast<long>(rng() % nodes.size()));
        break;
      case 2:  // weight change
        nodes[rng() % nodes.size()].weight = 1 + static_cast<std::uint32_t>(rng() % 4);
        break;
      case 3:  // a name that sorts first joins (every rank moves), or nothing changes
        if (rng() % 2 == 0) nodes.push_back({"1.0.0." + std::to_string(next_id++) + ":80", 1});
        break;
      default:  // many change at once (falls back to a full build)
        for (int k = 0; k < 10; ++k) nodes.push_back({"10.0.2." + std::to_string(next_id++) + ":80", 1});
        break;
    }
    std::shuffle(nodes.begin(), nodes.end(), rng);
    auto updated = Ring::build_weighted_from(*ring, nodes, options);
    auto full = Ring::build_weighted(nodes, options);
    expect_same(*updated, *full, rng);
    ring = updated;
  }
}

// Tiny rings (a point or two per node: empty buckets, changes at the wrap)
// and the point count crossing powers of two (the bucket count changes).
TEST_P(RingUpdateTest, SmallRingsAndBucketCountChanges) {
  std::mt19937_64 rng(5);
  for (std::uint32_t ppn : {1u, 2u, 64u}) {
    const Options options{.points_per_node = ppn, .mode = GetParam()};
    std::vector<WeightedNode> nodes;
    auto ring = Ring::build_weighted(nodes, options);
    for (int step = 0; step < 80; ++step) {
      const bool join = step < 40 ? rng() % 4 != 0 : rng() % 4 == 0;
      if (join) {
        nodes.push_back({"10.9." + std::to_string(step) + ".1:80", 1});
      } else if (!nodes.empty()) {
        nodes.erase(nodes.begin() + static_cast<long>(rng() % nodes.size()));
      }
      auto updated = Ring::build_weighted_from(*ring, nodes, options);
      auto full = Ring::build_weighted(nodes, options);
      if (nodes.empty()) {
        EXPECT_TRUE(updated->empty());
      } else {
        expect_same(*updated, *full, rng);
      }
      ring = updated;
    }
  }
}

TEST_P(RingUpdateTest, FromEmptyAndToEmpty) {
  const Options options{.mode = GetParam()};
  auto empty = Ring::build({}, options);
  auto one = Ring::build_weighted_from(*empty, {{"a:1", 1}, {"b:2", 2}}, options);
  std::mt19937_64 rng(1);
  expect_same(*one, *Ring::build_weighted({{"a:1", 1}, {"b:2", 2}}, options), rng);
  auto none = Ring::build_weighted_from(*one, {}, options);
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(none->checksum(), empty->checksum());
}

TEST(RingUpdateOptionsTest, DifferentOptionsMeanAFullBuild) {
  auto a = Ring::build({"a:1", "b:2"}, Options{.points_per_node = 10});
  auto b = Ring::build_weighted_from(*a, {{"a:1", 1}, {"b:2", 1}}, Options{.points_per_node = 20});
  EXPECT_EQ(b->point_count(), 40u);
  EXPECT_EQ(b->checksum(), Ring::build({"a:1", "b:2"}, Options{.points_per_node = 20})->checksum());
}

INSTANTIATE_TEST_SUITE_P(AllModes, RingUpdateTest,
                         ::testing::Values(Mode::kDefault, Mode::kMaglev, Mode::kNginx, Mode::kKetama, Mode::kMultiProbe),
                         [](const ::testing::TestParamInfo<Mode>& info) { return std::string(to_string(info.param)); });

}  // namespace
}  // namespace ringd::ring
