// ring/big_array.h — uninitialised arrays for a ring's points and index,
// backed by 2 MB pages when they are large (internal to ring/).
//
// A ring of 1,000 nodes holds about 21 MB of arrays, rebuilt on every join
// or leave. In 4 KB pages that is ~5,000 page faults per rebuild (a third of
// a join's time) and, for lookups of keys not in cache, a TLB miss on most
// probes. Arrays of 2 MB or more are therefore allocated 2 MB-aligned and
// marked MADV_HUGEPAGE, so the kernel backs them with transparent huge pages
// where it has them (ten faults instead of thousands, one TLB entry per
// 2 MB). Where it has none, or THP is off, they are ordinary pages: the
// advice changes speed only, never contents. Released big arrays are kept
// for the next rebuild (big_array.cc). Smaller arrays are ordinary malloc
// allocations, so a small ring costs no more memory.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>

namespace ringd::ring {

// A block from allocate_big(): `bytes` is what it holds, at least what was
// asked for (a cached block may be up to a quarter larger), and what
// release_big() must be given back.
struct BigBlock {
  void* p;
  std::size_t bytes;
};
// At least `bytes` of uninitialised memory (at least 1) aligned to `align`
// (a power of two up to 64); from 2 MB up on huge pages where the kernel
// allows, and taken from the cache of released blocks when one fits. Below
// 2 MB, plain malloc unless the alignment needs more (memalign leaves gaps
// in the heap that can keep it from shrinking). Throws std::bad_alloc.
BigBlock allocate_big(std::size_t bytes, std::size_t align = alignof(std::max_align_t));
// Gives back a block of allocate_big(): from 2 MB up into the cache (the
// oldest cached blocks going back to the kernel past its limits).
void release_big(void* p, std::size_t bytes) noexcept;
// Returns every cached block to the kernel.
void release_cached_big_arrays() noexcept;
// Bytes held in the cache now.
std::size_t cached_big_array_bytes() noexcept;

struct BigDeleter {
  std::size_t bytes = 0;
  void operator()(void* p) const noexcept { release_big(p, bytes); }
};

template <typename T>
using BigArray = std::unique_ptr<T[], BigDeleter>;

// n uninitialised elements of a trivial type.
template <typename T>
BigArray<T> make_big_array(std::size_t n) {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);
  static_assert(alignof(T) <= 64);
  const BigBlock block = allocate_big(n * sizeof(T), alignof(T));
  return BigArray<T>(static_cast<T*>(block.p), BigDeleter{block.bytes});
}

}  // namespace ringd::ring
