// tests/unit/ring_maglev_test.cc — the Maglev table: sizes, fill, balance,
// weights.
#include "ring/maglev.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace ringd::ring {
namespace {

std::vector<std::string> make_nodes(int count) {
  std::vector<std::string> nodes;
  for (int i = 1; i <= count; ++i) nodes.push_back("10.0.0." + std::to_string(i) + ":8000");
  return nodes;
}

std::vector<std::size_t> slot_counts(const std::vector<std::uint32_t>& table, std::size_t nodes) {
  std::vector<std::size_t> counts(nodes, 0);
  for (std::uint32_t n : table) ++counts.at(n);
  return counts;
}

TEST(RingMaglevTest, Primes) {
  EXPECT_TRUE(is_prime(2));
  EXPECT_TRUE(is_prime(65537));
  EXPECT_TRUE(is_prime(131071));
  EXPECT_FALSE(is_prime(1));
  EXPECT_FALSE(is_prime(65535));
  EXPECT_FALSE(is_prime(65539 * 3));
}

TEST(RingMaglevTest, TableSizeGrowsInDoublingsForManyNodes) {
  EXPECT_EQ(maglev_table_size(65537, 0), 65537u);
  EXPECT_EQ(maglev_table_size(65537, 655), 65537u);  // 100 slots each
  const std::uint32_t grown = maglev_table_size(65537, 656);
  EXPECT_TRUE(is_prime(grown));
  EXPECT_GE(grown, 131074u);
  EXPECT_LT(grown, 131074u + 200);
  EXPECT_EQ(maglev_table_size(65537, 1310), grown) << "same size across the whole doubling";
  EXPECT_EQ(maglev_table_size(7, 0), 7u);
  EXPECT_THROW(maglev_table_size(65536, 10), std::invalid_argument);
  EXPECT_THROW(maglev_table_size(2, 0), std::invalid_argument);
}

TEST(RingMaglevTest, EqualWeightsFillEvenly) {
  for (int n : {1, 3, 10, 100, 1000}) {
    const auto nodes = make_nodes(n);
    const auto table = build_maglev_table(nodes, std::vector<std::uint32_t>(nodes.size(), 1), 65537);
    ASSERT_EQ(table.size(), 65537u);
    const auto counts = slot_counts(table, nodes.size());
    const auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
    EXPECT_LE(*hi - *lo, 1u) << n << " nodes: every node holds floor or ceil of M/N slots";
  }
}

TEST(RingMaglevTest, WeightsAreProportional) {
  const auto nodes = make_nodes(4);
  const auto table = build_maglev_table(nodes, {1, 2, 3, 4}, 65537);
  const auto counts = slot_counts(table, nodes.size());
  for (std::size_t i = 0; i < 4; ++i) {
    const double ideal = 65537.0 * static_cast<double>(i + 1) / 10.0;
    EXPECT_NEAR(static_cast<double>(counts[i]), ideal, 4.0) << i;
  }
}

TEST(RingMaglevTest, SlotIsUniformRangeReduction) {
  EXPECT_EQ(maglev_slot(0, 65537), 0u);
  EXPECT_EQ(maglev_slot(~0ULL, 65537), 65536u);
  EXPECT_EQ(maglev_slot(1ULL << 63, 65537), 32768u);
}

}  // namespace
}  // namespace ringd::ring
