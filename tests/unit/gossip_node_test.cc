// tests/unit/gossip_node_test.cc — one Node driven by hand: compound
// packets, the stream ping, late ticks, the buddy rule on the wire.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "gossip/codec.h"
#include "gossip/node.h"

namespace ringd::gossip {
namespace {

Duration ms(std::int64_t n) { return std::chrono::milliseconds(n); }
const Time kT0 = std::chrono::seconds(1000);

Config config(const std::string& name, const std::string& addr) {
  Config c;
  c.name = name;
  c.advertise = addr;
  return c;
}

std::string packet_of(std::vector<msg::Message> ms) {
  msg::Packet p;
  p.messages = std::move(ms);
  return codec::encode(p);
}

msg::Packet decode_packet(const std::string& bytes) {
  msg::Packet p;
  codec::DecodeLimits lim;
  lim.max_bytes = 1 << 20;
  EXPECT_EQ(codec::decode(bytes, lim, &p), codec::DecodeStatus::kOk);
  return p;
}

std::string member_name(int i) {
  std::string s = "member-";
  s += std::to_string(1000 + i);
  return s;
}
std::string member_addr(int i) {
  std::string s = "10.1.";
  s += std::to_string(i / 200);
  s += '.';
  s += std::to_string(i % 200);
  s += ":7946";
  return s;
}

TEST(GossipNode, CompoundPacketsStayWithinMaxPacketSizeAliveFirst) {
  Node n(config("n0", "10.0.0.1:7946"), 1);
  n.start(kT0, {});
  // 400 members appear at once (alive), and 40 of them are then suspected.
  for (int batch = 0; batch < 20; ++batch) {
    std::vector<msg::Message> ms;
    for (int i = batch * 20; i < batch * 20 + 20; ++i) {
      ms.push_back(msg::Alive{member_name(i), member_addr(i), "", 1});
    }
    n.handle_packet(kT0, "10.9.9.9:1", packet_of(std::move(ms)));
  }
  std::vector<msg::Message> sus;
  for (int i = 0; i < 40; ++i) sus.push_back(msg::Suspect{member_name(i), 1, "x"});
  n.handle_packet(kT0, "10.9.9.9:1", packet_of(std::move(sus)));
  n.take_datagrams();
  std::size_t datagrams = 0;
  for (Time t = kT0; t < kT0 + ms(2000); t += ms(10)) {
    n.tick(t);
    for (const auto& d : n.take_datagrams()) {
      ++datagrams;
      EXPECT_LE(d.bytes.size(), 1400u);
      const msg::Packet p = decode_packet(d.bytes);
      EXPECT_LE(p.messages.size(), 256u);
      // Primary first, then every Alive before any other update.
      bool other_seen = false;
      for (const auto& m : p.messages) {
        const bool update = std::holds_alternative<msg::Alive>(m) ||
                            std::holds_alternative<msg::Suspect>(m) ||
                            std::holds_alternative<msg::Dead>(m);
        if (!update) continue;
        if (std::holds_alternative<msg::Alive>(m)) {
          EXPECT_FALSE(other_seen) << "Alive after a Suspect/Dead";
        } else {
          other_seen = true;
        }
      }
    }
  }
  EXPECT_GT(datagrams, 10u);
  for (const auto& [k, v] : n.counters()) {
    if (k == "broadcast_queue") {
      EXPECT_LE(v, 4096u);
    }
  }
}

TEST(GossipNode, StreamPingIsAnsweredWithAnAckOnlyForUs) {
  Node n(config("n0", "10.0.0.1:7946"), 1);
  n.start(kT0, {});
  const std::string reply = n.handle_stream(
      kT0, "10.0.0.2:5000", codec::encode(msg::Stream{msg::Ping{42, "n0", "n1", "10.0.0.2:7946"}}));
  msg::Stream st;
  ASSERT_EQ(codec::decode(reply, codec::DecodeLimits{}, &st), codec::DecodeStatus::kOk);
  ASSERT_TRUE(std::holds_alternative<msg::Ack>(st));
  EXPECT_EQ(std::get<msg::Ack>(st).seq, 42u);
  EXPECT_EQ(std::get<msg::Ack>(st).source, "n0");
  EXPECT_TRUE(n.handle_stream(kT0, "10.0.0.2:5000",
                              codec::encode(msg::Stream{msg::Ping{43, "other", "n1", "10.0.0.2:7946"}}))
                  .empty());
  // An Ack is never a request.
  EXPECT_TRUE(n.handle_stream(kT0, "10.0.0.2:5000", codec::encode(msg::Stream{msg::Ack{1, "n1", 0}}))
                  .empty());
}

// Two nodes, n0 and n1, wired by hand.
struct Pair {
  Node a{config("n0", "10.0.0.1:7946"), 7};
  Node b{config("n1", "10.0.0.2:7946"), 8};
  Time now = kT0;
  void join() {
    a.start(now, {});
    b.start(now, {"10.0.0.1:7946"});
    for (auto& r : b.take_stream_requests()) {
      const std::string reply = a.handle_stream(now, "10.0.0.2:7946", r.bytes);
      b.handle_stream_reply(now, r.id, reply);
    }
    a.take_datagrams();
    b.take_datagrams();
  }
};

TEST(GossipNode, ProbeJudgedAtALateTickRaisesAwarenessNotASuspicion) {
  Pair p;
  p.join();
  // Run n0 until it has a probe to n1 in flight, dropping everything.
  for (;;) {
    p.now = std::max(p.now, p.a.next_deadline());
    p.a.tick(p.now);
    p.a.take_stream_requests();
    bool pinged = false;
    for (const auto& d : p.a.take_datagrams()) {
      for (const auto& m : decode_packet(d.bytes).messages) {
        pinged = pinged || std::holds_alternative<msg::Ping>(m);
      }
    }
    if (pinged) break;
  }
  // n0 stalls for 2 s, then its timers run.
  p.now += ms(2000);
  p.a.tick(p.now);
  std::uint64_t late = 0, suspicions = 0, awareness = 0;
  for (const auto& [k, v] : p.a.counters()) {
    if (k == "probes_late") late = v;
    if (k == "suspicions") suspicions = v;
    if (k == "awareness") awareness = v;
  }
  EXPECT_EQ(late, 1u);
  EXPECT_EQ(suspicions, 0u);
  EXPECT_EQ(awareness, 1u);
}

TEST(GossipNode, PingToASuspectCarriesTheSuspicionFirst) {
  Pair p;
  p.join();
  p.a.handle_packet(p.now, "10.0.0.9:1", packet_of({msg::Suspect{"n1", 0, "n9"}}));
  bool seen = false;
  for (int i = 0; i < 100 && !seen; ++i) {
    p.now = p.a.next_deadline();
    p.a.tick(p.now);
    p.a.take_stream_requests();
    for (const auto& d : p.a.take_datagrams()) {
      const msg::Packet pk = decode_packet(d.bytes);
      auto ping = std::find_if(pk.messages.begin(), pk.messages.end(),
                               [](const auto& m) { return std::holds_alternative<msg::Ping>(m); });
      if (ping == pk.messages.end()) continue;
      ASSERT_NE(ping, pk.messages.begin());
      const auto* s = std::get_if<msg::Suspect>(&*(ping - 1));
      ASSERT_NE(s, nullptr);
      EXPECT_EQ(s->name, "n1");
      // n1 refutes before acking, so its ack carries the refutation.
      p.b.handle_packet(p.now, "10.0.0.1:7946", d.bytes);
      bool refuted = false;
      for (const auto& r : p.b.take_datagrams()) {
        for (const auto& m : decode_packet(r.bytes).messages) {
          if (const auto* a = std::get_if<msg::Alive>(&m); a && a->name == "n1" && a->incarnation == 1) {
            refuted = true;
          }
        }
      }
      EXPECT_TRUE(refuted);
      seen = true;
    }
  }
  EXPECT_TRUE(seen);
}

// Past push_pull_max_members a state sync carries ourselves and a page of
// the others, the next page next time: successive replies cover everyone,
// and none exceeds max_stream_size, however large the table (issue 15).
TEST(GossipNode, PushPullGoesInPagesWithinItsBounds) {
  Config c = config("n0", "10.0.0.1:7946");
  c.push_pull_max_members = 100;
  c.max_stream_size = 16 << 10;
  c.max_members = 5000;
  Node n(c, 3);
  n.start(kT0, {});
  constexpr int kMembers = 1500;
  // The members arrive in requests small enough for max_stream_size.
  for (int first = 0; first < kMembers; first += 20) {
    msg::PushPull some;
    some.source = member_name(first);
    for (int i = first; i < first + 20; ++i) {
      // Tags make some pages end on bytes before they end on entries.
      Tags tags;
      if (i % 2 == 0) tags = {{"zone", std::string(200, 'z')}, {"rack", std::string(200, 'r')}};
      some.members.push_back(msg::MemberEntry{member_name(i), member_addr(i), "", 1, MemberState::kAlive, tags,
                                              ServiceState::kPassing});
    }
    ASSERT_FALSE(n.handle_stream(kT0, "10.1.0.1:5000", codec::encode(msg::Stream{some})).empty());
  }
  codec::DecodeLimits lim;
  lim.max_bytes = 4 << 20;
  std::set<std::string> seen;
  bool bytes_ended_a_page = false;
  for (int sync = 0; sync < 40 && seen.size() < kMembers + 1; ++sync) {
    msg::PushPull small;
    small.source = member_name(1);
    const std::string reply = n.handle_stream(kT0, "10.1.0.1:5000", codec::encode(msg::Stream{small}));
    ASSERT_LE(reply.size(), c.max_stream_size);
    msg::PushPull pp;
    ASSERT_EQ(codec::decode(reply, lim, &pp), codec::DecodeStatus::kOk);
    ASSERT_LE(pp.members.size(), c.push_pull_max_members);
    ASSERT_FALSE(pp.members.empty());
    EXPECT_EQ(pp.members.front().name, "n0");  // ourselves first
    bytes_ended_a_page = bytes_ended_a_page || pp.members.size() < c.push_pull_max_members;
    for (const auto& e : pp.members) seen.insert(e.name);
  }
  EXPECT_EQ(seen.size(), kMembers + 1u) << "every member in some page";
  EXPECT_TRUE(bytes_ended_a_page);
  std::uint64_t paged = 0;
  for (const auto& [name, value] : n.counters()) {
    if (name == "push_pulls_paged") paged = value;
  }
  EXPECT_GE(paged, 75u);  // the loads above were answered in pages too
}

// Within the bounds the whole table goes, as before.
TEST(GossipNode, SmallTablesSyncWhole) {
  Config c = config("n0", "10.0.0.1:7946");
  c.push_pull_max_members = 100;
  Node n(c, 3);
  n.start(kT0, {});
  msg::PushPull some;
  some.source = member_name(0);
  for (int i = 0; i < 60; ++i) {
    some.members.push_back(msg::MemberEntry{member_name(i), member_addr(i), "", 1, MemberState::kAlive, {},
                                            ServiceState::kPassing});
  }
  msg::PushPull pp;
  ASSERT_EQ(codec::decode(n.handle_stream(kT0, "10.1.0.1:5000", codec::encode(msg::Stream{some})),
                          codec::DecodeLimits{}, &pp),
            codec::DecodeStatus::kOk);
  EXPECT_EQ(pp.members.size(), 61u);
}

// A node that starts from a known view (the simulator's settled clusters):
// it knows every given member at once, emits no events for them, ignores
// its own name and what would pass max_members, and probes each member
// once per round like members that joined.
TEST(GossipNode, StartWithViewKnowsTheViewWithoutEventsOrBroadcasts) {
  Config c = config("n0", "10.0.0.1:7946");
  c.max_members = 40;
  Node n(c, 7);
  std::vector<Member> view;
  view.push_back(Member{"n0", "10.9.9.9:1", "", MemberState::kAlive, 5});  // our name: ignored
  for (int i = 49; i >= 0; --i) {  // out of order on purpose
    view.push_back(Member{member_name(i), member_addr(i), "web", MemberState::kAlive, 3});
  }
  view.push_back(Member{"suspect-one", "10.2.0.1:7946", "", MemberState::kSuspect, 1});
  n.start_with_view(kT0, view);
  EXPECT_TRUE(n.joined());
  const std::vector<Member> members = n.members();
  ASSERT_EQ(members.size(), 40u);  // max_members, self included
  EXPECT_EQ(n.self().address, "10.0.0.1:7946");
  EXPECT_EQ(n.self().incarnation, 0u);
  for (const Member& m : members) {
    if (m.name == "n0") continue;
    EXPECT_EQ(m.state_since, kT0);
    EXPECT_EQ(m.service, "web");
    EXPECT_EQ(m.incarnation, 3u);
  }
  std::uint64_t rejected = 0;
  for (const auto& [name, v] : n.counters()) {
    if (name == "members_rejected") rejected = v;
  }
  EXPECT_EQ(rejected, 12u);  // 50 + 1 given, 39 taken
  const std::vector<Event> events = n.take_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].member.name, "n0");  // only our own join
  EXPECT_TRUE(n.take_datagrams().empty());
  EXPECT_TRUE(n.take_stream_requests().empty());
  // One probe round visits all 39 others once, acked at once.
  std::multiset<std::string> probed;
  Time now = kT0;
  for (int step = 0; step < 2000 && probed.size() < 39; ++step) {
    now = std::max(now, n.next_deadline());
    n.tick(now);
    for (const Datagram& d : n.take_datagrams()) {
      for (const msg::Message& m : decode_packet(d.bytes).messages) {
        const auto* ping = std::get_if<msg::Ping>(&m);
        if (ping == nullptr) continue;
        probed.insert(d.to);
        n.handle_packet(now + ms(1), d.to, packet_of({msg::Ack{ping->seq, ping->target}}));
      }
    }
  }
  EXPECT_EQ(probed.size(), 39u);
  EXPECT_EQ(std::set<std::string>(probed.begin(), probed.end()).size(), 39u) << "a member probed twice in one round";
}

}  // namespace
}  // namespace ringd::gossip
