// tests/unit/ring_test.cc — ring snapshots: determinism, edge cases, owners(),
// the documented hashing scheme and exact boundary hashes.
#include "ring/ring.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace ringd::ring {
namespace {

std::vector<std::string> make_nodes(int count, const std::string& subnet = "10.0.0.") {
  std::vector<std::string> nodes;
  for (int i = 1; i <= count; ++i) nodes.push_back(subnet + std::to_string(i) + ":8000");
  return nodes;
}

std::string key_of(int i) { return "/documents/" + std::to_string(i); }

// An independent model of the ring: every point computed with hash_point(),
// sorted by (hash, node name) as the scheme says.
struct ModelPoint {
  std::uint64_t hash;
  std::string node;
  bool operator<(const ModelPoint& o) const { return hash != o.hash ? hash < o.hash : node < o.node; }
};

std::vector<ModelPoint> model_points(const std::vector<std::string>& nodes, std::uint32_t ppn) {
  std::vector<ModelPoint> points;
  for (const std::string& n : std::set<std::string>(nodes.begin(), nodes.end())) {
    for (std::uint32_t i = 0; i < ppn; ++i) points.push_back({hash_point(n, i), n});
  }
  std::sort(points.begin(), points.end());
  return points;
}

std::string model_owner(const std::vector<ModelPoint>& points, std::uint64_t h) {
  auto it = std::lower_bound(points.begin(), points.end(), h,
                             [](const ModelPoint& p, std::uint64_t v) { return p.hash < v; });
  return it == points.end() ? points.front().node : it->node;
}

TEST(RingTest, EmptyRingHasNoOwner) {
  auto ring = Ring::build({});
  EXPECT_TRUE(ring->empty());
  EXPECT_EQ(ring->point_count(), 0u);
  EXPECT_TRUE(ring->nodes().empty());
  EXPECT_EQ(ring->owner("/documents/abc"), nullptr);
  EXPECT_EQ(ring->owner(""), nullptr);
  EXPECT_EQ(ring->owner_of_hash(0), nullptr);
  EXPECT_TRUE(ring->owners("/documents/abc", 3).empty());
  EXPECT_EQ(ring->checksum().size(), 16u);
}

TEST(RingTest, SingleNodeOwnsEverything) {
  auto ring = Ring::build({"10.0.0.7:8000"});
  EXPECT_FALSE(ring->empty());
  EXPECT_EQ(ring->point_count(), kDefaultPointsPerNode);
  for (int i = 0; i < 1000; ++i) {
    const std::string* owner = ring->owner(key_of(i));
    ASSERT_NE(owner, nullptr);
    EXPECT_EQ(*owner, "10.0.0.7:8000");
  }
  EXPECT_EQ(*ring->owner(""), "10.0.0.7:8000");
  EXPECT_EQ(*ring->owner_of_hash(0), "10.0.0.7:8000");
  EXPECT_EQ(*ring->owner_of_hash(std::numeric_limits<std::uint64_t>::max()), "10.0.0.7:8000");
  auto owners = ring->owners("k", 3);
  ASSERT_EQ(owners.size(), 1u);
  EXPECT_EQ(*owners[0], "10.0.0.7:8000");
}

TEST(RingTest, SameSetInAnyOrderGivesSameRing) {
  const std::vector<std::string> nodes = make_nodes(12);
  auto reference = Ring::build(nodes);

  std::mt19937 rng(12345);  // seeded: the test is reproducible
  for (int trial = 0; trial < 5; ++trial) {
    std::vector<std::string> shuffled = nodes;
    shuffled.push_back(nodes[static_cast<std::size_t>(trial)]);  // duplicates do not matter
    shuffled.push_back(nodes[static_cast<std::size_t>(trial)]);
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    auto ring = Ring::build(shuffled);

    EXPECT_EQ(ring->checksum(), reference->checksum());
    EXPECT_EQ(ring->nodes(), reference->nodes());
    EXPECT_EQ(ring->point_count(), reference->point_count());
    for (int i = 0; i < 10000; ++i) {
      ASSERT_EQ(*ring->owner(key_of(i)), *reference->owner(key_of(i))) << "key " << key_of(i);
    }
  }
}

TEST(RingTest, NodesAreSortedAndUnique) {
  auto ring = Ring::build({"b:2", "a:1", "c:3", "a:1", "b:2"});
  EXPECT_EQ(ring->nodes(), (std::vector<std::string>{"a:1", "b:2", "c:3"}));
  EXPECT_EQ(ring->point_count(), 3u * kDefaultPointsPerNode);
}

TEST(RingTest, DifferentSetOrOptionsGiveDifferentChecksum) {
  const std::vector<std::string> nodes = make_nodes(10);
  const std::string base = Ring::build(nodes)->checksum();

  std::vector<std::string> fewer(nodes.begin() + 1, nodes.end());
  EXPECT_NE(Ring::build(fewer)->checksum(), base);

  std::vector<std::string> more = nodes;
  more.push_back("10.0.0.11:8000");
  EXPECT_NE(Ring::build(more)->checksum(), base);

  std::vector<std::string> replaced = nodes;
  replaced[4] = "10.0.0.99:8000";
  EXPECT_NE(Ring::build(replaced)->checksum(), base);

  EXPECT_NE(Ring::build(nodes, Options{100})->checksum(), base);
  EXPECT_NE(Ring::build({})->checksum(), base);

  // Names are length-prefixed, so regrouping the same bytes is a different set.
  EXPECT_NE(Ring::build({"ab", "c"})->checksum(), Ring::build({"a", "bc"})->checksum());
}

TEST(RingTest, ChecksumIsSixteenLowercaseHexDigits) {
  for (const auto& nodes : {std::vector<std::string>{}, make_nodes(1), make_nodes(50)}) {
    const std::string sum = Ring::build(nodes)->checksum();
    ASSERT_EQ(sum.size(), 16u);
    for (char c : sum) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << sum;
  }
}

TEST(RingTest, PointsPerNodeIsHonouredAndZeroActsAsOne) {
  EXPECT_EQ(Ring::build(make_nodes(7), Options{3})->point_count(), 21u);
  auto zero = Ring::build(make_nodes(7), Options{0});
  EXPECT_EQ(zero->point_count(), 7u);
  EXPECT_EQ(zero->options().points_per_node, 1u);
  EXPECT_EQ(zero->checksum(), Ring::build(make_nodes(7), Options{1})->checksum());
}

// The scheme other implementations (and future versions) must reproduce,
// spelled out with raw XXH3 calls rather than through the ring's helpers.
TEST(RingTest, HashingSchemeIsTheDocumentedOne) {
  const std::string key = "/documents/abc";
  EXPECT_EQ(hash_key(key), XXH3_64bits(key.data(), key.size()));

  const std::string node = "10.0.0.7:8000";
  EXPECT_EQ(hash_point(node, 17), XXH3_64bits_withSeed(node.data(), node.size(), 17));

  auto hex = [](const std::string& canonical) {
    char out[17];
    std::snprintf(out, sizeof out, "%016llx",
                  static_cast<unsigned long long>(XXH3_64bits(canonical.data(), canonical.size())));
    return std::string(out);
  };
  EXPECT_EQ(Ring::build({"10.0.0.8:8000", "10.0.0.7:8000"})->checksum(),
            hex("ringd-ring-v2\nmode=default\nppn=1024\n13:10.0.0.7:8000*1\n13:10.0.0.8:8000*1\n"));
  EXPECT_EQ(Ring::build_weighted({{"10.0.0.7:8000", 3}}, Options{.mode = Mode::kMaglev})->checksum(),
            hex("ringd-ring-v2\nmode=maglev\ntable=65537\n13:10.0.0.7:8000*3\n"));
  EXPECT_EQ(Ring::build({"10.0.0.7:8000"}, Options{.mode = Mode::kNginx})->checksum(),
            hex("ringd-ring-v2\nmode=nginx\n13:10.0.0.7:8000*1\n"));
}

TEST(RingTest, MatchesIndependentModel) {
  const std::vector<std::string> nodes = make_nodes(25);
  auto ring = Ring::build(nodes, Options{40});
  const auto points = model_points(nodes, 40);
  ASSERT_EQ(ring->point_count(), points.size());
  for (int i = 0; i < 10000; ++i) {
    ASSERT_EQ(*ring->owner(key_of(i)), model_owner(points, hash_key(key_of(i)))) << key_of(i);
  }
}

// Exact boundaries, pinned to the real point hashes: a hash equal to a point's
// hash belongs to that point, one above it to the next point, and anything past
// the last point wraps to the first.
TEST(RingTest, ExactBoundaryHashes) {
  const std::vector<std::string> nodes = {"10.0.0.1:8000", "10.0.0.2:8000", "10.0.0.3:8000"};
  auto ring = Ring::build(nodes, Options{4});
  const auto points = model_points(nodes, 4);
  ASSERT_EQ(points.size(), 12u);
  for (std::size_t i = 0; i + 1 < points.size(); ++i) {
    ASSERT_LT(points[i].hash, points[i + 1].hash) << "no collisions expected among 12 points";
  }

  for (std::size_t i = 0; i < points.size(); ++i) {
    const ModelPoint& p = points[i];
    const ModelPoint& next = points[(i + 1) % points.size()];
    EXPECT_EQ(*ring->owner_of_hash(p.hash), p.node) << "hash equal to point " << i;
    EXPECT_EQ(*ring->owner_of_hash(p.hash - 1), p.node) << "hash just below point " << i;
    EXPECT_EQ(*ring->owner_of_hash(p.hash + 1), next.node) << "hash just above point " << i;
  }
  EXPECT_EQ(*ring->owner_of_hash(0), points.front().node);
  EXPECT_EQ(*ring->owner_of_hash(points.back().hash + 1), points.front().node);
  EXPECT_EQ(*ring->owner_of_hash(std::numeric_limits<std::uint64_t>::max()), points.front().node);

  // owner(key) is owner_of_hash(hash_key(key)).
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(ring->owner(key_of(i)), ring->owner_of_hash(hash_key(key_of(i))));
  }
}

