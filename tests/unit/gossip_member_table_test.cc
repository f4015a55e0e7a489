// tests/unit/gossip_member_table_test.cc — probe order and random picks.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "gossip/member_table.h"

namespace ringd::gossip {
namespace {

std::string numbered(int i) {
  std::string s = std::to_string(i);
  s.insert(s.begin(), 'm');
  return s;
}

Member member(const std::string& name, MemberState s = MemberState::kAlive) {
  Member m;
  m.name = name;
  m.address = name;
  m.address.append(":1");
  m.state = s;
  return m;
}

TEST(GossipMemberTable, RoundRobinProbesEveryLiveMemberOncePerRound) {
  std::mt19937_64 rng(7);
  MemberTable t("self");
  t.insert(member("self"), rng);
  for (int i = 0; i < 10; ++i) t.insert(member(numbered(i)), rng);
  t.insert(member("dead", MemberState::kDead), rng);
  t.insert(member("left", MemberState::kLeft), rng);
  t.insert(member("sus", MemberState::kSuspect), rng);
  std::vector<std::string> first_round;
  for (int round = 0; round < 5; ++round) {
    std::set<std::string> seen;
    std::vector<std::string> order;
    for (int i = 0; i < 11; ++i) {
      const MemberRecord* r = t.next_probe_target(rng);
      ASSERT_NE(r, nullptr);
      EXPECT_TRUE(seen.insert(r->member.name).second) << "probed twice in a round";
      order.push_back(r->member.name);
    }
    EXPECT_EQ(seen.size(), 11u);  // 10 alive + 1 suspect; not self, dead, left
    EXPECT_EQ(seen.count("self") + seen.count("dead") + seen.count("left"), 0u);
    if (round == 0) first_round = order;
    if (round == 1) {
      EXPECT_NE(order, first_round) << "rounds should be reshuffled";
    }
  }
}

TEST(GossipMemberTable, MembersThatDieMidRoundAreSkipped) {
  std::mt19937_64 rng(8);
  MemberTable t("self");
  t.insert(member("self"), rng);
  t.insert(member("a"), rng);
  t.insert(member("b"), rng);
  t.find("a")->member.state = MemberState::kDead;
  t.erase("b");
  EXPECT_EQ(t.next_probe_target(rng), nullptr);
  t.insert(member("c"), rng);
  ASSERT_NE(t.next_probe_target(rng), nullptr);
}

TEST(GossipMemberTable, AloneThereIsNothingToProbe) {
  std::mt19937_64 rng(9);
  MemberTable t("self");
  t.insert(member("self"), rng);
  EXPECT_EQ(t.next_probe_target(rng), nullptr);
  EXPECT_TRUE(t.random_members(rng, 3, MemberTable::Pick::kLive).empty());
}

TEST(GossipMemberTable, RandomMembersAreDistinctFilteredAndRoughlyUniform) {
  std::mt19937_64 rng(10);
  MemberTable t("self");
  t.insert(member("self"), rng);
  for (int i = 0; i < 6; ++i) t.insert(member(numbered(i)), rng);
  t.insert(member("sus", MemberState::kSuspect), rng);
  t.insert(member("dead", MemberState::kDead), rng);
  std::map<std::string, int> hits;
  for (int i = 0; i < 6000; ++i) {
    auto picks = t.random_members(rng, 3, MemberTable::Pick::kAlive, "m0");
    ASSERT_EQ(picks.size(), 3u);
    std::set<std::string> names;
    for (auto* p : picks) {
      names.insert(p->member.name);
      ++hits[p->member.name];
    }
    EXPECT_EQ(names.size(), 3u);
  }
  EXPECT_EQ(hits.count("self") + hits.count("m0") + hits.count("sus") + hits.count("dead"), 0u);
  for (const auto& [name, n] : hits) EXPECT_NEAR(n, 6000 * 3 / 5, 400) << name;
  auto live = t.random_members(rng, 100, MemberTable::Pick::kLive);
  EXPECT_EQ(live.size(), 7u);  // 6 alive + suspect
  EXPECT_EQ(t.live_count(), 8u);
}

}  // namespace
}  // namespace ringd::gossip
