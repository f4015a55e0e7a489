// ring/bucket_merge.cc — updating a sorted point set without sorting it again.
//
// When one endpoint joins or leaves, all other points stay where they are:
// the new ring is the old sorted array minus the leaver's points plus the
// joiner's (sorted on their own, a thousand or so). merged() finds where
// each of those few thousand changes falls (through the old index), then
// copies the runs of points between them as blocks, renumbering nodes on the
// way (node indexes are ranks in name order, so a join or leave shifts the
// ones after it). The bucket index moves by the count of changes before each
// bucket, and the line table is the old one renumbered, with only the lines
// of changed buckets (and the empty ones just before, whose "next node" may
// have changed) written again. No hashing of the unchanged endpoints, no
// scattered writes and no per-point branches: a rebuild costs about as much
// as copying the arrays once.
//
// Worked example (hashes as small numbers, nodes as letters): old points
// 10a 20b 30c 40b, b leaves, d joins with 25d and 45d.
//   removed points located at old positions 1 and 3; added ones insert
//   before old position 2 (25) and at the end (45);
//   copy [0,1) -> 10a; skip 1; copy [2,2) -> nothing; insert 25d;
//   copy [2,3) -> 30c; skip 3; insert 45d -> 10a 25d 30c 45d.
#include <algorithm>
#include <bit>
#include <cstring>
#include <numeric>
#include <stdexcept>

#include "ring/bucket_index.h"
#include "ring/bucket_indexer.h"

namespace ringd::ring {

namespace {

// A renumbering of the kept nodes as a few steps: new = old + the sum of
// delta[j] over the steps with old >= at[j]. A join or leave is one step
// (+1 or -1 from the changed name's rank on), so the arrays are renumbered
// with vector compares and adds instead of a table load per point.
struct Steps {
  static constexpr std::size_t kMax = 4;
  std::uint32_t at[kMax];
  std::int32_t delta[kMax];
  std::size_t count = 0;
  std::int32_t base = 0;  // added to every node (steps are at 1 or above)

  // False when the renumbering needs more than kMax steps.
  bool from(const std::vector<std::uint32_t>& remap, std::uint32_t dropped) {
    std::int64_t current = 0;  // new - old so far
    for (std::uint32_t x = 0; x < remap.size(); ++x) {
      if (remap[x] == dropped) continue;
      const std::int64_t d = std::int64_t{remap[x]} - x;
      if (d == current) continue;
      if (x == 0) {  // the first node moves: a step at 0 applies to all
        base = static_cast<std::int32_t>(d);
        current = d;
        continue;
      }
      if (count == kMax) return false;
      at[count] = x;
      delta[count++] = static_cast<std::int32_t>(d - current);
      current = d;
    }
    return true;
  }

  void apply(const std::uint32_t* from, std::uint32_t* to, std::size_t n) const {
    std::size_t k = 0;
#if defined(__SSE2__)
    // Node indexes are below 2^31: signed compares are exact.
    __m128i limit[kMax], add[kMax];
    for (std::size_t j = 0; j < count; ++j) {
      limit[j] = _mm_set1_epi32(static_cast<int>(at[j]) - 1);
      add[j] = _mm_set1_epi32(delta[j]);
    }
    for (; k + 4 <= n; k += 4) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(from + k));
      __m128i r = _mm_add_epi32(v, _mm_set1_epi32(base));
      for (std::size_t j = 0; j < count; ++j) r = _mm_add_epi32(r, _mm_and_si128(_mm_cmpgt_epi32(v, limit[j]), add[j]));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(to + k), r);
    }
#endif
    for (; k < n; ++k) to[k] = map(from[k]);
  }

  std::uint32_t map(std::uint32_t x) const {
    std::int64_t r = std::int64_t{x} + base;
    for (std::size_t j = 0; j < count; ++j) r += x >= at[j] ? delta[j] : 0;
    return static_cast<std::uint32_t>(r);
  }

  // The 16 node slots of a line; `keep` (kFallback) stays as it is.
  void apply16(const std::uint16_t* from, std::uint16_t* to, std::uint16_t keep) const {
#if defined(__SSE2__)
    const __m128i bias = _mm_set1_epi16(static_cast<short>(0x8000));
    const __m128i fixed = _mm_set1_epi16(static_cast<short>(keep));
    for (std::size_t k = 0; k < 16; k += 8) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(from + k));
      const __m128i biased = _mm_xor_si128(v, bias);
      __m128i r = _mm_add_epi16(v, _mm_set1_epi16(static_cast<short>(base)));
      for (std::size_t j = 0; j < count; ++j) {
        const __m128i limit = _mm_set1_epi16(static_cast<short>((at[j] - 1) ^ 0x8000));
        const __m128i add = _mm_set1_epi16(static_cast<short>(delta[j]));
        r = _mm_add_epi16(r, _mm_and_si128(_mm_cmpgt_epi16(biased, limit), add));
      }
      const __m128i same = _mm_cmpeq_epi16(v, fixed);
      r = _mm_or_si128(_mm_and_si128(same, v), _mm_andnot_si128(same, r));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(to + k), r);
    }
