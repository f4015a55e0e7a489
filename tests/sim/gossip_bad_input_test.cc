// tests/sim/gossip_bad_input_test.cc — hostile datagrams reaching members of
// a running cluster (virtual clock, simulated network): every kind of bad
// packet is dropped and counted by reason; forged suspect / dead / left
// about a live member are refuted; a flood from one source changes nothing
// but the counters. The codec side of each bad packet is in
// tests/unit/gossip_bad_packet_test.cc.
#include <gtest/gtest.h>

#include <random>

#include "gossip/codec.h"
#include "support/sim_cluster.h"

namespace ringd::sim {
namespace {

using gossip::MemberState;
namespace msg = gossip::msg;
namespace codec = gossip::codec;

const std::string kEvil = "10.66.6.6:666";  // not a member

std::string varint(std::uint64_t v) {
  std::string out;
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>((v & 0x7f) | 0x80));
  out.push_back(static_cast<char>(v));
  return out;
}
std::string len_field(unsigned field, const std::string& body) {
  return varint(field << 3 | 2) + varint(body.size()) + body;
}
const std::string kHeader = "\x08\x01";

std::string packet_of(std::vector<msg::Message> ms) {
  msg::Packet p;
  p.messages = std::move(ms);
  return codec::encode(p);
}

std::uint64_t drops(const Cluster& c, std::size_t i) {
  std::uint64_t n = 0;
  for (const char* k : {"malformed_oversize", "malformed_decode", "bad_version", "malformed_too_many",
                        "malformed_bad_field"}) {
    n += c.counter(i, k);
  }
  return n;
}

TEST(GossipBadInput, EachBadPacketIsDroppedAndCountedByReason) {
  Cluster c(sim_seed(1301));
  c.add_and_start(4);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  const auto members_before = c.node(1).members();
  std::string many = kHeader;
  for (int i = 0; i < 2000; ++i) many += len_field(2, "");  // 2,000 empty messages in 4 KB
  std::string groups = kHeader;
  for (int i = 0; i < 5000; ++i) groups += "\x4b";  // start group, field 9: 5,000 deep
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"truncated", packet_of({msg::Alive{"n9", "10.0.0.9:7946", "", 1}}).substr(0, 9), "malformed_decode"},
      {"unknown message type", kHeader + len_field(2, len_field(8, "\x08\x01")), "malformed_bad_field"},
      {"bad protobuf", kHeader + "\x17", "malformed_decode"},
      {"name not UTF-8", kHeader + len_field(2, len_field(6, len_field(1, "\xff"))), "malformed_decode"},
      {"huge repeated count", many, "malformed_too_many"},
      {"oversized", std::string(1400 * 4 + 1, '\0'), "malformed_oversize"},
      {"packet inside a packet", kHeader + len_field(2, len_field(9, packet_of({msg::Dead{"n2", 9, "x"}}))),
       "malformed_bad_field"},
      {"nested groups", groups, "malformed_decode"},
      {"version 2", "\x08\x02", "bad_version"},
  };
  for (const auto& [what, bytes, counter] : cases) {
    const std::uint64_t before = c.counter(1, counter);
    const std::uint64_t all_before = drops(c, 1);
    c.inject(kEvil, 1, bytes);
    EXPECT_EQ(c.counter(1, counter), before + 1) << what;
    EXPECT_EQ(drops(c, 1), all_before + 1) << what;
  }
  const auto members_after = c.node(1).members();
  ASSERT_EQ(members_after.size(), members_before.size());
  for (std::size_t i = 0; i < members_after.size(); ++i) {
    EXPECT_EQ(members_after[i].state, members_before[i].state);
    EXPECT_EQ(members_after[i].incarnation, members_before[i].incarnation);
  }
  c.run_for(sec(10));
  EXPECT_TRUE(c.converged());
  EXPECT_EQ(c.counter(1, "suspicions"), 0u);
}

// A forged update about live member n3, as any host could send it to n1.
struct ForgeRun {
  std::uint64_t incarnation_before = 0;
  std::uint64_t incarnation_after = 0;
  bool refuted_everywhere = false;
  Duration took{};
  std::size_t observers_fooled = 0;  // members that saw n3 not alive at some point
};

ForgeRun forge(std::uint64_t seed, const std::function<msg::Message(std::uint64_t)>& lie) {
  Cluster c(seed);
  c.add_and_start(6);
  EXPECT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  ForgeRun r;
  r.incarnation_before = c.node(3).self().incarnation;
  std::set<std::size_t> fooled;
  c.set_event_hook([&](std::size_t o, const gossip::Event& e) {
    if (e.member.name == c.name(3) && e.kind != gossip::Event::Kind::kAlive) fooled.insert(o);
  });
  const Time t0 = c.now();
  c.inject(kEvil, 1, packet_of({lie(r.incarnation_before)}));
  r.refuted_everywhere = c.run_until(
      [&] {
        for (std::size_t o = 0; o < c.size(); ++o) {
          auto v = c.view(o, 3);
          if (o != 3 && (!v || v->state != MemberState::kAlive || v->incarnation <= r.incarnation_before)) {
            return false;
          }
        }
        return true;
      },
      sec(10));
  r.took = c.now() - t0;
  r.incarnation_after = c.node(3).self().incarnation;
  r.observers_fooled = fooled.size();
  c.run_for(sec(10));  // and it stays so
  EXPECT_TRUE(c.converged());
  EXPECT_GE(c.counter(3, "refutations"), 1u);
  return r;
}

