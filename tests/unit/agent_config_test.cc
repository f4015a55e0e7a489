#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdio>
#include <fstream>

#include "agent/address.h"
#include "agent/config.h"
#include "agent/keyring.h"
#include "agent_args.h"

namespace ringd::agent {
namespace {

using testing::error_of;
using testing::parse;

TEST(AddressTest, SplitsHostPortForms) {
  auto v4 = split_host_port("10.0.0.7:8000");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "10.0.0.7");
  EXPECT_EQ(v4->port, 8000);
  auto v6 = split_host_port("[::1]:7946");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  auto name = split_host_port("seed.example:7946");
  ASSERT_TRUE(name);
  EXPECT_EQ(name->host, "seed.example");
  for (const char* bad : {"", "host", "host:", ":80", "h:0", "h:65536", "h:12x", "::1:80", "[::1]80", "[::1"}) {
    EXPECT_FALSE(split_host_port(bad)) << bad;
  }
}

TEST(AddressTest, CanonicalFormat) {
  EXPECT_EQ(format_endpoint(*parse_endpoint("127.0.0.1:1")), "127.0.0.1:1");
  EXPECT_EQ(format_endpoint(*parse_endpoint("[0:0::1]:7946")), "[::1]:7946");
  EXPECT_FALSE(parse_endpoint("localhost:80"));  // not an IP literal
}

TEST(AgentConfigTest, FlagsFillGossipConfig) {
  auto c = parse({"--node", "n1", "--bind", "127.0.0.1:7000", "--join", "127.0.0.1:7001", "--join",
                  "127.0.0.1:7002", "--service", "127.0.0.1:9001", "--resp", "127.0.0.1:6400", "--http",
                  "127.0.0.1:8000", "--probe-interval-ms", "300"});
  EXPECT_EQ(c.node, "n1");
  EXPECT_EQ(c.advertise, "127.0.0.1:7000");  // defaults to --bind
  EXPECT_EQ(c.join.size(), 2u);
  EXPECT_EQ(c.gossip.name, "n1");
  EXPECT_EQ(c.gossip.service, "127.0.0.1:9001");
  EXPECT_EQ(c.gossip.probe_interval, std::chrono::milliseconds(300));
}

TEST(AgentConfigTest, ProfileThenOverridesAndTags) {
  auto lan = parse({"--node", "n1"});
  auto wan = parse({"--node", "n1", "--profile", "wan"});
  EXPECT_LT(lan.gossip.probe_interval, wan.gossip.probe_interval);
  auto tuned = parse({"--node", "n1", "--profile", "wan", "--suspicion-mult", "9", "--tag", "weight=2", "--tag",
                      "zone=a=b"});
  EXPECT_EQ(tuned.gossip.probe_interval, wan.gossip.probe_interval);
  EXPECT_EQ(tuned.gossip.suspicion_mult, 9);
  EXPECT_EQ(tuned.gossip.tags.at("weight"), "2");
  EXPECT_EQ(tuned.gossip.tags.at("zone"), "a=b");
  EXPECT_NE(error_of({"--profile", "mars"}).find("--profile mars"), std::string::npos);
  EXPECT_NE(error_of({"--tag", "novalue"}).find("--tag novalue"), std::string::npos);
  std::string big(200, 'x');
  EXPECT_NE(error_of({"--tag", "a=" + big, "--tag", "b=" + big, "--tag", "c=" + big}).find("metadata"),
            std::string::npos);
}

TEST(AgentConfigTest, ConfigFileUnderFlags) {
  std::string path = ::testing::TempDir() + "ringd_config_test.json";
  {
    std::ofstream f(path);
    f << R"({"node": "from-file", "service": "127.0.0.1:9002", "join": ["127.0.0.1:1"], "log_level": "debug"})";
  }
  auto c = parse({"--config", path, "--node", "from-flag"});
  EXPECT_EQ(c.node, "from-flag");
  EXPECT_EQ(c.service, "127.0.0.1:9002");
  EXPECT_EQ(c.join, std::vector<std::string>{"127.0.0.1:1"});
  EXPECT_EQ(c.log_level, "debug");
  std::remove(path.c_str());
}

TEST(AgentConfigTest, ErrorsNameTheProblem) {
  EXPECT_NE(error_of({"--bind", "nowhere"}).find("--bind nowhere"), std::string::npos);
  EXPECT_NE(error_of({"--service", "web:80"}).find("--service"), std::string::npos);
  EXPECT_NE(error_of({"--join", "seed"}).find("--join seed"), std::string::npos);
  EXPECT_NE(error_of({"--log-level", "loud"}).find("--log-level loud"), std::string::npos);
  EXPECT_NE(error_of({"--bind", "0.0.0.0:7946"}).find("--advertise"), std::string::npos);
  EXPECT_NE(error_of({"--probe-timeout-ms", "900"}).find("less than"), std::string::npos);
  EXPECT_NE(error_of({"--frobnicate"}).find("frobnicate"), std::string::npos);
  EXPECT_NE(error_of({"--config", "/nonexistent.json"}).find("/nonexistent.json"), std::string::npos);
  EXPECT_NE(error_of({"--resp-busy-poll-us", "-1"}).find("--resp-busy-poll-us must be 0 to 1000, got -1"),
            std::string::npos);
  EXPECT_NE(error_of({"--resp-busy-poll-us", "5000"}).find("got 5000"), std::string::npos);
}

TEST(AgentConfigTest, BusyPollDefaultsToFiveMicrosecondsAndCanBeOff) {
  EXPECT_EQ(parse({}).resp_busy_poll_us, 5);
  EXPECT_EQ(parse({"--resp-busy-poll-us", "0"}).resp_busy_poll_us, 0);
  EXPECT_EQ(parse({"--resp-busy-poll-us", "40"}).resp_busy_poll_us, 40);
}

TEST(AgentConfigTest, UnknownConfigKeyIsAnError) {
  std::string path = ::testing::TempDir() + "ringd_config_bad.json";
  {
    std::ofstream f(path);
    f << R"({"nodee": "typo"})";
  }
  EXPECT_NE(error_of({"--config", path}).find("unknown key \"nodee\""), std::string::npos);
  std::remove(path.c_str());
}

// Every numeric flag has a range (the report: --ring-points -5 wrapped
// around to four billion points and exhausted memory).
TEST(AgentConfigTest, EveryNumericFlagHasARange) {
  struct Case {
    const char* flag;
    const char* low;   // just below the range
    const char* ok;    // inside
    const char* high;  // just above
  };
  const Case cases[] = {
      {"resp-max-clients", "0", "1", "1000001"},
      {"resp-timeout", "-1", "0", "31536001"},
      {"resp-threads", "0", "64", "65"},
      {"resp-max-output-buffer", "1023", "1024", "4294967297"},
      {"resp-busy-poll-us", "-1", "1000", "1001"},
      {"ring-points", "0", "65536", "65537"},
      {"maglev-table-size", "2", "65537", "16777214"},
      {"probe-interval-ms", "9", "60000", "60001"},
      {"probe-timeout-ms", "0", "1", "30001"},
      {"suspicion-mult", "0", "100", "101"},
      {"gossip-interval-ms", "9", "10", "60001"},
      {"push-pull-interval-ms", "999", "1000", "3600001"},
      {"leave-timeout-ms", "0", "60000", "60001"},
  };
  for (const auto& c : cases) {
    const std::string flag = std::string("--") + c.flag;
    for (const char* bad : {c.low, c.high, "-5"}) {
      const std::string err = error_of({flag, bad});
      EXPECT_NE(err.find(flag + " must be "), std::string::npos) << flag << " " << bad << ": " << err;
      EXPECT_NE(err.find(std::string("got ") + bad), std::string::npos) << err;
    }
    EXPECT_EQ(error_of({flag, c.ok}), "") << flag << " " << c.ok;
    EXPECT_NE(error_of({flag, "abc"}).find(flag), std::string::npos) << flag;
  }
}

TEST(AgentConfigTest, TheConfigFileHasTheSameRanges) {
  std::string path = ::testing::TempDir() + "ringd_config_ranges.json";
  for (const char* text : {R"({"ring_points": -5})", R"({"ring-points": 18446744073709551615})"}) {
    {
      std::ofstream f(path);
      f << text;
    }
    const std::string err = error_of({"--config", path});
    EXPECT_NE(err.find("ring-points"), std::string::npos) << text << ": " << err;
  }
  std::remove(path.c_str());
}

TEST(AgentConfigTest, OurOwnWeightTagMustBeAWholeNumberUpToTheMaximum) {
  for (const char* bad : {"weight=abc", "weight=0", "weight=257", "weight=-1", "weight=", "weight=2x"}) {
    EXPECT_NE(error_of({"--tag", bad}).find("the weight must be a whole number 1 to 256"), std::string::npos)
        << bad;
  }
  EXPECT_EQ(parse({"--tag", "weight=256"}).gossip.tags.at("weight"), "256");
}

TEST(AgentConfigTest, AStrayArgumentIsAnError) {
  EXPECT_EQ(error_of({"--node", "n1", "stray"}),
            "unexpected argument 'stray' (every setting is a --flag VALUE pair; see ringd agent --help)");
  EXPECT_NE(error_of({"agent"}).find("unexpected argument 'agent'"), std::string::npos);
}

TEST(AgentConfigTest, NodeNameLimitIsTheWireFormats) {
  // One limit, the one gossip carries: a name --node accepts is one every
  // peer decodes (issue 16: config.cc said 128 while the node took 255).
  const std::string longest(gossip::kMaxNameBytes, 'n');
  EXPECT_EQ(parse({"--node", longest}).node, longest);
  const std::string err = error_of({"--node", longest + "n"});
  EXPECT_NE(err.find("--node must be 1 to 255 bytes"), std::string::npos) << err;
}

TEST(AgentConfigTest, KeyringLabelAndVerifyFlags) {
  const std::string path = ::testing::TempDir() + "ringd_keyring_test.json";
  Key key{};
  key.fill(5);
  write_keyring_file(path, Keyring(key));  // mode 0600
  auto plain = parse({});
  EXPECT_FALSE(plain.security.keyring);
  EXPECT_EQ(plain.gossip.tags.count("keyring"), 0u);

  auto c = parse({"--keyring", path, "--label", "prod", "--verify-incoming", "false"});
  ASSERT_TRUE(c.security.keyring);
  EXPECT_EQ(c.security.keyring->primary(), key);
  EXPECT_EQ(c.security.keyring_file, path);
  EXPECT_EQ(c.security.label, "prod");
  EXPECT_FALSE(c.security.verify_incoming);
  EXPECT_TRUE(c.security.verify_outgoing);
  // Others learn which keys we hold by fingerprint, never the key.
  EXPECT_EQ(c.gossip.tags.at("keyring"), key_fingerprint(key));

  const std::string file = ::testing::TempDir() + "ringd_keyring_config.json";
  {
    std::ofstream f(file);
    f << R"({"keyring": ")" << path << R"(", "verify_outgoing": false})";
  }
  EXPECT_FALSE(parse({"--config", file}).security.verify_outgoing);
  {
    std::ofstream f(file);
    f << R"({"keyring": ")" << path << R"(", "verify_outgoing": "no"})";
  }
  EXPECT_NE(error_of({"--config", file}).find("verify-outgoing\" must be true or false"), std::string::npos);
  std::remove(file.c_str());

  EXPECT_NE(error_of({"--keyring", path, "--verify-incoming", "maybe"}).find("--verify-incoming maybe: expected true or false"),
            std::string::npos);
  EXPECT_NE(error_of({"--label", "prod"}).find("--label needs --keyring"), std::string::npos);
  EXPECT_NE(error_of({"--verify-outgoing", "true"}).find("need --keyring"), std::string::npos);
  EXPECT_NE(error_of({"--keyring", path, "--tag", "keyring=x"}).find("the tag keyring is ringd's own"),
            std::string::npos);
  EXPECT_NE(error_of({"--keyring", path, "--label", std::string(256, 'l')}).find("--label must be at most 255"),
            std::string::npos);
  EXPECT_NE(error_of({"--keyring", "/nonexistent/keys.json"}).find("--keyring: keyring file /nonexistent/keys.json"),
            std::string::npos);
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  const std::string err = error_of({"--keyring", path});
  EXPECT_NE(err.find("mode 0644"), std::string::npos) << err;
  std::remove(path.c_str());
}

}  // namespace
}  // namespace ringd::agent
