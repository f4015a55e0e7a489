// ring/bucket_build.cc — sorting a ring's points into a PointIndex.
//
// A most-significant-digit radix sort in two levels, fused with generating
// the points and with indexing them:
//
//   add()     level 1: the top r bits of the hash pick one of 2^r runs
//             (about 4,096 points each), and the point is appended to that
//             run's slot range in a buffer of (hash, node) records. Hashes are uniform, so each run
//             gets its expected count give or take a few percent; a run's
//             range has room for its mean plus six standard deviations, and
//             a point past that (skewed input, tests) is spilled to a side
//             list that finish() reads after the run's buffer, so the order
//             of add() calls is kept either way.
//   finish()  level 2, run by run, while the run fits in L1/L2: a counting
//             sort by the next bits (about one point per digit value) moves
//             the run from the buffer straight to its final place in the
//             index's arrays (the digits are fine enough that a digit value
//             holds a quarter to half a point: fewer mispredicted branches
//             below), an insertion sort orders what a digit value holds
//             more than once, and the run streams through the Indexer
//             (bucket_indexer.h), which writes first_ and the line table.
//
// Every step is stable, so equal hashes keep the order they were added in,
// which Ring makes node (name) order. Nothing is hashed twice and no array
// is read more than twice: about 14 ns a point at 1,000 x 1,024 points, of
// which hashing is about 2 (bench/ring_bench BM_Build; 17 ns with a separate
// point list and scatter pass).
#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

#include "ring/bucket_index.h"
#include "ring/bucket_indexer.h"

namespace ringd::ring {

namespace {

constexpr unsigned kTargetRunBits = 12;  // ~4,096 points a run: 48 KB in L2
constexpr unsigned kMaxRunBits = 10;

}  // namespace

PointIndex::Builder::Builder(std::size_t expected, std::uint32_t max_node) : max_node_(max_node) {
  if (expected > (std::size_t{1} << 31)) throw std::length_error("ring: more than 2^31 points");
  const int width = static_cast<int>(std::bit_width(expected));
  const auto run_bits =
      static_cast<unsigned>(std::clamp(width - static_cast<int>(kTargetRunBits), 1, static_cast<int>(kMaxRunBits)));
  run_shift_ = 64 - run_bits;
  const std::size_t runs = std::size_t{1} << run_bits;
  const double mean = static_cast<double>(expected) / static_cast<double>(runs);
  capacity_ = static_cast<std::size_t>(mean + 6.0 * std::sqrt(mean)) + 16;
  runs_.resize(runs);
  for (std::size_t r = 0; r < runs; ++r) {
    runs_[r] = Run{static_cast<std::uint32_t>(r * capacity_), static_cast<std::uint32_t>((r + 1) * capacity_)};
  }
  points_ = make_big_array<Point>(runs * capacity_);
}

void PointIndex::Builder::spill(std::uint64_t h, std::uint32_t node) {
  spilled_.push_back(Spilled{static_cast<std::uint32_t>(h >> run_shift_), node, h});
}

PointIndex PointIndex::Builder::finish() {
  const std::size_t runs = runs_.size();
  // Spilled points grouped by run, in the order they came.
  std::stable_sort(spilled_.begin(), spilled_.end(),
                   [](const Spilled& a, const Spilled& b) { return a.run < b.run; });
  std::size_t total = spilled_.size();
  for (std::size_t r = 0; r < runs; ++r) total += runs_[r].next - r * capacity_;
  PointIndex index = with_capacity(total, max_node_);
  Indexer indexer(index);
  if (total == 0) {
    indexer.finish(0);
    return index;
  }

  // Level 2 digits: the bits after the run's, down to a quarter to half a
  // point per digit value (and never coarser than the line buckets).
  const unsigned run_bits = 64 - run_shift_;
  const unsigned fine_bits = std::max({64 - index.shift_, static_cast<unsigned>(std::bit_width(total)) + 1, run_bits});
  const unsigned digit_bits = fine_bits - run_bits;
  const unsigned digit_shift = 64 - fine_bits;
  const std::uint64_t digit_mask = (std::uint64_t{1} << digit_bits) - 1;
  std::vector<std::uint32_t> next((std::size_t{1} << digit_bits) + 1);

  std::uint64_t* out_hashes = index.hashes_.get();
  std::uint32_t* out_nodes = index.nodes_.get();
  std::uint32_t lo = 0;  // the run's first place in the index
  auto spill = spilled_.begin();
  for (std::size_t r = 0; r < runs; ++r) {
    const Point* points = points_.get() + r * capacity_;
    const auto count = static_cast<std::uint32_t>(runs_[r].next - r * capacity_);
    const auto spill_end = std::find_if(spill, spilled_.end(), [r](const Spilled& s) { return s.run != r; });
    const auto hi = static_cast<std::uint32_t>(lo + count + (spill_end - spill));

    // Counting sort by the digit, buffer then spill, into [lo, hi).
    std::fill(next.begin(), next.end(), 0u);
    for (std::uint32_t j = 0; j < count; ++j) ++next[((points[j].hash >> digit_shift) & digit_mask) + 1];
    for (auto s = spill; s != spill_end; ++s) ++next[((s->hash >> digit_shift) & digit_mask) + 1];
    next[0] = lo;
    for (std::size_t d = 1; d < next.size(); ++d) next[d] += next[d - 1];
    for (std::uint32_t j = 0; j < count; ++j) {
      const std::uint64_t h = points[j].hash;
      const std::uint32_t at = next[(h >> digit_shift) & digit_mask]++;
      out_hashes[at] = h;
      out_nodes[at] = static_cast<std::uint32_t>(points[j].node);
    }
    for (auto s = spill; s != spill_end; ++s) {
      const std::uint32_t at = next[(s->hash >> digit_shift) & digit_mask]++;
      out_hashes[at] = s->hash;
      out_nodes[at] = s->node;
    }
    spill = spill_end;

    // Within a digit value: insertion sort (stable; the values before it are
    // already in order, so a point never moves past its digit's start).
    for (std::uint32_t a = lo + 1; a < hi; ++a) {
      const std::uint64_t h = out_hashes[a];
      if (out_hashes[a - 1] <= h) continue;
      const std::uint32_t v = out_nodes[a];
      std::uint32_t c = a;
      do {
        out_hashes[c] = out_hashes[c - 1];
        out_nodes[c] = out_nodes[c - 1];
        --c;
      } while (c > lo && out_hashes[c - 1] > h);
      out_hashes[c] = h;
      out_nodes[c] = v;
    }
    for (std::uint32_t i = lo; i < hi; ++i) indexer.add(i, out_hashes[i], out_nodes[i]);
    lo = hi;
  }
  indexer.finish(out_nodes[0]);
  return index;
}

PointIndex PointIndex::build(const PointList& points) {
  std::uint32_t max_node = 0;
  for (std::uint32_t n : points.nodes) max_node = std::max(max_node, n);
  Builder builder(points.hashes.size(), max_node);
  for (std::size_t i = 0; i < points.hashes.size(); ++i) builder.add(points.hashes[i], points.nodes[i]);
  return builder.finish();
}

}  // namespace ringd::ring
