// tests/unit/ring_big_array_test.cc — big arrays: alignment, contents, and
// the cache of released blocks that lets a rebuild reuse the last ring's
// memory instead of faulting in fresh pages.
#include "ring/big_array.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace ringd::ring {
namespace {

constexpr std::size_t kMB = std::size_t{1} << 20;

struct alignas(64) CacheLine {
  std::uint64_t words[8];
};

TEST(RingBigArrayTest, SmallArraysAreAlignedAndWritable) {
  release_cached_big_arrays();
  for (std::size_t n : {0u, 1u, 7u, 1000u, 100000u}) {
    auto a = make_big_array<std::uint64_t>(n);
    ASSERT_NE(a.get(), nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.get()) % alignof(std::uint64_t), 0u) << n;
    for (std::size_t i = 0; i < n; ++i) a[i] = i;
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(a[i], i);
    auto lines = make_big_array<CacheLine>(n);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(lines.get()) % 64, 0u) << n;
    for (std::size_t i = 0; i < n; ++i) lines[i].words[7] = i;
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(lines[i].words[7], i);
  }
}

TEST(RingBigArrayTest, LargeArraysSitOnHugePageBoundaries) {
  release_cached_big_arrays();
  const std::size_t n = 5 * kMB / sizeof(std::uint32_t) + 3;
  auto a = make_big_array<std::uint32_t>(n);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.get()) % (2 * kMB), 0u);
  std::memset(a.get(), 0xab, n * sizeof(std::uint32_t));  // every byte is ours
  EXPECT_EQ(a[n - 1], 0xababababu);
}

TEST(RingBigArrayTest, AReleasedBlockIsReusedForASimilarSize) {
  release_cached_big_arrays();
  void* first = nullptr;
  {
    auto a = make_big_array<std::uint64_t>(8 * kMB / 8);
    first = a.get();
  }
  EXPECT_EQ(cached_big_array_bytes(), 8 * kMB);
  auto b = make_big_array<std::uint64_t>(8 * kMB / 8 - 1000);  // rounds to the same 8 MB
  EXPECT_EQ(b.get(), first) << "the cached block is taken, not a fresh mapping";
  EXPECT_EQ(cached_big_array_bytes(), 0u);
}

TEST(RingBigArrayTest, ABlockMuchLargerThanNeededIsNotUsed) {
  release_cached_big_arrays();
  void* big = nullptr;
  {
    auto a = make_big_array<std::uint8_t>(64 * kMB);
    big = a.get();
  }
  auto small = make_big_array<std::uint8_t>(4 * kMB);  // would waste 60 MB of it
  EXPECT_NE(small.get(), big);
  EXPECT_EQ(cached_big_array_bytes(), 64 * kMB) << "the big block stays cached";
  release_cached_big_arrays();
}

TEST(RingBigArrayTest, AReusedLargerBlockGoesBackWhole) {
  release_cached_big_arrays();
  { auto a = make_big_array<std::uint8_t>(12 * kMB); }
  EXPECT_EQ(cached_big_array_bytes(), 12 * kMB);
  {
    auto b = make_big_array<std::uint8_t>(10 * kMB);  // takes the 12 MB block (a sixth wasted)
    EXPECT_EQ(cached_big_array_bytes(), 0u);
    b[10 * kMB - 1] = 1;
  }
  EXPECT_EQ(cached_big_array_bytes(), 12 * kMB) << "released at its real size";
  release_cached_big_arrays();
}

TEST(RingBigArrayTest, TheCacheIsBounded) {
  release_cached_big_arrays();
  {
    std::vector<BigArray<std::uint8_t>> arrays;
    for (int i = 0; i < 20; ++i) arrays.push_back(make_big_array<std::uint8_t>(4 * kMB));
    EXPECT_EQ(cached_big_array_bytes(), 0u);
  }
  // Twenty 4 MB blocks released: at most eight stay.
  EXPECT_EQ(cached_big_array_bytes(), 8 * 4 * kMB);
  {
    auto huge = make_big_array<std::uint8_t>(300 * kMB);
    huge[300 * kMB - 1] = 1;
  }
  // One block over the byte limit (256 MB) does not stay either.
  EXPECT_LE(cached_big_array_bytes(), 256 * kMB);
  release_cached_big_arrays();
  EXPECT_EQ(cached_big_array_bytes(), 0u);
}

}  // namespace
}  // namespace ringd::ring
