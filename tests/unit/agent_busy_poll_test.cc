// tests/unit/agent_busy_poll_test.cc — when a RESP loop polls before it
// sleeps: only after wake-ups of clients that wait for each reply, only
// while polls keep finding work, and then only as an occasional probe.
#include "agent/busy_poll.h"

#include <gtest/gtest.h>

namespace ringd::agent {
namespace {

using std::chrono::microseconds;

TEST(BusyPollPolicyTest, ZeroBudgetNeverPolls) {
  BusyPollPolicy p(microseconds(0));
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(p.want_poll(10, 10));
}

TEST(BusyPollPolicyTest, PollsAfterOneCommandPerRead) {
  BusyPollPolicy p(microseconds(5));
  EXPECT_TRUE(p.want_poll(1, 1));
  EXPECT_TRUE(p.want_poll(40, 40));
  EXPECT_TRUE(p.want_poll(40, 50)) << "a few reads with two commands still count as waiting for replies";
}

TEST(BusyPollPolicyTest, NoPollAfterAnIdleOrPipelinedWakeUp) {
  BusyPollPolicy p(microseconds(5));
  EXPECT_FALSE(p.want_poll(0, 0)) << "a wake-up that read nothing (accept, timer, stop)";
  EXPECT_FALSE(p.want_poll(3, 48)) << "16 commands a read: pipelined";
  EXPECT_FALSE(p.want_poll(40, 51));
}

TEST(BusyPollPolicyTest, MissesStopPollingExceptAProbeInSixteen) {
  BusyPollPolicy p(microseconds(5));
  int misses = 0;
  while (p.want_poll(1, 1)) {
    p.record(false);
    ASSERT_LT(++misses, 20);
  }
  EXPECT_GE(misses, 5) << "one or two misses do not stop it";
  EXPECT_LT(p.score(), 128u);
  // Now one eligible wake-up in 16 polls, to notice a change in the traffic.
  int polls = 0;
  for (int i = 0; i < 160; ++i) {
    if (p.want_poll(1, 1)) {
      ++polls;
      p.record(false);
    }
  }
  EXPECT_EQ(polls, 10);
}

TEST(BusyPollPolicyTest, HitsBringPollingBack) {
  BusyPollPolicy p(microseconds(5));
  while (p.want_poll(1, 1)) p.record(false);
  // The traffic changes: every probe now finds work, and after a few probes
  // the loop polls at every eligible wake-up again.
  int wakeups = 0;
  while (p.score() < 128) {
    if (p.want_poll(1, 1)) p.record(true);
    ASSERT_LT(++wakeups, 1000);
  }
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(p.want_poll(1, 1)) << i;
    p.record(true);
  }
}

}  // namespace
}  // namespace ringd::agent
