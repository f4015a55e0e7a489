// The pure parts of serf-style event handlers (agent/event_handlers.h).
#include <gtest/gtest.h>

#include "agent/event_handlers.h"
#include "agent_args.h"

namespace ringd::agent {
namespace {

TEST(EventHandlersTest, FiltersAndScripts) {
  std::string why;
  auto all = parse_event_handler("/usr/local/bin/notify --all", &why);
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->events.empty());
  EXPECT_EQ(all->script, "/usr/local/bin/notify --all");
  auto some = parse_event_handler("member-join,member-failed=echo $SERF_EVENT >> /tmp/x", &why);
  ASSERT_TRUE(some);
  EXPECT_EQ(some->events, (std::set<std::string>{"member-join", "member-failed"}));
  EXPECT_EQ(some->script, "echo $SERF_EVENT >> /tmp/x");
  // A script with '=' of its own and no filter.
  auto env = parse_event_handler("FOO=1 /bin/handler", &why);
  ASSERT_TRUE(env);
  EXPECT_TRUE(env->events.empty());
  EXPECT_EQ(env->script, "FOO=1 /bin/handler");
  EXPECT_FALSE(parse_event_handler("member-joined=x", &why));
  EXPECT_NE(why.find("unknown event in 'member-joined'"), std::string::npos) << why;
  EXPECT_FALSE(parse_event_handler("member-join=  ", &why));
  EXPECT_EQ(why, "no script to run");
  EXPECT_NE(testing::error_of({"--event-handler", "member-reap=x"}).find("--event-handler member-reap=x: unknown event"),
            std::string::npos);
  EXPECT_EQ(testing::parse({"--event-handler", "member-leave=y", "--event-handler", "z"}).event_handlers.size(), 2u);
  EXPECT_NE(testing::error_of({"--event-handler-timeout-ms", "5"}).find("must be 100 to"), std::string::npos);
}

TEST(EventHandlersTest, SerfNamesLinesAndEnvironment) {
  using K = gossip::Event::Kind;
  EXPECT_EQ(serf_event_name(K::kJoined), "member-join");
  EXPECT_EQ(serf_event_name(K::kAlive), "member-join");
  EXPECT_EQ(serf_event_name(K::kLeft), "member-leave");
  EXPECT_EQ(serf_event_name(K::kDead), "member-failed");
  EXPECT_EQ(serf_event_name(K::kUpdated), "member-update");
  EXPECT_EQ(serf_event_name(K::kSuspect), "");
  gossip::Member m;
  m.name = "web\t7\n";
  m.address = "10.0.0.7:7946";
  m.service = "10.0.0.7:8000";
  m.tags = {{"zone", "eu"}, {"weight", "2"}};
  EXPECT_EQ(member_line(m), "web 7 \t10.0.0.7:7946\t10.0.0.7:8000\tweight=2,zone=eu\n");
  const auto env = handler_environment("member-failed", m);
  for (const char* want : {"RINGD_EVENT=member-failed", "SERF_EVENT=member-failed", "SERF_SELF_ROLE=10.0.0.7:8000",
                           "SERF_TAG_ZONE=eu", "RINGD_TAG_WEIGHT=2"}) {
    EXPECT_NE(std::find(env.begin(), env.end(), want), env.end()) << want;
  }
}

}  // namespace
}  // namespace ringd::agent
