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
// The line table: one cache line per lookup
// ----------------------------------------
// The scan above reads first_[t] and then the points' hashes and nodes: three
// dependent reads from three arrays of a 12 MB structure. When node indexes
// fit in 16 bits, owner() reads one 64-byte line instead. The buckets are
// coarser (4 to 8 points each, b = bit_width(points) - 3), and line t holds
//
//   fp[0..15]    a 16-bit fingerprint of each point of bucket t, in order:
//                the 16 hash bits just below the bucket's b bits; unused
//                slots (and always slot 15) hold 0xffff
//   node[0..15]  the node of each of those points; after the last point,
//                the node of the first point of the following buckets (the
//                answer for a hash past every point of bucket t, wrapping);
//                kFallback in slot 15 when the bucket has more than 15
//                points
//
// For hash h in bucket t with fingerprint f, let k = the number of slots
// with fp < f (fingerprints are sorted, so those are the first k). Those
// points are all below h; if fp[k] > f, point k is above h and owns it:
// node[k]. If fp[k] == f the fingerprint cannot decide (a point may sit just
// above or below h, chance about 1 in 65,536) and if node[k] is kFallback
// the answer lies past the 15th point: both go to the exact scan over the
// full hashes. So owner() equals nodes[find(h)] for every h.
//
// Worked example with 4-bit fingerprints for readability: bucket points
// with fingerprints 3, 9, 9 and nodes a, b, c, the next bucket's first point
// owned by d. fp = [3, 9, 9, 15, ...], node = [a, b, c, d, d, ...].
//   f = 2  -> k = 0, fp[0] = 3 > 2     -> a
//   f = 5  -> k = 1, fp[1] = 9 > 5     -> b
//   f = 9  -> k = 1, fp[1] = 9 == 9    -> exact scan (b if h <= b's hash...)
//   f = 12 -> k = 3, fp[3] = 15 > 12   -> d (past the bucket's points)
//
// Building: a two-level most-significant-digit radix sort
// (PointIndex::Builder, bucket_build.cc). Level 1 scatters points by their
// top bits into a few hundred runs as they are generated; level 2
// counting-sorts each run, in cache, by the next bits (under one point per
// digit value) straight into place, and an insertion sort orders what is
// left. Every pass is stable, hence ties keep input order. Each run, once
// sorted and still in cache, streams through an Indexer (bucket_indexer.h),
// which writes first_ and the lines. merged() (bucket_merge.cc) makes a join
// or leave from the previous index without sorting at all. The arrays are
// big_array.h's: huge pages from 2 MB up, reused from the last ring.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "ring/big_array.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

  // The same sort fed point by point as the points are generated, with no
  // PointList in between (bucket_build.cc): add() drops each point into one
  // of a few hundred runs by its top bits (the sort's first pass, done
  // while the hash is still in a register), finish() sorts each run in
  // cache straight into the index's arrays and indexes it. Ties keep the
  // order of add() calls. `expected` sizes the runs (the exact count is
  // best; any count works); `max_node` is the largest node index added.
  class Builder {
   public:
    Builder(std::size_t expected, std::uint32_t max_node);
    void add(std::uint64_t h, std::uint32_t node) {
      Run& run = runs_[static_cast<std::size_t>(h >> run_shift_)];
      if (run.next < run.end) [[likely]] {
        points_[run.next++] = Point{h, node};
      } else {
        spill(h, node);
      }
    }
    PointIndex finish();

   private:
    struct Run {
      std::uint32_t next;  // next free slot in points_
      std::uint32_t end;   // one past the run's last slot
    };
    struct Spilled {
      std::uint32_t run;
      std::uint32_t node;
      std::uint64_t hash;
    };
    void spill(std::uint64_t h, std::uint32_t node);

    unsigned run_shift_;
    std::size_t capacity_;  // slots per run
    std::uint32_t max_node_;
    std::vector<Run> runs_;
    // One array of (hash, node) records, not two arrays: half as many
    // write streams for the scatter to keep in L1.
    struct Point {
      std::uint64_t hash;
      std::uint64_t node;
    };
    BigArray<Point> points_;        // run r at [r * capacity_, ...)
    std::vector<Spilled> spilled_;  // points past their run's capacity
  };

  // A new index from this one without re-sorting (bucket_merge.cc): points
  // whose node maps to kDropped in `remap` go, the others take node
  // remap[node] (which must keep node order), and `added` is merged in,
  // ties ordered by node. Equal to build() over the resulting point set when
  // build()'s input is in node order, as Ring's is. Linear in the points.
  // `removed` must hold exactly the points of the dropped nodes (their old
  // node indexes): they are located through the index, and the points
  // between them and the added ones are copied as blocks, and the bucket
  // index and lines patched around the changes, so a join or leave costs
  // little more than copying the arrays.
  static constexpr std::uint32_t kDropped = 0xffffffffu;
  PointIndex merged(const std::vector<std::uint32_t>& remap, const PointList& added,
                    const PointList& removed) const;

  // The first point with hash >= h, wrapping to 0 past the last. Requires
  // size() > 0.
  std::size_t find(std::uint64_t h) const {
    const std::size_t bucket = static_cast<std::size_t>(h >> shift_);
    std::uint32_t i = first_[bucket];
    const std::uint32_t end = first_[bucket + 1];
    while (i < end && hashes_[i] < h) ++i;
    return i == size_ ? 0 : i;
  }
  // node(find(h)), through the line table when there is one. Requires
  // size() > 0.
  std::uint32_t owner(std::uint64_t h) const {
    if (lines_) {
      const Line& line = lines_[h >> shift_];
      const auto f = static_cast<std::uint16_t>(h >> (shift_ - kFingerprintBits));
      const unsigned k = count_below(line, f);
      const std::uint16_t n = line.node[k];
      if (line.fp[k] != f && n != kFallback) [[likely]]
        return n;
    }
    return nodes_[find(h)];
  }
  // The same answer by a plain (branch-free) binary search over all points:
  // the reference find() is tested against, and the benchmark's baseline.
  std::size_t find_binary(std::uint64_t h) const;

  std::size_t size() const { return size_; }
  std::uint64_t hash(std::size_t i) const { return hashes_[i]; }
  std::uint32_t node(std::size_t i) const { return nodes_[i]; }
  unsigned bucket_bits() const { return 64 - shift_; }
  // Whether owner() reads the line table (node indexes below kFallback).
  bool has_lines() const { return lines_ != nullptr; }
  // Heap bytes held (points, index and lines).
  std::size_t memory_bytes() const;

 private:
  static constexpr unsigned kFingerprintBits = 16;
  static constexpr unsigned kLineSlots = 16;
  static constexpr std::uint16_t kFallback = 0xffff;
  static constexpr std::size_t kMinLinePoints = std::size_t{1} << 16;
  struct alignas(64) Line {
    std::uint16_t fp[kLineSlots];
    std::uint16_t node[kLineSlots];
  };

  // The number of fingerprints in `line` below f (they are sorted, so the
  // first k). Slot 15 is always 0xffff, so the result is at most 15.
  static unsigned count_below(const Line& line, std::uint16_t f) {
#if defined(__SSE2__)
    // SSE2 has only signed 16-bit compares: flip the top bits first.
    const __m128i bias = _mm_set1_epi16(static_cast<short>(0x8000));
    const __m128i key = _mm_xor_si128(_mm_set1_epi16(static_cast<short>(f)), bias);
    const __m128i lo = _mm_xor_si128(_mm_load_si128(reinterpret_cast<const __m128i*>(line.fp)), bias);
    const __m128i hi = _mm_xor_si128(_mm_load_si128(reinterpret_cast<const __m128i*>(line.fp + 8)), bias);
    const __m128i below = _mm_packs_epi16(_mm_cmplt_epi16(lo, key), _mm_cmplt_epi16(hi, key));
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(below));
    return static_cast<unsigned>(std::countr_one(mask));
