// tests/unit/gossip_fuzz_corpus_test.cc — the seed corpus of gossip_fuzz
// (tests/fuzz/corpus/gossip) is real encoded traffic, one file per kind:
// this test encodes each with gossip/codec and checks that the checked-in
// file holds exactly those bytes, so a wire change cannot leave the fuzzer
// starting from stale packets. To write the files after a wire change:
//
//   RINGD_WRITE_FUZZ_CORPUS=1 build/tests/gossip_fuzz_corpus_test
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "gossip/codec.h"

namespace ringd::gossip {
namespace {

// gossip_fuzz splits its input into datagrams at this separator
// (tests/fuzz/gossip_fuzz.cc).
const std::string kSeparator = "\xff\xfeRDSEP\xfe\xff";

std::string packet_of(std::vector<msg::Message> ms) {
  msg::Packet p;
  p.messages = std::move(ms);
  return codec::encode(p);
}

std::map<std::string, std::string> corpus() {
  std::map<std::string, std::string> c;
  // One message of each type, addressed to the fuzzed node n0 and about
  // the members it knows (n1..n3), plus one about itself.
  c["ping"] = packet_of({msg::Ping{11, "n0", "n1", "10.0.0.2:7946"}});
  c["ping_unknown_source"] = packet_of({msg::Ping{12, "n0", "n9", "10.0.0.9:7946"}});
  c["ack"] = packet_of({msg::Ack{1, "n1", 0x1234567890abcdefULL}});
  c["nack"] = packet_of({msg::Nack{1, "n2"}});
  c["ping_req"] = packet_of({msg::PingReq{5, "n3", "10.0.0.4:7946", "n1", "10.0.0.2:7946"}});
  c["alive"] = packet_of({msg::Alive{"n4", "10.0.0.5:7946", "10.0.0.5:8000", 1,
                                     {{"service", "api"}, {"weight", "2"}}, ServiceState::kPassing}});
  c["alive_draining"] = packet_of({msg::Alive{"n1", "10.0.0.2:7946", "10.0.0.2:8000", 4, {},
                                              ServiceState::kDraining}});
  c["suspect"] = packet_of({msg::Suspect{"n2", 1, "n1"}});
  c["dead"] = packet_of({msg::Dead{"n3", 7, "n1", false}});
  c["left"] = packet_of({msg::Dead{"n2", 1, "n2", true}});
  c["suspect_self"] = packet_of({msg::Suspect{"n0", 0, "n1"}});
  c["dead_self"] = packet_of({msg::Dead{"n0", 3, "n1", false}});
  // A probe of a suspect (buddy rule) with piggybacked updates, as sent.
  c["compound"] = packet_of({msg::Suspect{"n0", 0, "n1"}, msg::Ping{13, "n0", "n1", "10.0.0.2:7946"},
                             msg::Alive{"n5", "10.0.0.6:7946", "", 2}, msg::Suspect{"n3", 7, "n1"},
                             msg::Dead{"n2", 1, "n1", false}});
  // Streams: a join (push-pull), a TCP ping and its ack.
  msg::PushPull pp;
  pp.join = true;
  pp.source = "n1";
  pp.members = {{"n1", "10.0.0.2:7946", "10.0.0.2:8000", 3, MemberState::kAlive, {{"zone", "a"}}},
                {"n0", "10.0.0.1:7946", "", 0, MemberState::kSuspect},
                {"n6", "10.0.0.7:7946", "", 1, MemberState::kDead},
                {"n7", "10.0.0.8:7946", "10.0.0.8:8000", 2, MemberState::kLeft}};
  c["stream_push_pull"] = codec::encode(pp);
  c["stream_ping"] = codec::encode(msg::Stream{msg::Ping{14, "n0", "n1", "10.0.0.2:7946"}});
  c["stream_ack"] = codec::encode(msg::Stream{msg::Ack{14, "n0", 0}});
  // A sequence: suspicion of n2, its confirmation, its refutation.
  c["sequence_refute"] = c["suspect"] + kSeparator + packet_of({msg::Suspect{"n2", 1, "n3"}}) +
                         kSeparator + packet_of({msg::Alive{"n2", "10.0.0.3:7946", "", 2}});
  return c;
}

std::filesystem::path corpus_dir() {
  return std::filesystem::path(__FILE__).parent_path().parent_path() / "fuzz" / "corpus" / "gossip";
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(GossipFuzzCorpus, CheckedInFilesAreTheCodecsEncoding) {
  const auto files = corpus();
  if (std::getenv("RINGD_WRITE_FUZZ_CORPUS") != nullptr) {
    std::filesystem::create_directories(corpus_dir());
    for (const auto& [name, bytes] : files) {
      std::ofstream(corpus_dir() / name, std::ios::binary) << bytes;
    }
  }
  for (const auto& [name, bytes] : files) {
    EXPECT_EQ(read_file(corpus_dir() / name), bytes) << name << " is stale: see this file's header";
  }
}

TEST(GossipFuzzCorpus, EveryFileDecodes) {
  codec::DecodeLimits lim;
  std::size_t kinds = 0;
  for (const auto& [name, bytes] : corpus()) {
    if (name.starts_with("stream_")) {
      msg::Stream st;
      EXPECT_EQ(codec::decode(bytes, lim, &st), codec::DecodeStatus::kOk) << name;
      continue;
    }
    for (std::size_t pos = 0; pos <= bytes.size();) {
      const std::size_t end = std::min(bytes.find(kSeparator, pos), bytes.size());
      msg::Packet p;
      EXPECT_EQ(codec::decode(std::string_view(bytes).substr(pos, end - pos), lim, &p),
                codec::DecodeStatus::kOk)
          << name;
      kinds += p.messages.size();
      pos = end + kSeparator.size();
    }
  }
  EXPECT_GE(kinds, 7u);  // every message type at least once
}

}  // namespace
}  // namespace ringd::gossip
