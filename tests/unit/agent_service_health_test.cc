// tests/unit/agent_service_health_test.cc — the agent's own service: check
// results to the gossiped state (service_health.h), the --service-check
// forms, and the ring rule (only passing services take keys).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent/ring_publisher.h"
#include "agent/service_check.h"
#include "agent/service_health.h"
#include "agent_args.h"

namespace ringd::agent {
namespace {

using S = gossip::ServiceState;

// Feeds results ('+' pass, '-' fail) and returns the state after each.
std::vector<S> run(ServiceHealth& h, std::string results) {
  std::vector<S> out;
  for (char c : results) out.push_back(h.record(c == '+'));
  return out;
}

TEST(ServiceHealthTest, RiseAndFall) {
  struct Case {
    int rise, fall;
    const char* results;
    std::vector<S> states;
  };
  const Case cases[] = {
      // A new service takes keys on its first pass.
      {2, 2, "+", {S::kPassing}},
      // ... and stays off until then; `fall` failures make it failing.
      {2, 2, "--++", {S::kUnchecked, S::kFailing, S::kFailing, S::kPassing}},
      // One failure is forgiven (fall 2); two in a row are not.
      {2, 2, "+-+--", {S::kPassing, S::kPassing, S::kPassing, S::kPassing, S::kFailing}},
      // Back after `rise` passes in a row; an interruption starts over.
      {2, 2, "+--+-++", {S::kPassing, S::kPassing, S::kFailing, S::kFailing, S::kFailing, S::kFailing, S::kPassing}},
      {3, 1, "+-+++", {S::kPassing, S::kFailing, S::kFailing, S::kFailing, S::kPassing}},
  };
  for (const auto& c : cases) {
    ServiceHealth h(c.rise, c.fall);
    EXPECT_EQ(run(h, c.results), c.states) << "rise " << c.rise << " fall " << c.fall << " " << c.results;
  }
}

TEST(ServiceHealthTest, DrainOverridesTheChecksUntilUndrain) {
  ServiceHealth h(2, 2);
  h.record(true);
  h.set_drained(true);
  EXPECT_EQ(h.state(), S::kDraining);
  EXPECT_EQ(run(h, "--"), (std::vector<S>{S::kDraining, S::kDraining}));
  EXPECT_EQ(h.health(), S::kFailing);  // checks go on meanwhile
  h.set_drained(false);
  EXPECT_EQ(h.state(), S::kFailing);  // undrain returns to what they said
  EXPECT_EQ(run(h, "++"), (std::vector<S>{S::kFailing, S::kPassing}));
}

TEST(ServiceCheckTest, Forms) {
  std::string why;
  EXPECT_EQ(parse_service_check("tcp", &why)->kind, ServiceCheckSpec::Kind::kTcp);
  EXPECT_EQ(parse_service_check("none", &why)->kind, ServiceCheckSpec::Kind::kNone);
  auto http = parse_service_check("http:/healthz?full=1", &why);
  ASSERT_TRUE(http);
  EXPECT_EQ(http->kind, ServiceCheckSpec::Kind::kHttp);
  EXPECT_EQ(http->path, "/healthz?full=1");
  for (const char* bad : {"", "udp", "http:", "http:health", "http:/a b", "http:/\r\n"}) {
    EXPECT_FALSE(parse_service_check(bad, &why)) << bad;
  }
}

TEST(ServiceCheckTest, FlagsHaveDefaultsAndRanges) {
  using testing::error_of;
  using testing::parse;
  const AgentConfig c = parse({});
  EXPECT_EQ(c.service_check.kind, ServiceCheckSpec::Kind::kTcp);
  EXPECT_EQ(c.service_check.interval.count(), 250);
  EXPECT_EQ(c.service_check.timeout.count(), 200);
  EXPECT_EQ(c.service_check.rise, 2);
  EXPECT_EQ(c.service_check.fall, 2);
  const AgentConfig h = parse({"--service-check", "http:/health", "--service-check-interval-ms", "1000",
                               "--service-check-timeout-ms", "900", "--service-check-rise", "3",
                               "--service-check-fall", "1"});
  EXPECT_EQ(h.service_check.path, "/health");
  EXPECT_EQ(h.service_check.interval.count(), 1000);
  EXPECT_EQ(h.service_check.timeout.count(), 900);
  EXPECT_EQ(h.service_check.rise, 3);
  EXPECT_EQ(h.service_check.fall, 1);
  EXPECT_EQ(error_of({"--service-check", "ping"}), "--service-check ping: expected tcp, http:/PATH or none");
  EXPECT_NE(error_of({"--service-check-timeout-ms", "300"}).find("must not exceed --service-check-interval-ms 250"),
            std::string::npos);
  EXPECT_NE(error_of({"--service-check-rise", "0"}).find("--service-check-rise must be 1 to 100"), std::string::npos);
  EXPECT_NE(error_of({"--service-check-interval-ms", "5"}).find("must be 10 to 60000"), std::string::npos);
}

gossip::Member member(const std::string& name, const std::string& service, S state) {
  gossip::Member m;
  m.name = name;
  m.address = "127.0.0.1:7946";
  m.service = service;
  m.service_state = state;
  return m;
}

TEST(ServiceHealthTest, OnlyPassingServicesAreOnTheRing) {
  RingPublisher publisher(ring::Options{});
  publisher.rebuild({member("a", "10.0.0.1:80", S::kPassing), member("b", "10.0.0.2:80", S::kFailing),
                     member("c", "10.0.0.3:80", S::kDraining), member("d", "10.0.0.4:80", S::kUnchecked)});
  EXPECT_EQ(publisher.current()->nodes(), std::vector<std::string>{"10.0.0.1:80"});
}

}  // namespace
}  // namespace ringd::agent
