// tests/unit/gossip_name_index_test.cc — the member table's hash index by
// name agrees with a std::map through random inserts and erasures,
// including runs of colliding slots and wrap-around at the table's end.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "gossip/name_index.h"

namespace ringd::gossip {
namespace {

std::string name_of(std::uint64_t k) {
  std::string s = "m";
  s += std::to_string(k);
  return s;
}

struct Rec {
  std::string n;
  const std::string& name() const { return n; }
};

TEST(GossipNameIndex, AgreesWithAMapThroughRandomInsertsAndErasures) {
  std::mt19937_64 rng(42);
  NameIndex<Rec> index;
  std::map<std::string, std::unique_ptr<Rec>> truth;
  for (int step = 0; step < 20000; ++step) {
    // Few distinct names, so the table fills, empties and refills.
    const std::string name = name_of(rng() % 300);
    auto it = truth.find(name);
    if (it == truth.end()) {
      auto r = std::make_unique<Rec>(Rec{name});
      index.insert(r.get());
      truth.emplace(name, std::move(r));
    } else if (rng() % 2 == 0) {
      index.erase(it->second.get());
      truth.erase(it);
    }
    if (step % 97 == 0) {
      ASSERT_EQ(index.size(), truth.size());
      for (int k = 0; k < 300; ++k) {
        const std::string q = name_of(static_cast<std::uint64_t>(k));
        auto t = truth.find(q);
        ASSERT_EQ(index.find(q), t == truth.end() ? nullptr : t->second.get()) << q << " at step " << step;
      }
    }
  }
  EXPECT_EQ(index.find("absent"), nullptr);
}

TEST(GossipNameIndex, EmptyAndErasingTheUnknownAreHarmless) {
  NameIndex<Rec> index;
  Rec a{"a"};
  EXPECT_EQ(index.find("a"), nullptr);
  index.erase(&a);
  index.insert(&a);
  Rec b{"b"};
  index.erase(&b);
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(index.find("a"), &a);
  index.erase(&a);
  EXPECT_EQ(index.find("a"), nullptr);
  EXPECT_EQ(index.size(), 0u);
}

}  // namespace
}  // namespace ringd::gossip