#else
    for (std::size_t k = 0; k < 16; ++k) to[k] = from[k] == keep ? keep : static_cast<std::uint16_t>(map(from[k]));
#endif
  }
};

}  // namespace

void PointIndex::write_line(std::size_t t) {
  const unsigned fp_shift = shift_ - kFingerprintBits;
  const std::uint32_t lo = first_[t];
  const std::uint32_t hi = first_[t + 1];
  const std::uint32_t stored = std::min<std::uint32_t>(hi - lo, kLineSlots - 1);
  Line line;
  for (std::uint32_t i = 0; i < stored; ++i) {
    line.fp[i] = static_cast<std::uint16_t>(hashes_[lo + i] >> fp_shift);
    line.node[i] = static_cast<std::uint16_t>(nodes_[lo + i]);
  }
  const std::uint16_t after =
      hi - lo > stored ? kFallback : static_cast<std::uint16_t>(nodes_[hi < size_ ? hi : 0]);
  for (std::uint32_t i = stored; i < kLineSlots; ++i) {
    line.fp[i] = 0xffff;
    line.node[i] = after;
  }
  lines_[t] = line;
}

PointIndex PointIndex::merged_by_scan(const std::vector<std::uint32_t>& remap,
                                      const std::vector<std::uint64_t>& add_hashes,
                                      const std::vector<std::uint32_t>& add_nodes, std::uint32_t max_node) const {
  std::size_t kept = 0;
  for (std::uint32_t i = 0; i < size_; ++i) kept += remap[nodes_[i]] != kDropped;
  PointIndex out = with_capacity(kept + add_hashes.size(), max_node);
  Indexer indexer(out);
  std::uint32_t at = 0;
  auto place = [&](std::uint64_t h, std::uint32_t node) {
    out.hashes_[at] = h;
    out.nodes_[at] = node;
    indexer.add(at++, h, node);
  };
  std::size_t a = 0;
  for (std::uint32_t i = 0; i < size_; ++i) {
    const std::uint32_t node = remap[nodes_[i]];
    if (node == kDropped) continue;
    const std::uint64_t h = hashes_[i];
    // Added points that sort before this one: smaller hash, or equal hash
    // and smaller node.
    while (a < add_hashes.size() && (add_hashes[a] < h || (add_hashes[a] == h && add_nodes[a] < node))) {
      place(add_hashes[a], add_nodes[a]);
      ++a;
    }
    place(h, node);
  }
  for (; a < add_hashes.size(); ++a) place(add_hashes[a], add_nodes[a]);
  indexer.finish(at > 0 ? out.nodes_[0] : 0);
  return out;
}

