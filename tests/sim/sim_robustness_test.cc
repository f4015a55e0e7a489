// tests/sim/sim_robustness_test.cc — full-state sync, hostile input, packet
// loss, and determinism, on the simulated network.
#include <gtest/gtest.h>

#include <algorithm>

#include "gossip/codec.h"
#include "support/sim_cluster.h"

namespace ringd::sim {
namespace {

using gossip::MemberState;
namespace msg = gossip::msg;
namespace codec = gossip::codec;

bool trace_has(const Cluster& c, const std::string& needle) {
  return std::any_of(c.trace().begin(), c.trace().end(),
                     [&](const std::string& l) { return l.find(needle) != std::string::npos; });
}

// Removes every membership update from datagrams to `victim`, so it hears
// pings and acks but no gossip at all.
Cluster::Filter strip_gossip_to(const std::string& victim) {
  return [victim](const std::string&, const std::string& to, std::string& bytes) {
    if (to != victim) return false;
    msg::Packet p;
    if (codec::decode(bytes, codec::DecodeLimits{}, &p) != codec::DecodeStatus::kOk) return true;
    std::erase_if(p.messages, [](const msg::Message& m) {
      return std::holds_alternative<msg::Alive>(m) || std::holds_alternative<msg::Suspect>(m) ||
             std::holds_alternative<msg::Dead>(m);
    });
    if (p.messages.empty()) return true;
    bytes = codec::encode(p);
    return false;
  };
}

// n7 misses all gossip; n2 restarts with a new service endpoint. Only a
// full-state sync over the stream can tell n7: the periodic push-pull, or the
// one triggered by a persistent digest mismatch.
struct MissedRun {
  bool learned = false;
  std::optional<gossip::Member> view;
  std::uint64_t digest_syncs = 0;
  Duration took{};
};
MissedRun run_missed_gossip(std::uint64_t seed, Duration push_pull, Duration digest_sync,
                            Duration wait) {
  SimOptions o;
  o.base.push_pull_interval = push_pull;
  o.base.digest_sync_interval = digest_sync;
  Cluster c(seed, o);
  MissedRun r;
  c.add_and_start(8);
  EXPECT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  c.set_filter(strip_gossip_to(c.addr(7)));
  c.crash(2);
  c.restart(2, {c.addr(0)}, [](gossip::Config& cfg) {
    cfg.service = "10.9.0.2:8000";
    cfg.incarnation = 10;
  });
  const Time t0 = c.now();
  r.learned = c.run_until(
      [&] {
        auto v = c.view(7, 2);
        return v && v->service == "10.9.0.2:8000";
      },
      wait);
  r.took = c.now() - t0;
  EXPECT_TRUE(c.converged());
  r.view = c.view(7, 2);
  r.digest_syncs = c.counter(7, "digest_syncs");
  return r;
}

TEST(SimRobustness, MemberThatMissedGossipCatchesUpByPeriodicPushPull) {
  const MissedRun r = run_missed_gossip(sim_seed(21), sec(5), Duration::zero(), sec(12));
  EXPECT_TRUE(r.learned);
  ASSERT_TRUE(r.view);
  EXPECT_EQ(r.view->incarnation, 10u);
}

TEST(SimRobustness, MemberThatMissedGossipCatchesUpByDigestMismatch) {
  const MissedRun r = run_missed_gossip(sim_seed(21), std::chrono::hours(1), sec(2), sec(12));
  EXPECT_TRUE(r.learned);
  EXPECT_GE(r.digest_syncs, 1u);
  EXPECT_LT(r.took, sec(6));
}

TEST(SimRobustness, WithoutAnySyncTheMissedGossipStaysMissed) {
  // The control experiment for the two tests above: the filter really cuts
  // n7 off from gossip.
  const MissedRun r =
      run_missed_gossip(sim_seed(21), std::chrono::hours(1), Duration::zero(), sec(12));
  EXPECT_FALSE(r.learned);
}

TEST(SimRobustness, NewMemberIsFoundByAMemberThatMissedItsJoin) {
  SimOptions o;
  o.base.digest_sync_interval = Duration::zero();  // isolate the mechanism under test
  Cluster c(sim_seed(22), o);
  c.add_and_start(6);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  c.set_filter(strip_gossip_to(c.addr(5)));
  c.add_node();
  c.start(6, {c.addr(0)});
  // n6 probes n5, which has never heard of it and syncs with it.
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  EXPECT_GE(c.counter(5, "discovery_syncs"), 1u);
}

std::string packet_of(std::vector<msg::Message> ms, std::uint32_t version = msg::kProtocolVersion) {
  msg::Packet p;
  p.version = version;
  p.messages = std::move(ms);
  return codec::encode(p);
}

TEST(SimRobustness, MalformedPacketsAreCountedAndIgnored) {
  Cluster c(sim_seed(23));
  c.add_and_start(4);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  const std::string evil = "10.66.6.6:666";
  c.inject(evil, 1, std::string("\xff\xff\xff\xff", 4));
  c.inject(evil, 1, std::string("\x12\x05\x0a", 3));  // truncated submessage
  c.inject(evil, 1, packet_of({msg::Ack{1, "x"}}, 99));
  c.inject(evil, 1, "");  // empty: version 0
  c.inject(evil, 1, std::string(200000, 'a'));
  c.inject(evil, 1, packet_of({msg::Alive{"", "1.2.3.4:5", "", 1}}));
  c.inject(evil, 1, packet_of({msg::Alive{std::string(1000, 'n'), "1.2.3.4:5", "", 1}}));
  c.inject(evil, 1, packet_of(std::vector<msg::Message>(300, msg::Ack{1, "x"})));
  c.inject(evil, 1, packet_of({msg::Ping{7, "not-n1", "x", evil}}));
  EXPECT_EQ(c.counter(1, "malformed_decode"), 2u);
  EXPECT_EQ(c.counter(1, "bad_version"), 2u);
  EXPECT_EQ(c.counter(1, "malformed_oversize"), 1u);
  EXPECT_EQ(c.counter(1, "malformed_bad_field"), 2u);
  EXPECT_EQ(c.counter(1, "malformed_too_many"), 1u);
  EXPECT_EQ(c.counter(1, "wrong_target"), 1u);
  // Garbage over the stream: no reply, counted.
  EXPECT_EQ(c.node(1).handle_stream(c.now(), evil, "garbage!"), "");
  EXPECT_EQ(c.counter(1, "malformed_decode"), 3u);
  EXPECT_EQ(c.node(1).members().size(), 4u);
  c.run_for(sec(10));
  EXPECT_TRUE(c.converged());
  EXPECT_FALSE(trace_has(c, " suspect "));
}

TEST(SimRobustness, FloodOfUnknownMembersIsBounded) {
  SimOptions o;
  o.base.max_members = 50;
  Cluster c(sim_seed(24), o);
  c.add_and_start(3);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  for (int p = 0; p < 100; ++p) {
    std::vector<msg::Message> ms;
    for (int i = 0; i < 20; ++i) {
      ms.push_back(msg::Alive{"fake-" + std::to_string(p * 20 + i), "10.1.1.1:1", "", 1});
    }
    c.inject("10.66.6.6:666", 0, packet_of(std::move(ms)));
  }
  EXPECT_LE(c.node(0).members().size(), 50u);
  EXPECT_GE(c.counter(0, "members_rejected"), 2000u - 50u);
  // A push-pull with more members than allowed is refused outright.
  msg::PushPull pp;
  pp.source = "evil";
  for (int i = 0; i < 200; ++i) pp.members.push_back({"f" + std::to_string(i), "1.1.1.1:1", "", 0, MemberState::kAlive});
  EXPECT_EQ(c.node(1).handle_stream(c.now(), "10.66.6.6:666", codec::encode(pp)), "");
  EXPECT_EQ(c.counter(1, "malformed_too_many"), 1u);
}

TEST(SimRobustness, TenPercentPacketLossCausesNoFalseDeaths) {
  Cluster c(sim_seed(25));
  c.add_and_start(12);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  c.set_drop_rate(0.10);
  c.run_for(sec(60));
  c.set_drop_rate(0.0);
  c.run_for(sec(10));
  EXPECT_FALSE(trace_has(c, " dead ")) << "a live member was declared dead";
  EXPECT_TRUE(c.converged());
  std::string why;
  EXPECT_TRUE(c.events_match_members(&why)) << why;
  EXPECT_TRUE(c.violations().empty());
}

TEST(SimRobustness, OneWayPartitionHeals) {
  Cluster c(sim_seed(26));
  c.add_and_start(6);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  c.isolate(2);
  ASSERT_TRUE(c.run_until([&] { return c.all_see(2, MemberState::kDead); }, sec(20)));
  c.heal(2);
  // n2 still probes the others; their acks tell it it is dead; it refutes.
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(20)));
  EXPECT_GE(c.node(2).self().incarnation, 1u);
}

std::vector<std::string> scenario(std::uint64_t seed) {
  Cluster c(seed);
  c.add_and_start(10);
  c.set_drop_rate(0.02);
  c.run_for(sec(5));
  c.crash(3);
  c.run_for(sec(10));
  c.leave(4);
  c.run_for(sec(2));
  c.crash(4);
  c.restart(3, {c.addr(0)});
  c.run_for(sec(10));
  return c.trace();
}

TEST(SimRobustness, SameSeedSameTrace) {
  const std::uint64_t seed = sim_seed(27);
  const auto a = scenario(seed);
  const auto b = scenario(seed);
  EXPECT_GT(a.size(), 100u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, scenario(seed + 1));
}

}  // namespace
}  // namespace ringd::sim
