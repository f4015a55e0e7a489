#include "ring/bucket_index.h"
#include "ring/bucket_indexer.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <stdexcept>

namespace ringd::ring {

namespace {

constexpr unsigned kMaxLevel1Bits = 9;  // 512 runs: the scatter stays cache-friendly

template <typename T>
std::unique_ptr<T[]> uninitialized(std::size_t n) {
  return std::make_unique_for_overwrite<T[]>(n == 0 ? 1 : n);
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

PointIndex PointIndex::build(const PointList& points) {
  const std::size_t total = points.hashes.size();
  std::uint32_t max_node = 0;
  for (std::uint32_t n : points.nodes) max_node = std::max(max_node, n);
  PointIndex index = with_capacity(total, max_node);
  // The sort's digits go two bits finer than line buckets (one to two
  // points per sub-bucket), so the insertion sort below has almost nothing
  // left to do.
  const unsigned sort_bits = std::max(64 - index.shift_, static_cast<unsigned>(std::max(1, static_cast<int>(std::bit_width(total)) - 1)));
  const unsigned sort_shift = 64 - sort_bits;
  const unsigned level1_bits = std::min(kMaxLevel1Bits, (sort_bits + 1) / 2);
  const unsigned level2_bits = sort_bits - level1_bits;
  const unsigned level1_shift = 64 - level1_bits;
  const std::size_t runs = std::size_t{1} << level1_bits;
  std::uint64_t* hashes = index.hashes_.get();
  std::uint32_t* nodes = index.nodes_.get();
  Indexer indexer(index);

  // Level 1: count by the top bits, then scatter (stable) into runs.
  std::vector<std::uint32_t> run_start(runs + 1, 0);
  for (std::uint64_t h : points.hashes) ++run_start[(h >> level1_shift) + 1];
  std::uint32_t largest_run = 0;
  for (std::size_t r = 0; r < runs; ++r) {
    largest_run = std::max(largest_run, run_start[r + 1]);
    run_start[r + 1] += run_start[r];
  }
  {
    std::vector<std::uint32_t> fill(run_start.begin(), run_start.end() - 1);
    for (std::size_t j = 0; j < total; ++j) {
      const std::uint32_t at = fill[points.hashes[j] >> level1_shift]++;
      hashes[at] = points.hashes[j];
      nodes[at] = points.nodes[j];
    }
  }

  // Level 2, run by run: counting sort by the next digit, then insertion
  // sort, which only ever moves a point within its sub-bucket because those
  // are already in order; then the run, still in cache, goes to the
  // Indexer.
  const std::size_t sub = std::size_t{1} << level2_bits;
  const std::uint64_t sub_mask = sub - 1;
  std::vector<std::uint32_t> count(sub + 1);
  auto scratch_hashes = uninitialized<std::uint64_t>(largest_run);
  auto scratch_nodes = uninitialized<std::uint32_t>(largest_run);
  for (std::size_t r = 0; r < runs; ++r) {
    const std::uint32_t lo = run_start[r];
    const std::uint32_t hi = run_start[r + 1];
    std::fill(count.begin(), count.end(), 0);
    for (std::uint32_t j = lo; j < hi; ++j) ++count[((hashes[j] >> sort_shift) & sub_mask) + 1];
    std::uint32_t running = lo;
    for (std::size_t u = 0; u < sub; ++u) {
      running += count[u];
      count[u] = running;  // becomes the fill position of sub-bucket u
    }
    const std::uint32_t n = hi - lo;
    std::memcpy(scratch_hashes.get(), hashes + lo, n * sizeof(std::uint64_t));
    std::memcpy(scratch_nodes.get(), nodes + lo, n * sizeof(std::uint32_t));
    for (std::uint32_t j = 0; j < n; ++j) {
      const std::uint64_t h = scratch_hashes[j];
      const std::uint32_t at = count[(h >> sort_shift) & sub_mask]++;
      hashes[at] = h;
      nodes[at] = scratch_nodes[j];
    }
    for (std::uint32_t a = lo + 1; a < hi; ++a) {
      const std::uint64_t h = hashes[a];
      if (hashes[a - 1] <= h) continue;
      const std::uint32_t v = nodes[a];
      std::uint32_t c = a;
      do {
        hashes[c] = hashes[c - 1];
        nodes[c] = nodes[c - 1];
        --c;
      } while (c > lo && hashes[c - 1] > h);
      hashes[c] = h;
      nodes[c] = v;
    }
    for (std::uint32_t i = lo; i < hi; ++i) indexer.add(i, hashes[i], nodes[i]);
  }
  indexer.finish(index.size_ > 0 ? nodes[0] : 0);
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