PointIndex PointIndex::merged(const std::vector<std::uint32_t>& remap, const PointList& added,
                              const PointList& removed) const {
  // The added points in (hash, node) order.
  const std::size_t add_count = added.hashes.size();
  std::vector<std::uint32_t> order(add_count);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return added.hashes[a] != added.hashes[b] ? added.hashes[a] < added.hashes[b] : added.nodes[a] < added.nodes[b];
  });
  std::vector<std::uint64_t> add_hashes(add_count);
  std::vector<std::uint32_t> add_nodes(add_count);
  for (std::size_t a = 0; a < add_count; ++a) {
    add_hashes[a] = added.hashes[order[a]];
    add_nodes[a] = added.nodes[order[a]];
  }
  std::uint32_t max_node = 0;
  for (std::uint32_t n : remap) max_node = std::max(max_node, n == kDropped ? 0 : n);
  for (std::uint32_t n : add_nodes) max_node = std::max(max_node, n);
  if (size_ == 0 || removed.hashes.size() >= size_) return merged_by_scan(remap, add_hashes, add_nodes, max_node);

  // Old positions of the removed points (any mismatch: the general way).
  std::vector<std::uint32_t> gone;
  gone.reserve(removed.hashes.size());
  for (std::size_t r = 0; r < removed.hashes.size(); ++r) {
    const std::uint64_t h = removed.hashes[r];
    std::uint32_t i = lower_bound(h);
    while (i < size_ && hashes_[i] == h && nodes_[i] != removed.nodes[r]) ++i;
    if (i == size_ || hashes_[i] != h || remap[nodes_[i]] != kDropped) {
      return merged_by_scan(remap, add_hashes, add_nodes, max_node);
    }
    gone.push_back(i);
  }
  std::sort(gone.begin(), gone.end());
  if (std::adjacent_find(gone.begin(), gone.end()) != gone.end()) {
    return merged_by_scan(remap, add_hashes, add_nodes, max_node);  // two at one place: duplicates in `removed`
  }
  // Old position each added point goes before.
  std::vector<std::uint32_t> insert(add_count);
  for (std::size_t a = 0; a < add_count; ++a) {
    const std::uint64_t h = add_hashes[a];
    std::uint32_t i = lower_bound(h);
    while (i < size_ && hashes_[i] == h && (remap[nodes_[i]] == kDropped || remap[nodes_[i]] < add_nodes[a])) ++i;
    insert[a] = i;
  }

  const std::size_t total = size_ - gone.size() + add_count;
  PointIndex out = with_capacity(total, max_node);
  if (total == 0) {
    Indexer(out).finish(0);
    return out;
  }

  // Copy the runs between changes.
  std::uint32_t at = 0, i = 0;
  std::size_t g = 0, a = 0;
  const std::uint32_t* map = remap.data();
  Steps steps;
  const bool stepped = steps.from(remap, kDropped);
  while (true) {
    const std::uint32_t next = std::min(g < gone.size() ? gone[g] : size_, a < add_count ? insert[a] : size_);
    const std::uint32_t run = next - i;
    std::memcpy(out.hashes_.get() + at, hashes_.get() + i, run * sizeof(std::uint64_t));
    std::uint32_t* to = out.nodes_.get() + at;
    const std::uint32_t* from = nodes_.get() + i;
    if (stepped) {
      steps.apply(from, to, run);
    } else {
      for (std::uint32_t k = 0; k < run; ++k) to[k] = map[from[k]];
    }
    at += run;
    i = next;
    if (a < add_count && insert[a] == i) {  // insertions go before old point i
      out.hashes_[at] = add_hashes[a];
      out.nodes_[at++] = add_nodes[a++];
    } else if (g < gone.size() && gone[g] == i) {
      ++i;
      ++g;
    } else {
      break;
    }
  }

  const std::size_t buckets = std::size_t{1} << (64 - out.shift_);
  if (out.shift_ != shift_ || (out.lines_ == nullptr) != (lines_ == nullptr)) {
    // The bucket count changed (the point count crossed a power of two):
    // index the new points from scratch.
    Indexer indexer(out);
    for (std::uint32_t k = 0; k < out.size_; ++k) indexer.add(k, out.hashes_[k], out.nodes_[k]);
    indexer.finish(out.nodes_[0]);
    return out;
  }

  // first_: each bucket's entry moves by the changes in earlier buckets.
  // Changes as (bucket, +1 insert / -1 remove), in bucket order.
  std::vector<std::pair<std::size_t, int>> changes;
  changes.reserve(gone.size() + add_count);
  for (std::uint32_t p : gone) changes.emplace_back(static_cast<std::size_t>(hashes_[p] >> shift_), -1);
  for (std::uint64_t h : add_hashes) changes.emplace_back(static_cast<std::size_t>(h >> shift_), +1);
  std::sort(changes.begin(), changes.end());
  {
    std::int64_t delta = 0;
    std::size_t c = 0, t = 0;
    while (t <= buckets) {
      const std::size_t until = c < changes.size() ? changes[c].first + 1 : buckets + 1;
      for (; t < until; ++t) out.first_[t] = static_cast<std::uint32_t>(first_[t] + delta);
      for (; c < changes.size() && changes[c].first + 1 == t; ++c) delta += changes[c].second;
    }
  }

  if (lines_ != nullptr) {
    // The old lines renumbered (kFallback stays), then the changed buckets'
    // lines written again, each with the empty buckets before it back to the
    // previous non-empty one, wrapping (their "next node" may have changed).
    std::vector<std::uint16_t> line_map;
    if (!stepped) {
      line_map.resize(std::size_t{kFallback} + 1);
      for (std::size_t n = 0; n <= kFallback; ++n) {
        line_map[n] = n < remap.size() && map[n] != kDropped ? static_cast<std::uint16_t>(map[n]) : kFallback;
      }
    }
    const Line* src = lines_.get();
    Line* dst = out.lines_.get();
    for (std::size_t t = 0; t < buckets; ++t) {
      Line line = src[t];
      if (stepped) {
        steps.apply16(src[t].node, line.node, kFallback);
      } else {
        for (unsigned k = 0; k < kLineSlots; ++k) line.node[k] = line_map[line.node[k]];
      }
      dst[t] = line;
    }
    std::size_t last = buckets;  // the last bucket written
    for (const auto& change : changes) {
      std::size_t t = change.first;
      if (t == last) continue;
      out.write_line(t);
      last = t;
      for (std::size_t steps = 1; steps < buckets; ++steps) {
        t = t == 0 ? buckets - 1 : t - 1;
        out.write_line(t);
        if (out.first_[t] != out.first_[t + 1]) break;
      }
    }
  }
  return out;
}

}  // namespace ringd::ring
