// ring/big_array.cc — big arrays on huge pages, and a small cache of them.
//
// Memory fresh from the kernel is zeroed page by page on first touch: ~1 ms
// per 10 MB, as much as the rest of a join or leave at 1,000 nodes. The old
// ring's arrays are freed soon after each rebuild (when the last reader lets
// go), so freed blocks are kept for the next rebuild to take instead: a
// rebuild then touches no new page. The cache holds at most kMaxBlocks blocks
// and kMaxCachedBytes, the oldest going back to the kernel first; in steady
// state that is about one ring's arrays (plus the sort's buffers after a
// full build), the price of rebuilding without page faults.
#include "ring/big_array.h"

#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <mutex>
#include <vector>

namespace ringd::ring {

namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kMaxBlocks = 8;
constexpr std::size_t kMaxCachedBytes = std::size_t{256} << 20;

struct Block {
  void* p;
  std::size_t size;  // a multiple of kHugePage
};

struct Cache {
  Cache() { blocks.reserve(kMaxBlocks + 1); }  // so a release never allocates
  std::mutex mutex;
  std::vector<Block> blocks;  // oldest first
  std::size_t bytes = 0;
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: frees may come late in exit
  return *c;
}

void* map_huge(std::size_t size) {
  // Map one huge page more, to cut a 2 MB-aligned range out of it.
  void* raw = ::mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
  if (aligned > start) ::munmap(raw, aligned - start);
  const std::uintptr_t tail = aligned + size;
  const std::uintptr_t end = start + size + kHugePage;
  if (end > tail) ::munmap(reinterpret_cast<void*>(tail), end - tail);
  void* p = reinterpret_cast<void*>(aligned);
  // Advice only: an error (THP off, an old kernel) leaves ordinary pages.
  (void)::madvise(p, size, MADV_HUGEPAGE);
  return p;
}

}  // namespace

BigBlock allocate_big(std::size_t bytes, std::size_t align) {
  if (bytes < kHugePage) {
    bytes = std::max<std::size_t>(bytes, 1);
    // aligned_alloc wants a multiple of the alignment.
    void* p = align <= alignof(std::max_align_t) ? std::malloc(bytes)
                                                  : std::aligned_alloc(align, (bytes + align - 1) / align * align);
    if (p == nullptr) throw std::bad_alloc();
    return BigBlock{p, bytes};
  }
  const std::size_t size = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  {
    // The smallest cached block that fits without wasting more than a
    // quarter of itself.
    Cache& c = cache();
    std::lock_guard lock(c.mutex);
    auto best = c.blocks.end();
    for (auto it = c.blocks.begin(); it != c.blocks.end(); ++it) {
      if (it->size >= size && it->size - size <= it->size / 4 && (best == c.blocks.end() || it->size < best->size)) {
        best = it;
      }
    }
    if (best != c.blocks.end()) {
      const BigBlock block{best->p, best->size};
      c.bytes -= best->size;
      c.blocks.erase(best);
      return block;
    }
  }
  return BigBlock{map_huge(size), size};
}

void release_big(void* p, std::size_t bytes) noexcept {
  if (p == nullptr) return;
  if (bytes < kHugePage) {
    std::free(p);
    return;
  }
  const std::size_t size = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  std::array<Block, kMaxBlocks + 1> evicted;
  std::size_t count = 0;
  {
    Cache& c = cache();
    std::lock_guard lock(c.mutex);
    c.blocks.push_back(Block{p, size});  // within the reserved capacity
    c.bytes += size;
    while (c.blocks.size() > kMaxBlocks || c.bytes > kMaxCachedBytes) {
      evicted[count++] = c.blocks.front();
      c.bytes -= c.blocks.front().size;
      c.blocks.erase(c.blocks.begin());
    }
  }
  for (std::size_t i = 0; i < count; ++i) ::munmap(evicted[i].p, evicted[i].size);
}

void release_cached_big_arrays() noexcept {
  std::vector<Block> blocks;
  {
    Cache& c = cache();
    std::lock_guard lock(c.mutex);
    blocks.swap(c.blocks);
    c.bytes = 0;
  }
  for (const Block& b : blocks) ::munmap(b.p, b.size);
}

std::size_t cached_big_array_bytes() noexcept {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  return c.bytes;
}

}  // namespace ringd::ring
