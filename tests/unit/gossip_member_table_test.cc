// tests/unit/gossip_member_table_test.cc — probe order, random picks, and the
// state the table derives from its records.
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
  MemberTable t("self", std::chrono::seconds(60));
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
      EXPECT_TRUE(seen.insert(r->name()).second) << "probed twice in a round";
      order.push_back(r->name());
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
  MemberTable t("self", std::chrono::seconds(60));
  t.insert(member("self"), rng);
  t.insert(member("a"), rng);
  t.insert(member("b"), rng);
  t.edit(*t.find("a"))->state = MemberState::kDead;
  t.erase("b");
  EXPECT_EQ(t.next_probe_target(rng), nullptr);
  t.insert(member("c"), rng);
  ASSERT_NE(t.next_probe_target(rng), nullptr);
}

TEST(GossipMemberTable, AloneThereIsNothingToProbe) {
  std::mt19937_64 rng(9);
  MemberTable t("self", std::chrono::seconds(60));
  t.insert(member("self"), rng);
  EXPECT_EQ(t.next_probe_target(rng), nullptr);
  EXPECT_TRUE(t.random_members(rng, 3, MemberTable::Pick::kLive).empty());
}

TEST(GossipMemberTable, RandomMembersAreDistinctFilteredAndRoughlyUniform) {
  std::mt19937_64 rng(10);
  MemberTable t("self", std::chrono::seconds(60));
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
      names.insert(p->name());
      ++hits[p->name()];
    }
    EXPECT_EQ(names.size(), 3u);
  }
  EXPECT_EQ(hits.count("self") + hits.count("m0") + hits.count("sus") + hits.count("dead"), 0u);
  for (const auto& [name, n] : hits) EXPECT_NEAR(n, 6000 * 3 / 5, 400) << name;
  auto live = t.random_members(rng, 100, MemberTable::Pick::kLive);
  EXPECT_EQ(live.size(), 7u);  // 6 alive + suspect
  EXPECT_EQ(t.live_count(), 8u);
}

// Every Edit keeps the derived state (live count, pick lists, digest,
// deadlines) equal to a recomputation from scratch, whatever it changes.
TEST(GossipMemberTable, EditsKeepTheDerivedStateExact) {
  std::mt19937_64 rng(11);
  std::mt19937_64 moves(12);
  MemberTable t("self", std::chrono::seconds(60));
  t.insert(member("self"), rng);
  Config cfg;
  const MemberState states[] = {MemberState::kAlive, MemberState::kSuspect, MemberState::kDead,
                                MemberState::kLeft};
  for (int step = 0; step < 3000; ++step) {
    const std::string name = numbered(static_cast<int>(moves() % 40));
    const MemberRecord* rec = t.find(name);
    const auto action = moves() % 8;
    if (rec == nullptr) {
      t.insert(member(name, states[moves() % 2]), rng);
    } else if (action == 0) {
      t.erase(name);
    } else {
      auto e = t.edit(*rec);
      const MemberState s = states[moves() % 4];
      e->state = s;
      e->incarnation += moves() % 2;
      e->state_since = std::chrono::seconds(static_cast<std::int64_t>(moves() % 100));
      if (action == 1) e.set_details(name + ":" + std::to_string(moves() % 5), "", e->tags(), e->service_state());
      if (action == 2) {
        Tags tags = e->tags();
        tags["zone"] = std::to_string(moves() % 3);
        e.set_details(e->address(), "", tags, e->service_state());
      }
      if (s == MemberState::kSuspect) {
        e->suspicion = std::make_unique<Suspicion>(std::chrono::seconds(static_cast<std::int64_t>(moves() % 100)),
                                                   "self", t.live_count(), cfg);
      } else {
        e->suspicion.reset();
      }
    }
    ASSERT_EQ(t.check(), "") << "after step " << step;
  }
  EXPECT_GT(t.live_count(), 1u);
}

