// The Prometheus text writer and latency histogram (agent/prometheus.h).
#include <gtest/gtest.h>

#include "agent/prometheus.h"

namespace ringd::agent {
namespace {

TEST(PromTextTest, FamiliesSamplesAndEscaping) {
  PromText t;
  t.family("ringd_things_total", "counter", "Things.\nWith a \\ newline.");
  t.sample(3);
  t.sample({{"reason", "a\"b\\c\nd"}, {"kind", "x"}}, 1.5);
  EXPECT_EQ(t.take(),
            "# HELP ringd_things_total Things.\\nWith a \\\\ newline.\n"
            "# TYPE ringd_things_total counter\n"
            "ringd_things_total 3\n"
            "ringd_things_total{reason=\"a\\\"b\\\\c\\nd\",kind=\"x\"} 1.5\n");
}

TEST(PromTextTest, HistogramIsCumulativeWithInfSumAndCount) {
  LatencyHistogram h;
  h.observe(50);             // 50 ns: the first bucket (<= 100 ns)
  h.observe(100);            // exactly on a bound: that bucket
  h.observe(3'000);          // 3 us: <= 5 us
  h.observe(2'000'000'000);  // 2 s: beyond every bound, only +Inf
  const auto s = h.snapshot();
  EXPECT_EQ(s.count, 4u);
  EXPECT_NEAR(s.sum, 2.00000315, 1e-12);
  PromText t;
  t.family("x_seconds", "histogram", "X.");
  t.histogram({{"command", "get"}}, s);
  const std::string text = t.take();
  EXPECT_NE(text.find("x_seconds_bucket{command=\"get\",le=\"1e-07\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_bucket{command=\"get\",le=\"2.5e-06\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_bucket{command=\"get\",le=\"5e-06\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_bucket{command=\"get\",le=\"1\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_bucket{command=\"get\",le=\"+Inf\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_count{command=\"get\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_sum{command=\"get\"} 2.00000315\n"), std::string::npos) << text;

  LatencyHistogram::Snapshot total;
  LatencyHistogram::add(total, s);
  LatencyHistogram::add(total, s);
  EXPECT_EQ(total.count, 8u);
  EXPECT_EQ(total.buckets[0], 4u);
}

}  // namespace
}  // namespace ringd::agent
