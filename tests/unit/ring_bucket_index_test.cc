// tests/unit/ring_bucket_index_test.cc — the bucket index returns exactly
// what a binary search returns: compared with std::lower_bound (plus the
// wrap) on millions of keys, on exact point hashes and their neighbours, on
// duplicates, and at every size from a single point up. owner() (the line
// table with its fingerprints) is held to the same answer, including the
// cases it must hand to the exact scan: fingerprint ties, buckets of more
// than 15 points, and fingerprint 0xffff.
#include "ring/bucket_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace ringd::ring {
namespace {

// What the index must answer: first point >= h, wrapping to 0.
std::size_t reference(const std::vector<std::uint64_t>& sorted, std::uint64_t h) {
  const auto it = std::lower_bound(sorted.begin(), sorted.end(), h);
  return it == sorted.end() ? 0 : static_cast<std::size_t>(it - sorted.begin());
}

struct Built {
  PointIndex index;
  std::vector<std::uint64_t> sorted;  // the reference copy
};

// Node of point i: i itself, or i % node_count (a ring's shape: few nodes,
// many points each, which is when the index has a line table).
Built build(const std::vector<std::uint64_t>& hashes, std::uint32_t node_count = 0) {
  PointList list;
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    const auto node = static_cast<std::uint32_t>(node_count == 0 ? i : i % node_count);
    list.add(hashes[i], node);
  }
  Built b{PointIndex::build(list), hashes};
  std::sort(b.sorted.begin(), b.sorted.end());
  return b;
}

void check_queries(const Built& b, const std::vector<std::uint64_t>& queries) {
  for (std::uint64_t h : queries) {
    const std::size_t want = reference(b.sorted, h);
    ASSERT_EQ(b.index.find(h), want) << "h=" << h << " points=" << b.sorted.size();
    ASSERT_EQ(b.index.find_binary(h), want) << "h=" << h << " points=" << b.sorted.size();
    ASSERT_EQ(b.index.owner(h), b.index.node(want)) << "h=" << h << " points=" << b.sorted.size();
  }
}

std::vector<std::uint64_t> boundary_queries(const std::vector<std::uint64_t>& sorted) {
  std::vector<std::uint64_t> q = {0, 1, std::numeric_limits<std::uint64_t>::max()};
  for (std::uint64_t p : sorted) {
    q.push_back(p);
    q.push_back(p - 1);
    q.push_back(p + 1);
  }
  return q;
}

TEST(RingBucketIndexTest, SortsStablyAndKeepsNodes) {
  // Two points tie at 500: they keep their input order (node 1 before 3).
  PointList list;
  list.add(900, 0);
  list.add(500, 1);
  list.add(100, 2);
  list.add(500, 3);
  const PointIndex index = PointIndex::build(list);
  ASSERT_EQ(index.size(), 4u);
  const std::uint64_t hashes[] = {100, 500, 500, 900};
  const std::uint32_t nodes[] = {2, 1, 3, 0};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(index.hash(i), hashes[i]);
    EXPECT_EQ(index.node(i), nodes[i]);
  }
  EXPECT_EQ(index.find(500), 1u) << "a tie resolves to the first of the tied points";
  EXPECT_EQ(index.find(901), 0u) << "past the last point wraps";
}

TEST(RingBucketIndexTest, EverySmallSizeMatchesBinarySearch) {
  std::mt19937_64 rng(42);
  for (std::size_t n = 1; n <= 300; ++n) {
    std::vector<std::uint64_t> hashes(n);
    for (auto& h : hashes) h = rng();
    const Built b = build(hashes);
    check_queries(b, boundary_queries(b.sorted));
    std::vector<std::uint64_t> random(2000);
    for (auto& h : random) h = rng();
    check_queries(b, random);
  }
}

