// tests/unit/agent_busy_poll_test.cc — when a RESP loop polls before it
// sleeps: only after wake-ups of clients that wait for each reply, only
// while polls keep finding work, and then only as an occasional probe; and
// never for longer than 3/4 of the time a request takes to serve.
#include "agent/busy_poll.h"

#include <gtest/gtest.h>

namespace ringd::agent {
namespace {

using std::chrono::microseconds;
using std::chrono::nanoseconds;

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

TEST(BusyPollPolicyTest, BudgetStartsAtTheConfiguredMaximum) {
  BusyPollPolicy p(microseconds(5));
  EXPECT_EQ(p.budget(), microseconds(5));
}

TEST(BusyPollPolicyTest, BudgetFollowsTheTimeARequestTakes) {
  BusyPollPolicy p(microseconds(5));
  // Unix-socket-like traffic: 2 commands in 2 reads, 8 us of work, 4 us
  // each: polls of up to 3 us.
  for (int i = 0; i < 200; ++i) p.record_work(microseconds(8), 2, 2);
  EXPECT_NEAR(static_cast<double>(p.budget().count()), 3000.0, 20.0);
  // Slower requests again: the budget grows back, but never past the maximum.
  for (int i = 0; i < 200; ++i) p.record_work(microseconds(9), 1, 1);
  EXPECT_EQ(p.budget(), microseconds(5));
}

TEST(BusyPollPolicyTest, OneSlowWakeUpMovesTheBudgetASixteenthOfTheWay) {
  BusyPollPolicy p(microseconds(100));
  for (int i = 0; i < 300; ++i) p.record_work(microseconds(4), 1, 1);
  EXPECT_NEAR(static_cast<double>(p.budget().count()), 3000.0, 20.0);
  p.record_work(microseconds(164), 1, 1);  // a stall: the mean moves 10 us, the budget 7.5
  EXPECT_NEAR(static_cast<double>(p.budget().count()), 10500.0, 50.0);
}

TEST(BusyPollPolicyTest, PipelinedAndEmptyWakeUpsDoNotSetTheBudget) {
  BusyPollPolicy p(microseconds(5));
  for (int i = 0; i < 200; ++i) {
    p.record_work(microseconds(8), 1, 16);  // pipelined: 0.5 us a command
    p.record_work(microseconds(3), 1, 0);   // a partial request, no command
    p.record_work(microseconds(3), 0, 0);   // an accept
  }
  EXPECT_EQ(p.budget(), microseconds(5));
}

TEST(BusyPollPolicyTest, ZeroMaximumKeepsAZeroBudget) {
  BusyPollPolicy p(microseconds(0));
  EXPECT_FALSE(p.enabled());
  EXPECT_TRUE(BusyPollPolicy(microseconds(1)).enabled());
  for (int i = 0; i < 50; ++i) p.record_work(microseconds(4), 1, 1);
  EXPECT_EQ(p.budget(), nanoseconds(0));
}

}  // namespace
}  // namespace ringd::agent
