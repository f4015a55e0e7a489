// ring/bucket_merge.cc — updating a sorted point set without sorting it again.
//
// When one endpoint joins or leaves, all other points stay where they are:
// the new ring is the old sorted array minus the leaver's points plus the
// joiner's (sorted on their own, a few thousand), merged in one sequential
// pass, and the bucket index is rebuilt by one more pass. No hashing of the
// unchanged endpoints and no scattered writes, which is what dominates a full
// build (bucket_index.cc) at a million points.
#include <algorithm>
#include <bit>
#include <numeric>
#include <stdexcept>

#include "ring/bucket_index.h"

namespace ringd::ring {

PointIndex PointIndex::with_capacity(std::size_t size) {
  if (size > (std::size_t{1} << 31)) throw std::length_error("ring: more than 2^31 points");
  PointIndex index;
  index.size_ = static_cast<std::uint32_t>(size);
  const unsigned bits = std::max(1, static_cast<int>(std::bit_width(size)) - 1);
  index.shift_ = 64 - bits;
  const std::size_t n = size == 0 ? 1 : size;
  index.hashes_ = std::make_unique_for_overwrite<std::uint64_t[]>(n);
  index.nodes_ = std::make_unique_for_overwrite<std::uint32_t[]>(n);
  index.first_ = std::make_unique_for_overwrite<std::uint32_t[]>((std::size_t{1} << bits) + 1);
  return index;
}

void PointIndex::index_sorted() {
  const std::size_t buckets = std::size_t{1} << (64 - shift_);
  std::size_t next = 0;  // first bucket whose entry is not yet written
  for (std::uint32_t i = 0; i < size_; ++i) {
    const std::size_t bucket = static_cast<std::size_t>(hashes_[i] >> shift_);
    while (next <= bucket) first_[next++] = i;
  }
  while (next <= buckets) first_[next++] = size_;
}

PointIndex PointIndex::merged(const std::vector<std::uint32_t>& remap, const PointList& added) const {
  // The added points in (hash, node) order.
  std::vector<std::uint32_t> order(added.hashes.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return added.hashes[a] != added.hashes[b] ? added.hashes[a] < added.hashes[b] : added.nodes[a] < added.nodes[b];
  });

  std::size_t kept = 0;
  for (std::uint32_t i = 0; i < size_; ++i) kept += remap[nodes_[i]] != kDropped;
  PointIndex out = with_capacity(kept + added.hashes.size());

  std::uint32_t at = 0;
  std::size_t a = 0;
  for (std::uint32_t i = 0; i < size_; ++i) {
    const std::uint32_t node = remap[nodes_[i]];
    if (node == kDropped) continue;
    const std::uint64_t h = hashes_[i];
    // Added points that sort before this one: smaller hash, or equal hash
    // and smaller node.
    while (a < order.size() && (added.hashes[order[a]] < h ||
                                (added.hashes[order[a]] == h && added.nodes[order[a]] < node))) {
      out.hashes_[at] = added.hashes[order[a]];
      out.nodes_[at++] = added.nodes[order[a++]];
    }
    out.hashes_[at] = h;
    out.nodes_[at++] = node;
  }
  for (; a < order.size(); ++a) {
    out.hashes_[at] = added.hashes[order[a]];
    out.nodes_[at++] = added.nodes[order[a]];
  }
  out.index_sorted();
  return out;
}

}  // namespace ringd::ring
