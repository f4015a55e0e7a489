// tests/sim/sim_ring_rule_test.cc — the simulator checks the production ring
// rule: the checksum the sim checker expects a member to serve is the one the
// agent's RingPublisher publishes for the same member list (weights from
// tags, service tags, suspect / dead / left members, failing, draining and
// unchecked services, router-only members).
#include <gtest/gtest.h>

#include <algorithm>

#include "agent/config.h"
#include "agent/ring_input.h"
#include "agent/ring_publisher.h"
#include "support/sim_checker.h"
#include "support/sim_cluster.h"

namespace ringd::sim {
namespace {

using gossip::MemberState;
using gossip::ServiceState;

gossip::Member member(const std::string& name, const std::string& service, MemberState state = MemberState::kAlive,
                      gossip::Tags tags = {}, ServiceState health = ServiceState::kPassing) {
  gossip::Member m;
  m.name = name;
  m.address = "127.0.0.1:7946";
  m.service = service;
  m.state = state;
  m.tags = std::move(tags);
  m.service_state = health;
  return m;
}

// The members of the table test: one of each case the rule distinguishes.
std::vector<gossip::Member> mixed_members() {
  return {
      member("a", "10.0.0.1:80", MemberState::kAlive, {{"weight", "3"}, {"service", "api"}}),
      member("b", "10.0.0.2:80", MemberState::kSuspect),                            // keeps its keys
      member("c", "10.0.0.3:80", MemberState::kDead, {{"service", "api"}}),         // off, api still listed
      member("d", "10.0.0.4:80", MemberState::kLeft, {{"service", "web"}}),         // off, web listed (empty)
      member("e", "10.0.0.5:80", MemberState::kAlive, {{"weight", "2"}}, ServiceState::kDraining),
      member("f", "10.0.0.6:80", MemberState::kAlive, {}, ServiceState::kFailing),
      member("g", "10.0.0.7:80", MemberState::kAlive, {}, ServiceState::kUnchecked),
      member("h", "", MemberState::kAlive, {{"service", "ghost"}}),                 // router-only: nothing
      member("i", "10.0.0.9:80", MemberState::kAlive, {{"weight", "0"}}),           // counts as 1
      member("j", "10.0.0.10:80", MemberState::kAlive, {{"weight", "65535"}, {"service", "api"}}),  // 256
      member("k", "10.0.0.11:80", MemberState::kSuspect, {{"weight", "2x"}}),       // counts as 1
  };
}

// The ring options of an agent started without ring flags.
ring::Options default_options() {
  static const agent::AgentConfig config;
  return agent::ring_options(config);
}

std::string publisher_checksum(agent::RingPublisher& publisher, const std::vector<gossip::Member>& members) {
  publisher.rebuild(members);
  return publisher.current()->checksum();
}

// The checker builds ring::Options{}: that must be what a default agent
// configuration gives the publisher.
TEST(SimRingRule, CheckerUsesTheAgentsDefaultRingOptions) {
  const ring::Options agent = default_options();
  const ring::Options sim{};
  EXPECT_EQ(agent.points_per_node, sim.points_per_node);
  EXPECT_EQ(agent.mode, sim.mode);
  EXPECT_EQ(agent.maglev_table_size, sim.maglev_table_size);
  EXPECT_EQ(agent.probes, sim.probes);
}

TEST(SimRingRule, CheckerAndPublisherAgreeOnEveryKindOfMember) {
  const auto members = mixed_members();

  // The rule, spelled out.
  const agent::RingInput input = agent::ring_input(members);
  std::vector<std::pair<std::string, std::uint32_t>> all;
  for (const auto& n : input.all) all.emplace_back(n.endpoint, n.weight);
  EXPECT_EQ(all, (std::vector<std::pair<std::string, std::uint32_t>>{
                     {"10.0.0.10:80", ring::kMaxWeight}, {"10.0.0.11:80", 1}, {"10.0.0.1:80", 3},
                     {"10.0.0.2:80", 1}, {"10.0.0.9:80", 1}}));  // by string: ':' sorts after '0'..'9'
  std::vector<std::string> services;
  for (const auto& [name, nodes] : input.by_service) services.push_back(name);
  EXPECT_EQ(services, (std::vector<std::string>{"api", "web"}));
  EXPECT_EQ(input.by_service.at("api").size(), 2u);
  EXPECT_TRUE(input.by_service.at("web").empty());

  agent::RingPublisher publisher(default_options());
  const std::string published = publisher_checksum(publisher, members);
  EXPECT_EQ(Checker::ring_checksum(members), published);
  EXPECT_EQ(publisher.current()->weights(), (std::vector<std::uint32_t>{ring::kMaxWeight, 1, 3, 1, 1}));

  // The checker's former rule (services of alive and suspect members,
  // unweighted, whatever their health) gives another ring for this list:
  // the agreement above is not an accident of the list.
  std::vector<std::string> old_rule;
  for (const auto& m : members) {
    const bool live = m.state == MemberState::kAlive || m.state == MemberState::kSuspect;
    if (live && !m.service.empty()) old_rule.push_back(m.service);
  }
  EXPECT_NE(ring::Ring::build(old_rule)->checksum(), published);

  // The order members come in does not matter to either.
  auto reversed = members;
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(Checker::ring_checksum(reversed), published);
  agent::RingPublisher fresh(default_options());
  EXPECT_EQ(publisher_checksum(fresh, reversed), published);
}

// Every member through every state and health, one change at a time, as
// gossip would deliver them: the publisher rebuilds incrementally from its
// previous rings, the checker from scratch, and they agree at each step.
TEST(SimRingRule, CheckerAndPublisherAgreeThroughStateChanges) {
  auto members = mixed_members();
  agent::RingPublisher publisher(default_options());
  std::size_t steps = 0;
  for (std::size_t i = 0; i < members.size(); ++i) {
    const gossip::Member original = members[i];
    for (MemberState state : {MemberState::kSuspect, MemberState::kDead, MemberState::kLeft, MemberState::kAlive}) {
      members[i].state = state;
      ASSERT_EQ(Checker::ring_checksum(members), publisher_checksum(publisher, members))
          << members[i].name << " " << gossip::to_string(state);
      ++steps;
    }
    for (ServiceState health : {ServiceState::kFailing, ServiceState::kDraining, ServiceState::kUnchecked,
                                ServiceState::kPassing}) {
      members[i].service_state = health;
      ASSERT_EQ(Checker::ring_checksum(members), publisher_checksum(publisher, members))
          << members[i].name << " " << gossip::to_string(health);
      ++steps;
    }
    members[i] = original;
  }
  EXPECT_EQ(steps, 8 * members.size());
}

// The same on a simulated cluster: weighted members with service tags, one
// draining from the start, then one crashed. At each convergence every
// member's view gives the checker's checksum and the publisher's alike.
TEST(SimRingRule, CheckerAndPublisherAgreeOnSimulatedViews) {
  Cluster c(sim_seed(1600));
  constexpr std::size_t kMembers = 6;
  for (std::size_t i = 0; i < kMembers; ++i) {
    c.add_node([i](gossip::Config& cfg) {
      cfg.service = "10.9.0." + std::to_string(i + 1) + ":80";
      cfg.tags = {{"weight", std::to_string(i + 1)}, {"service", i % 2 == 0 ? "even" : "odd"}};
      if (i == 4) cfg.service_state = ServiceState::kDraining;
    });
  }
  c.start(0, {});
  for (std::size_t i = 1; i < kMembers; ++i) c.start(i, {c.addr(0)});
  auto check_views = [&](std::size_t want_nodes) {
    for (std::size_t o = 0; o < c.size(); ++o) {
      if (!c.running(o)) continue;
      const auto view = c.node(o).members();
      agent::RingPublisher publisher(default_options());
      EXPECT_EQ(Checker::ring_checksum(c, o), publisher_checksum(publisher, view)) << c.name(o);
      EXPECT_EQ(publisher.current()->nodes().size(), want_nodes) << c.name(o);
    }
  };
  // The checker's convergence: every running member sees exactly the
  // running ones and serves the same ring.
  auto converged = [&] { return Checker::converged(c, nullptr); };
  ASSERT_TRUE(c.run_until_polled(converged, sec(20), ms(100)));
  check_views(kMembers - 1);  // n4 drains
  c.crash(5);
  ASSERT_TRUE(c.run_until_polled(converged, sec(30), ms(100)));
  check_views(kMembers - 2);
  EXPECT_TRUE(c.violations().empty());
}

}  // namespace
}  // namespace ringd::sim
