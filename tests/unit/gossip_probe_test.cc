// tests/unit/gossip_probe_test.cc — one probe round as state: which answers
// are its own, when the indirect phase is due, and the verdict.
#include <gtest/gtest.h>

#include "gossip/probe.h"

namespace ringd::gossip {
namespace {

const Time kT0 = std::chrono::seconds(1000);
const Time kIndirect = kT0 + std::chrono::milliseconds(100);

Probe round(std::uint64_t seq = 7) {
  Probe p;
  p.begin(seq, "n2", 3, kT0, kIndirect);
  return p;
}

TEST(GossipProbe, NoRoundOwnsNothing) {
  Probe p;
  EXPECT_FALSE(p.active());
  EXPECT_EQ(p.ack(0), Probe::Answer::kNotOurs);
  EXPECT_FALSE(p.nack(0));
  EXPECT_FALSE(p.tcp_ack(0, ""));
  EXPECT_EQ(p.indirect_at(), Time::max());
}

TEST(GossipProbe, OnlyItsOwnSequenceNumberCounts) {
  Probe p = round(7);
  EXPECT_EQ(p.ack(8), Probe::Answer::kNotOurs);
  EXPECT_FALSE(p.nack(6));
  EXPECT_EQ(p.nacks(), 0);
  EXPECT_EQ(p.ack(7), Probe::Answer::kFirst);
  EXPECT_EQ(p.ack(7), Probe::Answer::kAgain);  // a relayed copy after the direct ack
  EXPECT_EQ(p.verdict(), Probe::Verdict::kAcked);
}

TEST(GossipProbe, IndirectPhaseIsDueOnceAtTheDirectTimeoutUnlessAcked) {
  Probe p = round();
  EXPECT_EQ(p.indirect_at(), kIndirect);
  EXPECT_FALSE(p.indirect_due(kIndirect - std::chrono::nanoseconds(1)));
  EXPECT_TRUE(p.indirect_due(kIndirect));
  p.indirect_sent(3);
  EXPECT_FALSE(p.indirect_due(kIndirect));
  EXPECT_EQ(p.indirect_at(), Time::max());
  EXPECT_EQ(p.relays_asked(), 3);

  Probe q = round();
  ASSERT_EQ(q.ack(q.seq()), Probe::Answer::kFirst);
  EXPECT_FALSE(q.indirect_due(kIndirect));
}

TEST(GossipProbe, VerdictsAndSilence) {
  Probe failed = round();
  failed.indirect_sent(3);
  EXPECT_EQ(failed.verdict(), Probe::Verdict::kFailed);
  EXPECT_TRUE(failed.silent());

  Probe nacked = round();
  nacked.indirect_sent(3);
  EXPECT_TRUE(nacked.nack(nacked.seq()));
  EXPECT_TRUE(nacked.nack(nacked.seq()));
  EXPECT_EQ(nacked.nacks(), 2);
  EXPECT_EQ(nacked.verdict(), Probe::Verdict::kFailed);
  EXPECT_FALSE(nacked.silent());  // relays answered: our network works

  Probe tcp = round();
  tcp.tcp_ping_sent(42);
  EXPECT_EQ(tcp.tcp_stream(), 42u);
  EXPECT_FALSE(tcp.tcp_ack(tcp.seq(), "n3")) << "an ack from someone else is not the target's";
  EXPECT_FALSE(tcp.tcp_ack(tcp.seq() + 1, "n2"));
  EXPECT_TRUE(tcp.tcp_ack(tcp.seq(), "n2"));
  EXPECT_EQ(tcp.verdict(), Probe::Verdict::kTcpOnly);
  EXPECT_FALSE(tcp.silent());
}

TEST(GossipProbe, BeginStartsAfreshAndClearEnds) {
  Probe p = round(7);
  p.indirect_sent(2);
  p.nack(7);
  p.tcp_ping_sent(9);
  p.begin(8, "n4", 5, kT0 + std::chrono::seconds(1), kIndirect + std::chrono::seconds(1));
  EXPECT_EQ(p.seq(), 8u);
  EXPECT_EQ(p.target(), "n4");
  EXPECT_EQ(p.incarnation(), 5u);
  EXPECT_EQ(p.nacks(), 0);
  EXPECT_EQ(p.relays_asked(), 0);
  EXPECT_EQ(p.tcp_stream(), 0u);
  EXPECT_EQ(p.ack(7), Probe::Answer::kNotOurs) << "the old round's answers are stale";
  p.clear();
  EXPECT_FALSE(p.active());
  EXPECT_EQ(p.ack(8), Probe::Answer::kNotOurs);
}

}  // namespace
}  // namespace ringd::gossip