TEST(GossipMemberTable, DigestIsOrderIndependentAndFollowsIncarnations) {
  std::mt19937_64 rng(13);
  MemberTable a("self", std::chrono::seconds(60));
  MemberTable b("self", std::chrono::seconds(60));
  for (const char* n : {"self", "x", "y", "z"}) a.insert(member(n), rng);
  for (const char* n : {"z", "y", "self", "x"}) b.insert(member(n), rng);
  EXPECT_EQ(a.live_digest(), b.live_digest());
  const std::uint64_t before = a.live_digest();
  a.edit(*a.find("y"))->incarnation = 3;
  EXPECT_NE(a.live_digest(), before);
  a.edit(*a.find("y"))->incarnation = 0;
  EXPECT_EQ(a.live_digest(), before) << "undoing a change restores the digest";
  a.edit(*a.find("y"))->state = MemberState::kDead;
  EXPECT_NE(a.live_digest(), before) << "a dead member leaves the live digest";
}

TEST(GossipMemberTable, DeadlinesComeFromSuspicionsAndForgetting) {
  std::mt19937_64 rng(14);
  MemberTable t("self", std::chrono::seconds(60));
  t.insert(member("self"), rng);
  t.insert(member("a"), rng);
  t.insert(member("b"), rng);
  EXPECT_EQ(t.earliest_deadline(), Time::max());
  {
    auto e = t.edit(*t.find("a"));
    e->state = MemberState::kDead;
    e->state_since = std::chrono::seconds(10);
  }
  EXPECT_EQ(t.earliest_deadline(), std::chrono::seconds(70));
  {
    auto e = t.edit(*t.find("b"));
    e->state = MemberState::kSuspect;
    e->suspicion = std::make_unique<Suspicion>(std::chrono::seconds(5), "self", 3, Config{});
  }
  EXPECT_EQ(t.earliest_deadline(), t.find("b")->suspicion->deadline());
  EXPECT_LT(t.earliest_deadline(), std::chrono::seconds(70));
  t.erase("b");
  EXPECT_EQ(t.earliest_deadline(), std::chrono::seconds(70));
  t.edit(*t.find("self"))->state = MemberState::kLeft;
  EXPECT_EQ(t.earliest_deadline(), std::chrono::seconds(70)) << "self is never forgotten";
  EXPECT_EQ(t.check(), "");
}

TEST(GossipIdentityPool, EqualValuesShareOneIdentityUntilTheLastReferenceGoes) {
  IdentityPool pool;
  {
    IdentityRef a = pool.intern("n1", "10.0.0.1:7946", "10.0.0.1:80", {{"zone", "a"}}, ServiceState::kPassing);
    IdentityRef b = pool.intern("n1", "10.0.0.1:7946", "10.0.0.1:80", {{"zone", "a"}}, ServiceState::kPassing);
    EXPECT_EQ(&*a, &*b);
    EXPECT_EQ(pool.size(), 1u);
    IdentityRef c = pool.intern("n1", "10.0.0.1:7946", "10.0.0.1:80", {{"zone", "b"}}, ServiceState::kPassing);
    IdentityRef d = pool.intern("n1", "10.0.0.1:7946", "10.0.0.1:80", {{"zone", "a"}}, ServiceState::kDraining);
    EXPECT_NE(&*a, &*c) << "tags are part of the identity";
    EXPECT_NE(&*a, &*d) << "so is the service state";
    EXPECT_EQ(pool.size(), 3u);
    EXPECT_EQ(c->tags.at("zone"), "b");
    a = c;  // the first identity keeps b's reference
    EXPECT_EQ(pool.size(), 3u);
  }
  EXPECT_EQ(pool.size(), 0u) << "unreferenced identities are freed";
}

TEST(GossipIdentityPool, TablesSharingAPoolHoldEachMemberOnce) {
  auto pool = std::make_shared<IdentityPool>();
  std::mt19937_64 rng(15);
  std::vector<std::unique_ptr<MemberTable>> tables;
  for (int t = 0; t < 20; ++t) {
    tables.push_back(std::make_unique<MemberTable>(numbered(t), std::chrono::seconds(60), pool));
    for (int m = 0; m < 20; ++m) tables.back()->insert(member(numbered(m)), rng);
  }
  EXPECT_EQ(pool->size(), 20u) << "20 views of 20 members, 20 identities";
  auto e = tables[0]->edit(*tables[0]->find("m3"));
  e.set_details("moved:1", "", {}, ServiceState::kPassing);
  EXPECT_EQ(e->address(), "moved:1");
  EXPECT_EQ(tables[1]->find("m3")->address(), "m3:1") << "one view changed, not the others";
  EXPECT_EQ(pool->size(), 21u);
}

}  // namespace
}  // namespace ringd::gossip
