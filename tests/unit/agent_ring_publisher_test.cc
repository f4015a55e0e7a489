// tests/unit/agent_ring_publisher_test.cc — the ring as the agent exposes it: --ring
// and related flags, member weights from tags, /ring (mode, node count,
// shares, checksum) and /lookup?n=.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <thread>

#include "agent/config.h"
#include "agent_args.h"
#include "agent/http_api.h"
#include "agent/ring_publisher.h"

namespace ringd::agent {
namespace {

using Json = nlohmann::json;

using testing::error_of;
using testing::parse;

TEST(RingAgentConfigTest, RingFlags) {
  const AgentConfig d = parse({});
  EXPECT_EQ(d.ring_mode, ring::Mode::kDefault);
  EXPECT_EQ(d.ring_points, ring::kDefaultPointsPerNode);
  EXPECT_EQ(ring_options(d).mode, ring::Mode::kDefault);

  for (const char* name : {"default", "maglev", "nginx", "ketama"}) {
    EXPECT_EQ(parse({"--ring", name}).ring_mode, ring::parse_mode(name));
  }
  const AgentConfig m = parse({"--ring", "maglev", "--maglev-table-size", "131071", "--ring-points", "300"});
  const ring::Options o = ring_options(m);
  EXPECT_EQ(o.mode, ring::Mode::kMaglev);
  EXPECT_EQ(o.maglev_table_size, 131071u);
  EXPECT_EQ(o.points_per_node, 300u);

  EXPECT_NE(error_of({"--ring", "consistent"}).find("--ring consistent"), std::string::npos);
  EXPECT_NE(error_of({"--maglev-table-size", "65536"}).find("prime"), std::string::npos);
}

gossip::Member member(const std::string& name, const std::string& service,
                      gossip::MemberState state = gossip::MemberState::kAlive, gossip::Tags tags = {}) {
  gossip::Member m;
  m.name = name;
  m.address = "127.0.0.1:7946";
  m.service = service;
  m.state = state;
  m.tags = std::move(tags);
  return m;
}

TEST(RingAgentPublisherTest, WeightsFromTags) {
  EXPECT_EQ(weight_from_tags({}), 1u);
  EXPECT_EQ(weight_from_tags({{"weight", "3"}}), 3u);
  EXPECT_EQ(weight_from_tags({{"weight", "0"}}), 1u);
  EXPECT_EQ(weight_from_tags({{"weight", "2x"}}), 1u);
  // Another agent's tag is bounded, not trusted, and the reason is told.
  std::string problem;
  EXPECT_EQ(weight_from_tags({{"weight", "256"}}, &problem), 256u);
  EXPECT_EQ(problem, "");
  EXPECT_EQ(weight_from_tags({{"weight", "65535"}}, &problem), ring::kMaxWeight);
  EXPECT_EQ(problem, "over the maximum; using 256");
  EXPECT_EQ(weight_from_tags({{"weight", "99999999999999999999999"}}), ring::kMaxWeight);
  EXPECT_EQ(weight_from_tags({{"weight", "-1"}}, &problem), 1u);
  EXPECT_EQ(problem, "not a whole number 1..256; using 1");
  EXPECT_EQ(weight_from_tags({{"weight", ""}}), 1u);

  RingPublisher publisher(ring::Options{});
  publisher.rebuild({member("a", "10.0.0.1:80", gossip::MemberState::kAlive, {{"weight", "3"}}),
                     member("b", "10.0.0.2:80")});
  EXPECT_EQ(publisher.current()->weights(), (std::vector<std::uint32_t>{3, 1}));
}

// The report: a member tagged weight=65535 grew another agent's 16-point
// ring (2 members) from 32 points to 1,048,576.
TEST(RingAgentPublisherTest, OneMembersWeightCannotMultiplyTheRing) {
  RingPublisher publisher(ring::Options{.points_per_node = 16});
  publisher.rebuild({member("a", "10.0.0.1:80", gossip::MemberState::kAlive, {{"weight", "65535"}}),
                     member("b", "10.0.0.2:80")});
  EXPECT_EQ(publisher.current()->point_count(), 16u * (ring::kMaxWeight + 1));
}

// Suspect flags and event order do not change the ring; dead members leave it.
TEST(RingAgentPublisherTest, ChecksumIgnoresOrderAndSuspicion) {
  RingPublisher a(ring::Options{}), b(ring::Options{});
  a.rebuild({member("a", "10.0.0.1:80"), member("b", "10.0.0.2:80"), member("c", "10.0.0.3:80")});
  b.rebuild({member("c", "10.0.0.3:80"), member("a", "10.0.0.1:80", gossip::MemberState::kSuspect),
             member("b", "10.0.0.2:80"), member("r", "")});
  EXPECT_EQ(a.current()->checksum(), b.current()->checksum());
  EXPECT_FALSE(b.rebuild({member("c", "10.0.0.3:80"), member("a", "10.0.0.1:80"), member("b", "10.0.0.2:80")}));
  EXPECT_TRUE(b.rebuild({member("c", "10.0.0.3:80"), member("a", "10.0.0.1:80", gossip::MemberState::kDead),
                         member("b", "10.0.0.2:80")}));
  EXPECT_EQ(b.current()->nodes().size(), 2u);
}

// Events that leave the rings' input as it was build nothing: the same
// snapshot stays published. A weight or a service tag is input.
TEST(RingAgentPublisherTest, BuildsOnlyWhenTheInputChanges) {
  RingPublisher p(ring::Options{});
  EXPECT_TRUE(p.rebuild({member("a", "10.0.0.1:80"), member("b", "10.0.0.2:80")}));
  EXPECT_EQ(p.builds(), 1u);
  const auto first = p.rings();
  // Order, a suspect flag, a router-only member, a dead router, another tag.
  EXPECT_FALSE(p.rebuild({member("b", "10.0.0.2:80", gossip::MemberState::kSuspect), member("a", "10.0.0.1:80"),
                          member("r", ""), member("s", "", gossip::MemberState::kDead),
                          member("a2", "10.0.0.1:80", gossip::MemberState::kDead, {{"zone", "x"}})}));
  EXPECT_EQ(p.builds(), 1u);
  EXPECT_EQ(p.rings(), first);
  // A weight changes the input.
  EXPECT_TRUE(p.rebuild({member("a", "10.0.0.1:80", gossip::MemberState::kAlive, {{"weight", "2"}}),
                         member("b", "10.0.0.2:80")}));
  EXPECT_EQ(p.builds(), 2u);
  // A service tag on a dead member lists the service (an empty ring): input.
  EXPECT_TRUE(p.rebuild({member("a", "10.0.0.1:80", gossip::MemberState::kAlive, {{"weight", "2"}}),
                         member("b", "10.0.0.2:80"),
                         member("c", "10.0.0.3:80", gossip::MemberState::kDead, {{"service", "api"}})}));
  EXPECT_EQ(p.builds(), 3u);
  EXPECT_EQ(p.rings()->services, std::vector<std::string>{"api"});
}

// The publisher under load: readers look up keys while the writer rebuilds
// (incrementally, from the current ring) between two member sets; every
// answer is the old ring's or the new ring's, never anything else.
TEST(RingAgentPublisherTest, LookupsDuringRebuildsSeeOldOrNewRing) {
  std::vector<gossip::Member> set_a, set_b;
  for (int i = 1; i <= 10; ++i) set_a.push_back(member("a" + std::to_string(i), "10.0.1." + std::to_string(i) + ":80"));
  set_b = set_a;
  set_b.erase(set_b.begin() + 3);                          // one leaves
  set_b.push_back(member("b", "10.0.2.1:80"));             // one joins
  set_b[0].tags = {{"weight", "2"}};                       // one changes weight
  RingPublisher publisher(ring::Options{.points_per_node = 256});
  publisher.rebuild(set_b);
  const std::string checksum_b = publisher.current()->checksum();
  auto ring_b = publisher.current();
  publisher.rebuild(set_a);
  auto ring_a = publisher.current();
  constexpr int kKeys = 256;
  std::vector<std::string> keys, owner_a, owner_b;
  for (int i = 0; i < kKeys; ++i) {
    keys.push_back("/documents/" + std::to_string(i));
    owner_a.push_back(*ring_a->owner(keys.back()));
    owner_b.push_back(*ring_b->owner(keys.back()));
  }
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&, r] {
      long local = 0;
      for (std::size_t k = static_cast<std::size_t>(r); !done.load() || local < kKeys; k = (k + 1) % kKeys, ++local) {
        auto snapshot = publisher.current();
        const std::string* owner = snapshot->owner(keys[k]);
        const std::string& want = snapshot->checksum() == checksum_b ? owner_b[k] : owner_a[k];
        if (owner == nullptr || *owner != want) failures.fetch_add(1);
      }
    });
  }
  for (int s = 0; s < 200; ++s) EXPECT_TRUE(publisher.rebuild(s % 2 == 0 ? set_b : set_a));
  done.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
}

