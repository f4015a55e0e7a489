// tests/unit/gossip_profiles_test.cc — named profiles and config validation.
#include <gtest/gtest.h>

#include "gossip/node.h"
#include "gossip/profiles.h"

namespace ringd::gossip {
namespace {

Config named(Config c) {
  c.name = "n1";
  c.advertise = "127.0.0.1:7946";
  return c;
}

TEST(GossipProfiles, EveryProfileIsValidAndLanIsTheDefault) {
  for (auto name : profile_names()) {
    auto c = profile_config(name);
    ASSERT_TRUE(c) << name;
    EXPECT_EQ(Node::validate(named(*c)), std::nullopt) << name;
  }
  EXPECT_FALSE(profile_config("fast"));
  EXPECT_FALSE(profile_config(""));
  const Config lan = *profile_config("lan");
  const Config def;
  EXPECT_EQ(lan.probe_interval, def.probe_interval);
  EXPECT_EQ(lan.probe_timeout, def.probe_timeout);
  EXPECT_EQ(lan.suspicion_mult, def.suspicion_mult);
  EXPECT_EQ(lan.gossip_interval, def.gossip_interval);
  EXPECT_EQ(lan.heal_interval, def.heal_interval);
}

TEST(GossipProfiles, OrderedBySpeed) {
  const Config local = *profile_config("local");
  const Config lan = *profile_config("lan");
  const Config wan = *profile_config("wan");
  EXPECT_LT(local.probe_interval, lan.probe_interval);
  EXPECT_LT(lan.probe_interval, wan.probe_interval);
  EXPECT_LE(local.suspicion_mult, lan.suspicion_mult);
  EXPECT_LT(lan.suspicion_mult, wan.suspicion_mult);
  // Relays' nacks must fit in the probe period: timeout ceiling well below it.
  for (const Config& c : {local, lan, wan}) {
    EXPECT_LE(c.probe_timeout_ceiling * 2, c.probe_interval);
    EXPECT_LE(c.probe_timeout_floor, c.probe_timeout_ceiling);
  }
}

TEST(GossipProfiles, ValidateNamesTheProblem) {
  struct Case {
    void (*tweak)(Config&);
    const char* needle;
  };
  const Case cases[] = {
      {[](Config& c) { c.name.clear(); }, "name"},
      {[](Config& c) { c.advertise.clear(); }, "advertise"},
      {[](Config& c) { c.probe_timeout = c.probe_interval; }, "probe_timeout must be less"},
      {[](Config& c) { c.probe_interval = Duration::zero(); }, "probe_interval must be positive"},
      {[](Config& c) { c.probe_timeout_floor = std::chrono::milliseconds(90); },
       "probe_timeout_floor"},
      {[](Config& c) { c.suspicion_mult = 0; }, "suspicion_mult"},
      {[](Config& c) { c.max_packet_size = 100; }, "max_packet_size"},
      {[](Config& c) { c.tags.emplace(std::string(), std::string(1, 'x')); }, "tag keys"},
      {[](Config& c) { c.tags["k"] = std::string(300, 'v'); }, "tag keys"},
      {[](Config& c) {
         for (char i = '0'; i <= '9'; ++i) c.tags[std::string("key") + i] = std::string(60, 'v');
       },
       "over the limit of 512"},
  };
  for (const auto& c : cases) {
    Config cfg = named(Config{});
    c.tweak(cfg);
    const auto why = Node::validate(cfg);
    ASSERT_TRUE(why) << c.needle;
    EXPECT_NE(why->find(c.needle), std::string::npos) << *why;
  }
  Config ok = named(Config{});
  ok.service = "10.0.0.7:8000";
  ok.tags = {{"zone", "eu-1"}, {"weight", "2"}};
  EXPECT_EQ(Node::validate(ok), std::nullopt);
}

}  // namespace
}  // namespace ringd::gossip
