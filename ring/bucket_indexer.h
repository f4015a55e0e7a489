// ring/bucket_indexer.h — writes a PointIndex's bucket index and line table
// while its sorted points stream past (internal to ring/).
//
// Both ways of making an index end with the points in order: build() after
// its radix sort, merged() while it merges. Feeding each point to an Indexer
// as it is placed fills first_ and the lines in the same sequential pass, so
// a rebuild reads and writes each array once. A line is assembled in a local
// copy and stored whole when its bucket closes, which is when the first point
// of a later bucket arrives: that point's node is also what the closed
// bucket's slots after its last point hold (bucket_index.h).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "ring/bucket_index.h"

namespace ringd::ring {

class PointIndex::Indexer {
 public:
  explicit Indexer(PointIndex& index)
      : first_(index.first_.get()),
        lines_(index.lines_.get()),
        shift_(index.shift_),
        fp_shift_(index.shift_ - kFingerprintBits),
        buckets_(std::size_t{1} << (64 - index.shift_)),
        size_(index.size_) {
    first_[0] = 0;
  }

  // Point `at` (in sorted order, at = 0, 1, 2, ...) has hash h and node n.
  void add(std::uint32_t at, std::uint64_t h, std::uint32_t n) {
    const auto bucket = static_cast<std::size_t>(h >> shift_);
    if (bucket != bucket_) [[unlikely]]
      close_until(bucket, n, at);
    if (lines_ != nullptr && count_ < kLineSlots - 1) {
      line_.fp[count_] = static_cast<std::uint16_t>(h >> fp_shift_);
      line_.node[count_] = static_cast<std::uint16_t>(n);
    }
    ++count_;
  }

  // After the last point; `first_node` is point 0's node (the wrap).
  void finish(std::uint32_t first_node) {
    if (size_ == 0) {
      std::fill(first_, first_ + buckets_ + 1, 0u);
      return;
    }
    close_until(buckets_, first_node, size_);
    first_[buckets_] = size_;
  }

 private:
  // Closes the current bucket and every empty one before `bucket`, whose
  // first point (point `at`) has node `after`.
  void close_until(std::size_t bucket, std::uint32_t after, std::uint32_t at) {
    if (lines_ != nullptr) {
      seal(count_, after);
      lines_[bucket_] = line_;
    }
    for (std::size_t t = bucket_ + 1; t < bucket && t < buckets_; ++t) {
      first_[t] = at;
      if (lines_ != nullptr) {
        seal(0, after);
        lines_[t] = line_;
      }
    }
    if (bucket < buckets_) first_[bucket] = at;
    bucket_ = bucket;
    count_ = 0;
  }

  // Fills slots count.. of line_: 0xffff fingerprints, and the next node or
  // (more than 15 points) kFallback in slot 15.
  void seal(std::uint32_t count, std::uint32_t after) {
    const std::uint32_t stored = std::min<std::uint32_t>(count, kLineSlots - 1);
    const auto next = count > stored ? kFallback : static_cast<std::uint16_t>(after);
    for (std::uint32_t i = stored; i < kLineSlots; ++i) {
      line_.fp[i] = 0xffff;
      line_.node[i] = next;
    }
  }

  std::uint32_t* first_;
  Line* lines_;
  unsigned shift_;
  unsigned fp_shift_;
  std::size_t buckets_;
  std::uint32_t size_;
  std::size_t bucket_ = 0;    // the open bucket
  std::uint32_t count_ = 0;   // its points so far
  Line line_;                 // its line so far
};

}  // namespace ringd::ring
