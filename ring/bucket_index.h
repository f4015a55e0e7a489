// ring/bucket_index.h — sorted ring points with an O(1) expected lookup.
//
// A PointIndex holds the ring's points sorted by hash (ties in the order they
// were added, which every caller makes the node order) and answers "the first
// point at or after hash h, wrapping to point 0": exactly std::lower_bound
// over the sorted hashes, in expected constant time.
//
// The bucket index, with a small worked example
// ---------------------------------------------
// Split the 64-bit hash space into 2^b equal buckets by the top b bits of a
// hash, and record for every bucket t the index of the first point whose hash
// is >= t's lower edge (t << (64 - b)); bucket 2^b records the point count.
// With 6 points and b = 2 (4 buckets), showing hashes as 8-bit numbers:
//
//   point:   0    1    2    3    4    5         bucket:  0   1   2   3   (4)
//   hash:    10   70   75   130  200  250       first:   0   2   3   4   (6)
//
// A lookup of h = 72: bucket t = 72 >> 6 = 1, so the answer lies in
// [first[1], first[2]] = [2, 3]: every point before first[1] is below the
// bucket's lower edge (<= h), and point first[2] is at or above the next
// bucket's edge (> h). A forward scan from 2 while hash < 72 stops at once:
// point 2 (75). h = 76 scans 2 -> 3 (130). h = 251: bucket 3 = [4, 6], the
// scan runs off the end to 6, which wraps to point 0. Choosing 2^b about
// equal to the point count keeps the scan to one or two points on average,
// so a lookup is one index read plus a read of one or two adjacent hashes,
// instead of log2(points) dependent reads.
//
// Building sorts the points with a two-level most-significant-digit radix
// sort whose second level is exactly the bucket index's digit, so the index
// falls out of the sort's counts: level 1 scatters by the top bits into a few
// hundred runs (cache-friendly), level 2 counting-sorts each run by the next
// bits into its index buckets, and an insertion sort orders the one or two
// points in each bucket. Every pass is stable, hence ties keep input order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace ringd::ring {

// Points in generation order; PointIndex::build sorts them.
struct PointList {
  std::vector<std::uint64_t> hashes;
  std::vector<std::uint32_t> nodes;  // node index of each point
  void reserve(std::size_t n) {
    hashes.reserve(n);
    nodes.reserve(n);
  }
  void add(std::uint64_t hash, std::uint32_t node) {
    hashes.push_back(hash);
    nodes.push_back(node);
  }
};

class PointIndex {
 public:
  PointIndex() = default;
  // Sorts by hash (stable) and builds the index. Throws std::length_error
  // beyond 2^31 points.
  static PointIndex build(const PointList& points);

  // A new index from this one without re-sorting (bucket_merge.cc): points
  // whose node maps to kDropped in `remap` go, the others take node
  // remap[node] (which must keep node order), and `added` is merged in,
  // ties ordered by node. Equal to build() over the resulting point set when
  // build()'s input is in node order, as Ring's is. Linear in the points.
  static constexpr std::uint32_t kDropped = 0xffffffffu;
  PointIndex merged(const std::vector<std::uint32_t>& remap, const PointList& added) const;

  // The first point with hash >= h, wrapping to 0 past the last. Requires
  // size() > 0.
  std::size_t find(std::uint64_t h) const {
    const std::size_t bucket = static_cast<std::size_t>(h >> shift_);
    std::uint32_t i = first_[bucket];
    const std::uint32_t end = first_[bucket + 1];
    while (i < end && hashes_[i] < h) ++i;
    return i == size_ ? 0 : i;
  }
  // The same answer by a plain (branch-free) binary search over all points:
  // the reference find() is tested against, and the benchmark's baseline.
  std::size_t find_binary(std::uint64_t h) const;

  std::size_t size() const { return size_; }
  std::uint64_t hash(std::size_t i) const { return hashes_[i]; }
  std::uint32_t node(std::size_t i) const { return nodes_[i]; }
  unsigned bucket_bits() const { return 64 - shift_; }
  // Heap bytes held (points plus index).
  std::size_t memory_bytes() const;

 private:
  std::uint32_t size_ = 0;
  // Allocates for `size` points and sets the bucket count for it.
  static PointIndex with_capacity(std::size_t size);
  // Fills first_ from the sorted hashes in one pass.
  void index_sorted();

  unsigned shift_ = 63;  // 64 - bucket bits
  // Plain arrays, not vectors: filled by the sort, never value-initialised.
  std::unique_ptr<std::uint64_t[]> hashes_;
  std::unique_ptr<std::uint32_t[]> nodes_;
  std::unique_ptr<std::uint32_t[]> first_;  // 2^b + 1 entries
};

}  // namespace ringd::ring