// A forgery about n3 is refuted on every member within 3 s, n3's incarnation
// rising by more than min_rise; `what` names the state the forgery claimed.
void expect_refuted(const ForgeRun& r, std::uint64_t min_rise, const char* what) {
  EXPECT_TRUE(r.refuted_everywhere) << what;
  EXPECT_GT(r.incarnation_after, r.incarnation_before + min_rise) << what;
  EXPECT_LT(r.took, sec(3)) << what;
  std::cout << "forged " << what << ": refuted on every member after " << r.took.count() / 1000000
            << " ms; members that saw n3 " << what << " meanwhile: " << r.observers_fooled << "\n";
}

TEST(GossipBadInput, ForgedSuspectAboutALiveMemberIsRefuted) {
  expect_refuted(forge(sim_seed(1302), [](std::uint64_t inc) { return msg::Suspect{"n3", inc, "n5"}; }), 0,
                 "suspect");
}

TEST(GossipBadInput, ForgedDeadAboutALiveMemberIsRefuted) {
  expect_refuted(forge(sim_seed(1303), [](std::uint64_t inc) { return msg::Dead{"n3", inc, "n5", false}; }), 0,
                 "dead");
}

TEST(GossipBadInput, ForgedLeaveOfALiveMemberIsRefuted) {
  expect_refuted(forge(sim_seed(1304), [](std::uint64_t inc) { return msg::Dead{"n3", inc + 1, "n3", true}; }), 1,
                 "left");
}

TEST(GossipBadInput, ForgedDeathFarAheadIsRefusedOutright) {
  Cluster c(sim_seed(1305));
  c.add_and_start(4);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  const std::uint64_t inc = c.node(3).self().incarnation;
  c.inject(kEvil, 1, packet_of({msg::Dead{"n3", inc + (std::uint64_t{1} << 40), "n5", false}}));
  c.inject(kEvil, 1, packet_of({msg::Suspect{"n3", ~std::uint64_t{0}, "n5"}}));
  EXPECT_EQ(c.counter(1, "incarnation_jumps_refused"), 2u);
  EXPECT_TRUE(c.sees(1, 3, MemberState::kAlive));
  c.run_for(sec(5));
  EXPECT_TRUE(c.converged());
  EXPECT_EQ(c.node(3).self().incarnation, inc);
}

TEST(GossipBadInput, ForgedDeathsInAPushPullAreOnlySuspicionsAndRefuted) {
  Cluster c(sim_seed(1306));
  c.add_and_start(5);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  msg::PushPull pp;
  pp.source = "evil";
  for (std::size_t i = 0; i < c.size(); ++i) {
    pp.members.push_back({c.name(i), c.addr(i), "", c.node(i).self().incarnation, MemberState::kDead});
  }
  (void)c.node(1).handle_stream(c.now(), kEvil, codec::encode(pp));
  EXPECT_EQ(c.counter(1, "members_dead"), 0u);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  EXPECT_EQ(c.counter(0, "members_dead") + c.counter(2, "members_dead"), 0u);
}

// The simulated counterpart of tests/integration/test_gossip_flood.py:
// 100,000 datagrams in 5 s from one source to n1 (garbage and
// valid-looking), while the cluster runs.
TEST(GossipBadInput, FloodFromOneSourceChangesNothingButCounters) {
  Cluster c(sim_seed(1307));
  c.add_and_start(5);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); }, sec(10)));
  std::mt19937_64 rng(1307);
  const std::vector<std::string> valid_looking = {
      packet_of({msg::Ping{1, "not-n1", "x", kEvil}}),              // wrong target
      packet_of({msg::Ack{123456, "n2", 42}}),                       // stale ack
      packet_of({msg::Nack{99, "n2"}}),                              // stale nack
      packet_of({msg::Suspect{"nobody", 1, "x"}, msg::Dead{"ghost", 1, "x", false}}),
      packet_of({msg::PingReq{7, "n9", "10.99.0.1:7946", "x", kEvil}}),  // relay to nowhere
      packet_of({msg::Alive{"n2", c.addr(2), "", 0}}),               // old news
  };
  std::uint64_t sent = 0;
  const std::uint64_t drops_before = drops(c, 1);
  const std::uint64_t probes_before = c.counter(1, "pings_sent");
  const Time end = c.now() + sec(5);
  while (c.now() < end) {
    for (int i = 0; i < 20; ++i, ++sent) {  // 20 per virtual millisecond
      if (sent % 2 == 0) {
        std::string junk(rng() % 200, '\0');
        for (auto& ch : junk) ch = static_cast<char>(rng());
        c.inject(kEvil, 1, junk);
      } else {
        c.inject(kEvil, 1, valid_looking[rng() % valid_looking.size()]);
      }
    }
    c.run_for(ms(1));
  }
  EXPECT_EQ(sent, 100000u);
  EXPECT_GT(drops(c, 1) - drops_before, 40000u);
  // n1 went on probing: one probe per 300 ms interval, most of them.
  EXPECT_GE(c.counter(1, "pings_sent") - probes_before, 12u);
  EXPECT_GT(c.counter(1, "ping_reqs_received"), 5000u);  // relays: at most kMaxRelays at once
  EXPECT_EQ(c.node(1).members().size(), 5u);
  EXPECT_TRUE(c.converged());
  for (std::size_t i = 0; i < c.size(); ++i) EXPECT_EQ(c.counter(i, "suspicions"), 0u) << i;
}

}  // namespace
}  // namespace ringd::sim