#else
    unsigned k = 0;
    for (unsigned i = 0; i < kLineSlots; ++i) k += line.fp[i] < f;
    return k;
#endif
  }

  // Allocates for `size` points whose largest node index is `max_node`, and
  // sets the bucket count for it (coarser buckets when there are lines).
  static PointIndex with_capacity(std::size_t size, std::uint32_t max_node);
  // Fills first_ and the lines as the sorted points are placed
  // (bucket_indexer.h).
  class Indexer;
  // The first point with hash >= h, size() past the last (no wrap).
  std::uint32_t lower_bound(std::uint64_t h) const {
    std::uint32_t i = first_[static_cast<std::size_t>(h >> shift_)];
    while (i < size_ && hashes_[i] < h) ++i;
    return i;
  }
  // Writes line t from the sorted points and first_.
  void write_line(std::size_t t);
  // merged() by one pass over every point: the general way.
  PointIndex merged_by_scan(const std::vector<std::uint32_t>& remap, const std::vector<std::uint64_t>& add_hashes,
                            const std::vector<std::uint32_t>& add_nodes, std::uint32_t max_node) const;

  std::uint32_t size_ = 0;
  unsigned shift_ = 63;  // 64 - bucket bits
  // Plain arrays, not vectors: filled by the sort, never value-initialised
  // (big_array.h: huge pages when large).
  BigArray<std::uint64_t> hashes_;
  BigArray<std::uint32_t> nodes_;
  BigArray<std::uint32_t> first_;  // 2^b + 1 entries
  BigArray<Line> lines_;           // 2^b lines, or none
};

}  // namespace ringd::ring
