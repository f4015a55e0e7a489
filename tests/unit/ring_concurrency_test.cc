// tests/unit/ring_concurrency_test.cc — the way the agent publishes rings:
// readers load a std::atomic<std::shared_ptr<const Ring>> and look up keys
// while a writer keeps building fresh rings and swapping them in. Every
// lookup must give exactly the answer of the old or of the new ring, never a
// torn or dangling result. No sleeps: the writer runs a fixed number of swaps
// and the readers run until it is done.
#include "ring/ring.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace ringd::ring {
namespace {

constexpr int kKeys = 256;
constexpr int kSwaps = 400;
constexpr int kReaders = 4;

std::vector<std::string> make_nodes(const std::string& subnet, int count) {
  std::vector<std::string> nodes;
  for (int i = 1; i <= count; ++i) nodes.push_back(subnet + std::to_string(i) + ":8000");
  return nodes;
}

TEST(RingConcurrencyTest, LookupsDuringSwapsSeeOldOrNewRing) {
  // Two disjoint endpoint sets, so an answer tells which ring produced it.
  const auto set_a = make_nodes("10.0.1.", 10);
  const auto set_b = make_nodes("10.0.2.", 11);
  std::vector<std::string> keys, owner_a, owner_b;
  {
    auto a = Ring::build(set_a);
    auto b = Ring::build(set_b);
    for (int i = 0; i < kKeys; ++i) {
      keys.push_back("/documents/" + std::to_string(i));
      owner_a.push_back(*a->owner(keys.back()));
      owner_b.push_back(*b->owner(keys.back()));
    }
  }
  const std::string checksum_a = Ring::build(set_a)->checksum();

  std::atomic<std::shared_ptr<const Ring>> current(Ring::build(set_a));
  std::atomic<bool> done{false};
  std::atomic<long> lookups{0};
  std::atomic<int> failures{0};

  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      long local = 0;
      std::size_t k = static_cast<std::size_t>(r);
      // At least one pass over the keys even if the writer finishes first.
      while (!done.load(std::memory_order_acquire) || local < kKeys) {
        std::shared_ptr<const Ring> snapshot = current.load();
        const std::string* owner = snapshot->owner(keys[k]);
        const std::string& expected = snapshot->checksum() == checksum_a ? owner_a[k] : owner_b[k];
        if (owner == nullptr || *owner != expected) failures.fetch_add(1);
        k = (k + 1) % kKeys;
        ++local;
      }
      lookups.fetch_add(local);
    });
  }

  std::thread writer([&] {
    for (int s = 0; s < kSwaps; ++s) {
      // A fresh build each time, like the agent's publisher; the old ring is
      // freed by whichever thread drops the last reference to it.
      current.store(Ring::build(s % 2 == 0 ? set_b : set_a));
    }
    done.store(true, std::memory_order_release);
  });

  writer.join();
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GE(lookups.load(), kReaders * kKeys);
}

}  // namespace
}  // namespace ringd::ring