class RingAgentApiTest : public ::testing::Test {
 protected:
  explicit RingAgentApiTest(ring::Options options = {}) : publisher_(options) {
    publisher_.rebuild({member("a", "10.0.0.1:80"), member("b", "10.0.0.2:80", gossip::MemberState::kAlive,
                                                           {{"weight", "2"}}),
                        member("c", "10.0.0.3:80")});
    sources_.ring = &publisher_;
  }
  Json get_json(const std::string& target, http::status want = http::status::ok) {
    HttpRequest request{http::verb::get, target, 11};
    HttpResponse response = handle_api(request, sources_);
    EXPECT_EQ(response.result(), want) << target << ": " << response.body();
    return Json::parse(response.body());
  }
  RingPublisher publisher_;
  ApiSources sources_;
};

TEST_F(RingAgentApiTest, RingShowsModeSharesAndChecksum) {
  const Json ring = get_json("/ring");
  EXPECT_EQ(ring["mode"], "default");
  EXPECT_EQ(ring["node_count"], 3);
  EXPECT_EQ(ring["nodes"], Json::array({"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"}));
  EXPECT_EQ(ring["checksum"], publisher_.current()->checksum());
  EXPECT_EQ(ring["points_per_node"], ring::kDefaultPointsPerNode);
  EXPECT_EQ(ring["weights"], Json({{"10.0.0.2:80", 2}}));
  double sum = 0;
  for (const auto& [node, share] : ring["shares"].items()) sum += share.get<double>();
  EXPECT_NEAR(sum, 1.0, 1e-9);
  EXPECT_NEAR(ring["shares"]["10.0.0.2:80"].get<double>(), 0.5, 0.05) << "weight 2 of 4";
}