// Clustered and duplicated hashes: many points in one bucket, empty buckets
// around them, 32-bit values in the top half (the nginx and ketama modes).
TEST(RingBucketIndexTest, SkewedAndDuplicatedPoints) {
  std::mt19937_64 rng(7);
  std::vector<std::uint64_t> hashes;
  for (int i = 0; i < 5000; ++i) hashes.push_back(0x1234000000000000ULL + (rng() & 0xffff));  // one dense cluster
  for (int i = 0; i < 500; ++i) hashes.push_back(hashes[static_cast<std::size_t>(i)]);      // exact duplicates
  for (int i = 0; i < 3000; ++i) hashes.push_back((rng() & 0xffffffffULL) << 32);           // 32-bit points
  hashes.push_back(0);
  hashes.push_back(std::numeric_limits<std::uint64_t>::max());
  const Built b = build(hashes);
  check_queries(b, boundary_queries(b.sorted));
  std::vector<std::uint64_t> random(200000);
  for (auto& h : random) h = (rng() & 1) ? rng() : 0x1234000000000000ULL + (rng() & 0x1ffff);
  check_queries(b, random);
}

// Builder fed more points than it expected, all in one run: most go past
// the run's buffer to the spill list, and ties still keep the order they
// were added in (node 0, 1, 2, ... at every hash).
TEST(RingBucketIndexTest, BuilderKeepsOrderPastARunsCapacity) {
  PointIndex::Builder builder(64, 3999);
  for (std::uint32_t node = 0; node < 4000; ++node) builder.add(0x8000000000000000ULL + node % 7, node);
  const PointIndex index = builder.finish();
  ASSERT_EQ(index.size(), 4000u);
  for (std::size_t i = 1; i < index.size(); ++i) {
    ASSERT_LE(index.hash(i - 1), index.hash(i)) << i;
    if (index.hash(i - 1) == index.hash(i)) {
      ASSERT_LT(index.node(i - 1), index.node(i)) << i;
    }
  }
  EXPECT_EQ(index.node(index.find(0x8000000000000003ULL)), 3u);
}

std::vector<std::uint64_t> random_hashes(std::mt19937_64& rng, std::size_t n) {
  std::vector<std::uint64_t> out(n);
  for (auto& h : out) h = rng();
  return out;
}

// `count` random queries, then every point and its neighbours.
void check_random_and_boundaries(const Built& b, std::mt19937_64& rng, std::size_t count) {
  check_queries(b, random_hashes(rng, count));
  check_queries(b, boundary_queries(b.sorted));
}

// The check: millions of keys against a ring-sized point set.
TEST(RingBucketIndexTest, MillionsOfKeysOnARingSizedSet) {
  std::mt19937_64 rng(2024);
  const Built b = build(random_hashes(rng, 1000 * 160 + 17));  // not a power of two
  check_random_and_boundaries(b, rng, 4'000'000);
  // More nodes than 16 bits hold: no line table, buckets of one to two
  // points each.
  EXPECT_FALSE(b.index.has_lines());
  EXPECT_EQ(std::size_t{1} << b.index.bucket_bits(), std::size_t{1} << 17);
}

// The ring the agent runs by default: 1,000 nodes x 1,024 points, looked up
// through the line table (buckets of four to eight points).
TEST(RingBucketIndexTest, LineTableOnMillionsOfKeys) {
  std::mt19937_64 rng(4096);
  const Built b = build(random_hashes(rng, 1000 * 1024), 1000);
  ASSERT_TRUE(b.index.has_lines());
  EXPECT_EQ(std::size_t{1} << b.index.bucket_bits(), std::size_t{1} << 17);
  check_random_and_boundaries(b, rng, 4'000'000);
}

