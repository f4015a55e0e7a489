// tests/unit/agent_resp_services_test.cc — the service rings RESP SELECT reads:
// RingPublisher builds one ring per service=NAME tag, numbered by sorted
// name, the same on every agent.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "agent/http_api.h"
#include "agent/ring_publisher.h"

namespace ringd::agent {
namespace {

gossip::Member member(const std::string& name, const std::string& endpoint, const std::string& service,
                      gossip::MemberState state = gossip::MemberState::kAlive) {
  gossip::Member m;
  m.name = name;
  m.address = "127.0.0.1:7946";
  m.service = endpoint;
  m.state = state;
  if (!service.empty()) m.tags["service"] = service;
  return m;
}

std::vector<std::string> nodes(const ring::Ring* ring) { return ring == nullptr ? std::vector<std::string>{} : ring->nodes(); }

TEST(RespServicesTest, OneRingPerServiceInSortedOrder) {
  RingPublisher p(ring::Options{});
  EXPECT_TRUE(p.rebuild({member("s1", "10.0.0.1:80", "search"), member("a1", "10.0.0.2:80", "api"),
                         member("s2", "10.0.0.3:80", "search"), member("x", "10.0.0.4:80", ""),
                         member("router", "", "api")}));
  const auto set = p.rings();
  EXPECT_EQ(set->services, (std::vector<std::string>{"api", "search"}));
  EXPECT_EQ(nodes(set->db(0)), (std::vector<std::string>{"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80"}));
  EXPECT_EQ(nodes(set->db(1)), (std::vector<std::string>{"10.0.0.2:80"}));
  EXPECT_EQ(nodes(set->db(2)), (std::vector<std::string>{"10.0.0.1:80", "10.0.0.3:80"}));
  EXPECT_EQ(set->db(3), nullptr);
  EXPECT_EQ(set->find("search"), set->db(2));
  EXPECT_EQ(set->find("nosuch"), nullptr);
  EXPECT_EQ(p.current()->checksum(), set->all->checksum());
}

TEST(RespServicesTest, AgentsAgreeWhateverTheOrder) {
  RingPublisher a(ring::Options{}), b(ring::Options{});
  a.rebuild({member("s1", "10.0.0.1:80", "search"), member("a1", "10.0.0.2:80", "api")});
  b.rebuild({member("a1", "10.0.0.2:80", "api", gossip::MemberState::kSuspect), member("s1", "10.0.0.1:80", "search")});
  ASSERT_EQ(a.rings()->services, b.rings()->services);
  for (std::size_t db = 0; db <= 2; ++db) EXPECT_EQ(a.rings()->db(db)->checksum(), b.rings()->db(db)->checksum());
}

// A service whose backends all died keeps its number (its ring is empty)
// while the member table still holds them, so other services do not shift.
TEST(RespServicesTest, DeadServiceKeepsItsNumberUntilForgotten) {
  RingPublisher p(ring::Options{});
  p.rebuild({member("a1", "10.0.0.2:80", "api"), member("s1", "10.0.0.1:80", "search")});
  const std::uint64_t g = p.generation();
  EXPECT_TRUE(p.rebuild({member("a1", "10.0.0.2:80", "api", gossip::MemberState::kDead),
                         member("s1", "10.0.0.1:80", "search")}));
  EXPECT_GT(p.generation(), g);
  auto set = p.rings();
  EXPECT_EQ(set->services, (std::vector<std::string>{"api", "search"}));
  EXPECT_TRUE(set->db(1)->empty());
  EXPECT_EQ(nodes(set->db(2)), (std::vector<std::string>{"10.0.0.1:80"}));
  // Forgotten: the list shrinks and search becomes db 1.
  EXPECT_TRUE(p.rebuild({member("s1", "10.0.0.1:80", "search")}));
  set = p.rings();
  EXPECT_EQ(set->services, (std::vector<std::string>{"search"}));
  // Nothing changed: no new generation.
  const std::uint64_t g2 = p.generation();
  EXPECT_FALSE(p.rebuild({member("s1", "10.0.0.1:80", "search")}));
  EXPECT_EQ(p.generation(), g2);
}

// /ring lists the services with the database numbers SELECT takes.
TEST(RespServicesTest, HttpRingListsServices) {
  RingPublisher p(ring::Options{});
  p.rebuild({member("s1", "10.0.0.1:80", "search"), member("a1", "10.0.0.2:80", "api")});
  ApiSources sources;
  sources.ring = &p;
  const HttpResponse r = handle_api(HttpRequest{http::verb::get, "/ring", 11}, sources);
  ASSERT_EQ(r.result(), http::status::ok);
  const auto body = nlohmann::json::parse(r.body());
  EXPECT_EQ(body["node_count"], 2);
  ASSERT_EQ(body["services"].size(), 2u);
  EXPECT_EQ(body["services"][0]["db"], 1);
  EXPECT_EQ(body["services"][0]["name"], "api");
  EXPECT_EQ(body["services"][0]["nodes"], nlohmann::json::array({"10.0.0.2:80"}));
  EXPECT_EQ(body["services"][1]["name"], "search");
  EXPECT_EQ(body["services"][1]["checksum"], p.rings()->db(2)->checksum());
}

}  // namespace
}  // namespace ringd::agent