TEST(RingTest, OwnersAreDistinctAndStartWithOwner) {
  auto ring = Ring::build(make_nodes(10));
  for (int i = 0; i < 1000; ++i) {
    const std::string key = key_of(i);
    for (std::size_t n : {1u, 2u, 3u, 9u}) {
      auto owners = ring->owners(key, n);
      ASSERT_EQ(owners.size(), n);
      EXPECT_EQ(owners[0], ring->owner(key));
      std::set<const std::string*> distinct(owners.begin(), owners.end());
      EXPECT_EQ(distinct.size(), n) << key;
    }
  }
  EXPECT_TRUE(ring->owners("k", 0).empty());
}

TEST(RingTest, OwnersWithLargeNGivesEveryNode) {
  const std::vector<std::string> nodes = make_nodes(10);
  auto ring = Ring::build(nodes);
  for (std::size_t n : {10u, 11u, 1000u}) {
    auto owners = ring->owners("/documents/abc", n);
    ASSERT_EQ(owners.size(), 10u);
    std::set<std::string> got;
    for (const std::string* o : owners) got.insert(*o);
    EXPECT_EQ(got, std::set<std::string>(nodes.begin(), nodes.end()));
  }
}

// owners() is the failover order: when the owner leaves, the key goes to the
// second entry, and the rest of the list keeps its order.
TEST(RingTest, OwnersListIsTheFailoverOrder) {
  const std::vector<std::string> nodes = make_nodes(8);
  auto ring = Ring::build(nodes);
  for (int i = 0; i < 500; ++i) {
    const std::string key = key_of(i);
    auto owners = ring->owners(key, 4);
    std::vector<std::string> without = nodes;
    without.erase(std::find(without.begin(), without.end(), *owners[0]));
    auto smaller = Ring::build(without);
    auto after = smaller->owners(key, 3);
    ASSERT_EQ(after.size(), 3u);
    for (std::size_t j = 0; j < 3; ++j) EXPECT_EQ(*after[j], *owners[j + 1]) << key;
  }
}

TEST(RingTest, OwnerPointerLivesAsLongAsTheRing) {
  auto ring = Ring::build(make_nodes(3));
  const std::string* owner = ring->owner("k");
  ASSERT_NE(owner, nullptr);
  // The pointer refers into the ring's own node list.
  EXPECT_GE(owner, ring->nodes().data());
  EXPECT_LT(owner, ring->nodes().data() + ring->nodes().size());
}

}  // namespace
}  // namespace ringd::ring
