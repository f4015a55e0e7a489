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

PointIndex PointIndex::merged(const std::vector<std::uint32_t>& remap, const PointList& added) const {
  // The added points in (hash, node) order.
  std::vector<std::uint32_t> order(added.hashes.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return added.hashes[a] != added.hashes[b] ? added.hashes[a] < added.hashes[b] : added.nodes[a] < added.nodes[b];
  });

  std::size_t kept = 0;
  for (std::uint32_t i = 0; i < size_; ++i) kept += remap[nodes_[i]] != kDropped;
  std::uint32_t max_node = 0;
  for (std::uint32_t n : remap) max_node = std::max(max_node, n == kDropped ? 0 : n);
  for (std::uint32_t n : added.nodes) max_node = std::max(max_node, n);
  PointIndex out = with_capacity(kept + added.hashes.size(), max_node);

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