TEST_F(RingAgentApiTest, LookupWithN) {
  const Json one = get_json("/lookup?key=%2Fdocuments%2F1");
  EXPECT_FALSE(one.contains("nodes"));
  const Json three = get_json("/lookup?key=%2Fdocuments%2F1&n=3");
  EXPECT_EQ(three["key"], "/documents/1");
  ASSERT_EQ(three["nodes"].size(), 3u);
  EXPECT_EQ(three["nodes"][0], three["node"]);
  EXPECT_EQ(three["node"], one["node"]);
  const auto owners = publisher_.current()->owners("/documents/1", 3);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(three["nodes"][i], *owners[i]);
  EXPECT_EQ(get_json("/lookup?key=k&n=50")["nodes"].size(), 3u) << "n is capped at the node count";
  get_json("/lookup?key=k&n=0", http::status::bad_request);
  get_json("/lookup?key=k&n=two", http::status::bad_request);
  get_json("/lookup?key=k&n=-1", http::status::bad_request);
  get_json("/lookup?key=k&n=99999999999999999999999", http::status::bad_request);
}

class RingAgentMaglevApiTest : public RingAgentApiTest {
 protected:
  RingAgentMaglevApiTest() : RingAgentApiTest(ring::Options{.mode = ring::Mode::kMaglev}) {}
};

TEST_F(RingAgentMaglevApiTest, RingShowsMaglev) {
  const Json ring = get_json("/ring");
  EXPECT_EQ(ring["mode"], "maglev");
  EXPECT_EQ(ring["table_size"], 65537);
  EXPECT_EQ(ring["points"], 65537);
  EXPECT_NEAR(ring["shares"]["10.0.0.2:80"].get<double>(), 0.5, 0.001);
}

}  // namespace
}  // namespace ringd::agent
