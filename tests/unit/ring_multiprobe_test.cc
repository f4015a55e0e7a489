// tests/unit/ring_multiprobe_test.cc — the multiprobe mode (ring/multiprobe.h)
// against a brute-force model of its rule, what moves on a change, its
// failover order, and its balance at 10,000 endpoints.
#include "ring/multiprobe.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "ring/ring.h"

namespace ringd::ring {
namespace {

const Options kMultiProbe{.mode = Mode::kMultiProbe};

std::vector<std::string> make_nodes(int count, int set = 0) {
  std::vector<std::string> nodes;
  for (int i = 0; i < count; ++i) {
    nodes.push_back("10." + std::to_string(set) + "." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) +
                    ":8080");
  }
  return nodes;
}

// The rule with no index: every point of every node, every probe.
std::string brute_force_owner(const Ring& ring, std::uint64_t hash) {
  std::uint64_t best_distance = 0;
  std::string best;
  bool found = false;
  for (std::uint32_t i = 0; i < ring.options().probes; ++i) {
    const std::uint64_t q = probe_position(hash, i);
    // The probe's point: the nearest at or after q; equal positions go to
    // the node first in name order (nodes() is sorted).
    std::uint64_t d_min = 0;
    std::string owner;
    bool any = false;
    for (std::size_t n = 0; n < ring.nodes().size(); ++n) {
      for (std::uint32_t w = 0; w < ring.weights()[n]; ++w) {
        const std::uint64_t p = hash_point(ring.nodes()[n], w);
        const std::uint64_t d = p - q;
        if (!any || d < d_min) {
          any = true;
          d_min = d;
          owner = ring.nodes()[n];
        }
      }
    }
    if (!found || d_min < best_distance) {
      found = true;
      best_distance = d_min;
      best = owner;
    }
  }
  return best;
}

TEST(RingMultiProbeTest, IndexAgreesWithBruteForce) {
  for (int n : {1, 2, 7, 60}) {
    std::vector<WeightedNode> nodes;
    for (const auto& name : make_nodes(n)) nodes.push_back({name, static_cast<std::uint32_t>(1 + nodes.size() % 3)});
    auto ring = Ring::build_weighted(nodes, kMultiProbe);
    std::mt19937_64 rng(static_cast<unsigned>(n));
    for (int i = 0; i < 3000; ++i) {
      const std::uint64_t h = rng();
      ASSERT_EQ(*ring->owner_of_hash(h), brute_force_owner(*ring, h)) << "n=" << n << " h=" << h;
      ASSERT_EQ(ring->owner_of_hash(h), ring->owner_of_hash_binary_search(h));
    }
    // Probes that land exactly on, just before and just after a point.
    for (std::size_t k = 0; k < ring->nodes().size(); ++k) {
      const std::uint64_t p = hash_point(ring->nodes()[k], 0);
      for (std::uint64_t h : {p - 1, p, p + 1}) ASSERT_EQ(*ring->owner_of_hash(h), brute_force_owner(*ring, h));
    }
  }
}

TEST(RingMultiProbeTest, OneNodeOwnsEverything) {
  auto ring = Ring::build({"10.0.0.1:80"}, kMultiProbe);
  EXPECT_EQ(ring->point_count(), 1u);
  EXPECT_EQ(*ring->owner("a"), "10.0.0.1:80");
  EXPECT_EQ(ring->shares(), std::vector<double>{1.0});
}

// A join moves keys only to the new node; a leave moves only the leaving
// node's keys, each to the second entry of its old failover list.
TEST(RingMultiProbeTest, ChangesMoveOnlyTheChangedNodesKeys) {
  const auto nodes = make_nodes(200);
  auto base = Ring::build(nodes, kMultiProbe);
  auto grown_nodes = nodes;
  grown_nodes.push_back("10.99.0.1:8080");
  auto grown = Ring::build(grown_nodes, kMultiProbe);
  auto shrunk_nodes = nodes;
  const std::string gone = shrunk_nodes[17];
  shrunk_nodes.erase(shrunk_nodes.begin() + 17);
  auto shrunk = Ring::build(shrunk_nodes, kMultiProbe);
  int to_new = 0, from_gone = 0;
  for (int i = 0; i < 100000; ++i) {
    const std::string key = "/k/" + std::to_string(i);
    const std::string before = *base->owner(key);
    const std::string after_join = *grown->owner(key);
    if (after_join != before) {
      ASSERT_EQ(after_join, "10.99.0.1:8080") << key;
      ++to_new;
    }
    const std::string after_leave = *shrunk->owner(key);
    if (before == gone) {
      ++from_gone;
      const auto failover = base->owners(key, 2);
      ASSERT_EQ(failover.size(), 2u);
      ASSERT_EQ(after_leave, *failover[1]) << key;
    } else {
      ASSERT_EQ(after_leave, before) << key;
    }
  }
  EXPECT_GT(to_new, 0);
  EXPECT_GT(from_gone, 0);
}

// The issue 15 target: the busiest of 10,000 equal endpoints holds at most
// 1.10x the mean share; the structures stay under a megabyte.
TEST(RingMultiProbeTest, TenThousandEndpointsStayBalancedAndSmall) {
  auto ring = Ring::build(make_nodes(10000), kMultiProbe);
  const auto& shares = ring->shares();
  double sum = 0, peak = 0;
  for (double s : shares) {
    sum += s;
    peak = std::max(peak, s);
  }
  EXPECT_NEAR(sum, 1.0, 1e-6);
  EXPECT_LE(peak * 10000, 1.10);
  EXPECT_LT(ring->memory_bytes(), std::size_t{1} << 20);
}

TEST(RingMultiProbeTest, ProbeCountIsPartOfTheRing) {
  const auto nodes = make_nodes(20);
  auto a = Ring::build(nodes, kMultiProbe);
  auto b = Ring::build(nodes, Options{.mode = Mode::kMultiProbe, .probes = 5});
  EXPECT_NE(a->checksum(), b->checksum());
  EXPECT_EQ(b->options().probes, 5u);
  EXPECT_EQ(Ring::build(nodes, Options{.mode = Mode::kMultiProbe, .probes = 0})->options().probes, 1u);
  EXPECT_EQ(Ring::build(nodes, Options{.mode = Mode::kMultiProbe, .probes = 1000})->options().probes,
            kMaxMultiProbeProbes);
}

TEST(RingMultiProbeTest, FoldedProbeIsProbePosition) {
  std::mt19937_64 rng(15);
  for (int t = 0; t < 10000; ++t) {
    const std::uint64_t h = t < 3 ? std::uint64_t{0} - static_cast<std::uint64_t>(t) : rng();
    for (std::uint32_t i = 0; i < kMaxMultiProbeProbes; ++i) {
      const std::uint64_t x = (multiprobe_detail::fold(h) ^ multiprobe_detail::probe_xor(i)) * multiprobe_detail::kProbeMul;
      ASSERT_EQ(x ^ (x >> 32), probe_position(h, i)) << h << " " << i;
    }
  }
}

// A key hash whose probe i lands on q: probe_position undone step by step.
std::uint64_t hash_probing(std::uint64_t q, std::uint32_t i) {
  std::uint64_t inverse = multiprobe_detail::kProbeMul;  // Newton: each step doubles the good bits
  for (int k = 0; k < 6; ++k) inverse *= 2 - multiprobe_detail::kProbeMul * inverse;
  std::uint64_t x = (q ^ (q >> 32)) * inverse;
  x ^= x >> 32;
  return x ^ (std::uint64_t{i} * 0x9e3779b97f4a7c15ULL);
}

// Probes on, just before and just after every point, and on the ends of the
// circle: the bucket index's edge cases (the first point of a bucket, the
// walk past it, the wrap past the last point), for the unrolled default
// probe count and the generic loop.
TEST(RingMultiProbeTest, IndexAgreesWithBinarySearchAtEveryPoint) {
  for (std::uint32_t probes : {kDefaultMultiProbeProbes, 1u, 4u}) {
    for (int n : {1, 3, 500}) {
      std::vector<WeightedNode> nodes;
      for (const auto& name : make_nodes(n)) nodes.push_back({name, static_cast<std::uint32_t>(1 + nodes.size() % 3)});
      std::vector<std::uint64_t> qs = {0, 1, ~std::uint64_t{0}, ~std::uint64_t{0} - 1};
      for (std::size_t k = 0; k < nodes.size(); ++k) {
        for (std::uint32_t w = 0; w < nodes[k].weight; ++w) {
          const std::uint64_t p = hash_point(nodes[k].endpoint, w);
          qs.insert(qs.end(), {p - 1, p, p + 1});
        }
      }
      auto ring = Ring::build_weighted(nodes, Options{.mode = Mode::kMultiProbe, .probes = probes});
      for (std::uint64_t q : qs) {
        for (std::uint32_t i = 0; i < probes; ++i) {
          const std::uint64_t h = hash_probing(q, i);
          ASSERT_EQ(probe_position(h, i), q);
          ASSERT_EQ(ring->owner_of_hash(h), ring->owner_of_hash_binary_search(h)) << "n=" << n << " q=" << q;
          if (n < 500) {
            ASSERT_EQ(*ring->owner_of_hash(h), brute_force_owner(*ring, h)) << "n=" << n << " q=" << q;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace ringd::ring