// A ring of fewer than kMinLinePoints points (30 nodes x 1,024) has no line
// table: it fits in L2 with its index, and lines would be most of an idle
// agent's memory. Its answers are still binary search's.
TEST(RingBucketIndexTest, SmallRingHasNoLines) {
  std::mt19937_64 rng(30);
  const Built b = build(random_hashes(rng, 30 * 1024), 30);
  EXPECT_FALSE(b.index.has_lines());
  check_random_and_boundaries(b, rng, 200'000);
}

// Points placed so the fingerprints cannot decide: runs of points spaced
// 2^s apart for every s (some runs share a bucket and a fingerprint, some
// overflow a bucket's 15 slots, some straddle buckets), points whose low
// bits are all ones (fingerprint 0xffff), and exact duplicates.
TEST(RingBucketIndexTest, LineTableFallbacks) {
  std::mt19937_64 rng(99);
  for (std::uint32_t node_count : {1u, 3u, 1000u, 65534u}) {
    // Enough points for a line table (PointIndex::kMinLinePoints).
    std::vector<std::uint64_t> hashes(70000);
    for (auto& h : hashes) h = rng();
    for (unsigned s = 0; s < 64; s += 3) {
      const std::uint64_t base = rng();
      for (std::uint64_t j = 0; j < 40; ++j) hashes.push_back(base + (j << s));
    }
    for (unsigned s = 0; s < 64; ++s) {
      const std::uint64_t ones = s == 0 ? 0 : (~std::uint64_t{0} >> (64 - s));
      hashes.push_back(rng() | ones);
      hashes.push_back(hashes.back());
    }
    const Built b = build(hashes, node_count);
    ASSERT_TRUE(b.index.has_lines());
    check_queries(b, boundary_queries(b.sorted));
    std::vector<std::uint64_t> random(100000);
    for (auto& h : random) {
      const std::uint64_t near = b.sorted[rng() % b.sorted.size()];
      h = (rng() & 1) ? rng() : near + (rng() & 0xffff) - 0x8000;
    }
    check_queries(b, random);
  }
}

// merged() (a leave and a join at once, ranks shifting, ties with existing
// points) gives the very index build() gives for the resulting set, with a
// line table (50 nodes) and without one (70,000 nodes).
TEST(RingBucketIndexTest, MergedEqualsBuild) {
  std::mt19937_64 rng(11);
  for (std::uint32_t count : {50u, 70000u}) {
    const std::uint32_t per = count > 65535 ? 2 : 1400;  // 70,000 points either way
    std::vector<std::vector<std::uint64_t>> points(count + 1, std::vector<std::uint64_t>(per));
    for (auto& node : points) {
      for (auto& h : node) h = rng();
    }
    const std::uint32_t joiner = count;  // id of the new node
    points[joiner][0] = points[5][0];                   // ties with an existing point
    points[joiner][1] = points[count - 1][per - 1];

    PointList old_list;
    for (std::uint32_t n = 0; n < count; ++n) {
      for (std::uint64_t h : points[n]) old_list.add(h, n);
    }
    const PointIndex old_index = PointIndex::build(old_list);
    ASSERT_EQ(old_index.has_lines(), count < 65535);

    // New ranks: node `gone` leaves, the joiner sorts at rank `at`.
    const std::uint32_t gone = count / 3, at = count / 2;
    std::vector<std::uint32_t> ranked;  // ids in new rank order
    for (std::uint32_t n = 0; n < count; ++n) {
      if (n != gone) ranked.push_back(n);
    }
    ranked.insert(ranked.begin() + at, joiner);
    std::vector<std::uint32_t> remap(count, PointIndex::kDropped);
    for (std::uint32_t k = 0; k < ranked.size(); ++k) {
      if (ranked[k] != joiner) remap[ranked[k]] = k;
    }
    PointList added, removed, full;
    for (std::uint64_t h : points[joiner]) added.add(h, at);
    for (std::uint64_t h : points[gone]) removed.add(h, gone);
    for (std::uint32_t k = 0; k < ranked.size(); ++k) {
      for (std::uint64_t h : points[ranked[k]]) full.add(h, k);
    }

    const PointIndex merged = old_index.merged(remap, added, removed);
    const PointIndex built = PointIndex::build(full);
    ASSERT_EQ(merged.size(), built.size());
    ASSERT_EQ(merged.bucket_bits(), built.bucket_bits());
    for (std::size_t i = 0; i < built.size(); ++i) {
      ASSERT_EQ(merged.hash(i), built.hash(i)) << i;
      ASSERT_EQ(merged.node(i), built.node(i)) << i;
    }
    std::vector<std::uint64_t> queries = {0, std::numeric_limits<std::uint64_t>::max()};
    for (std::size_t i = 0; i < built.size(); ++i) {
      for (std::uint64_t d : {std::uint64_t{0}, std::uint64_t{1}, ~std::uint64_t{0}}) queries.push_back(built.hash(i) + d);
    }
    for (int i = 0; i < 200000; ++i) queries.push_back(rng());
    for (std::uint64_t h : queries) {
      ASSERT_EQ(merged.find(h), built.find(h)) << h;
      ASSERT_EQ(merged.owner(h), built.owner(h)) << h;
      ASSERT_EQ(merged.owner(h), merged.node(merged.find_binary(h))) << h;
    }
  }
}

}  // namespace
}  // namespace ringd::ring
