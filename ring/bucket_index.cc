#include "ring/bucket_index.h"
#include "ring/bucket_indexer.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <stdexcept>

namespace ringd::ring {

namespace {

template <typename T>
BigArray<T> uninitialized(std::size_t n) {
  return make_big_array<T>(n);
}

}  // namespace

PointIndex PointIndex::with_capacity(std::size_t size, std::uint32_t max_node) {
  if (size > (std::size_t{1} << 31)) throw std::length_error("ring: more than 2^31 points");
  PointIndex index;
  index.size_ = static_cast<std::uint32_t>(size);
  // Without lines about one to two points per bucket (2^b <= size <
  // 2^(b+1)); with lines four to eight. A ring under kMinLinePoints
  // (64 nodes at the default 1,024 points) fits in L2 with its index,
  // where lines would save little and be most of an agent's resident memory.
  const bool lines = size >= kMinLinePoints && max_node < kFallback;
  const unsigned bits = static_cast<unsigned>(std::max(1, static_cast<int>(std::bit_width(size)) - (lines ? 3 : 1)));
  index.shift_ = 64 - bits;
  index.hashes_ = uninitialized<std::uint64_t>(size);
  index.nodes_ = uninitialized<std::uint32_t>(size);
  index.first_ = uninitialized<std::uint32_t>((std::size_t{1} << bits) + 1);
  if (lines) index.lines_ = uninitialized<Line>(std::size_t{1} << bits);
  return index;
}

std::size_t PointIndex::find_binary(std::uint64_t h) const {
  // Branch-free lower_bound: the answer lies in [base, base + len]; each step
  // halves len with a conditional move instead of a mispredicted jump.
  const std::uint64_t* base = hashes_.get();
  std::size_t len = size_;
  while (len > 1) {
    const std::size_t half = len / 2;
    base = (base[half - 1] < h) ? base + half : base;
    len -= half;
  }
  const std::size_t i = static_cast<std::size_t>(base - hashes_.get()) + (*base < h ? 1 : 0);
  return i == size_ ? 0 : i;
}

std::size_t PointIndex::memory_bytes() const {
  const std::size_t buckets = std::size_t{1} << (64 - shift_);
  return std::size_t{size_} * (sizeof(std::uint64_t) + sizeof(std::uint32_t)) +
         (buckets + 1) * sizeof(std::uint32_t) + (lines_ ? buckets * sizeof(Line) : 0);
}

}  // namespace ringd::ring
