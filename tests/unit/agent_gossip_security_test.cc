// GossipSecurity: what the driver does to each message (agent/gossip_security.h).
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>

#include "agent/gossip_security.h"

namespace ringd::agent {
namespace {

using Clock = GossipSecurity::Clock;

Key key_of(std::uint8_t b) {
  Key k{};
  k.fill(b);
  return k;
}

SecurityConfig keyed(Key primary, bool verify_in = true, bool verify_out = true, std::string label = "") {
  SecurityConfig c;
  c.keyring = Keyring(primary);
  c.label = std::move(label);
  c.verify_incoming = verify_in;
  c.verify_outgoing = verify_out;
  return c;
}

std::map<std::string, std::uint64_t> counters(const GossipSecurity& s) {
  std::map<std::string, std::uint64_t> out;
  for (const auto& [name, value] : s.counters()) out[name] = value;
  return out;
}

// A plaintext gossip message starts with 0x08 (protobuf field 1, varint).
const std::string kPlain = std::string("\x08\x01", 2) + "hello gossip";

// Sends one datagram from `a` to `b`; true when b accepted it unchanged.
bool datagram(GossipSecurity& a, GossipSecurity& b, std::string_view from = "10.0.0.1:7946") {
  std::string sealed, opened;
  const std::string_view wire = a.seal_datagram(kPlain, &sealed);
  auto got = b.open(from, wire, &opened, Clock::now());
  return got && *got == kPlain;
}

gossip::Member member(std::string name, std::string keyring_tag,
                      gossip::MemberState state = gossip::MemberState::kAlive) {
  gossip::Member m;
  m.name = std::move(name);
  m.state = state;
  if (!keyring_tag.empty()) m.tags[GossipSecurity::kKeyringTag] = std::move(keyring_tag);
  return m;
}

TEST(GossipSecurityTest, WithoutKeyringPlaintextPassesAndSealedIsDropped) {
  GossipSecurity plain({});
  EXPECT_FALSE(plain.has_keyring());
  EXPECT_EQ(plain.overhead(), 0u);
  EXPECT_EQ(plain.keyring_tag(), "");
  std::string scratch;
  EXPECT_EQ(plain.seal_datagram(kPlain, &scratch).data(), kPlain.data());  // the same bytes, no copy
  EXPECT_EQ(plain.seal_stream_request(kPlain), kPlain);
  EXPECT_TRUE(datagram(plain, plain));

  GossipSecurity sealer(keyed(key_of(1)));
  EXPECT_FALSE(datagram(sealer, plain));
  EXPECT_EQ(counters(plain)["crypto_dropped_no_keyring"], 1u);
  EXPECT_EQ(counters(plain)["plaintext_accepted"], 1u);
}

TEST(GossipSecurityTest, SealedRoundTripAndEveryDropReasonCounted) {
  GossipSecurity a(keyed(key_of(1), true, true, "prod"));
  GossipSecurity b(keyed(key_of(1), true, true, "prod"));
  EXPECT_EQ(a.overhead(), kSealOverhead);
  std::string sealed, opened;
  const std::string wire(a.seal_datagram(kPlain, &sealed));
  EXPECT_EQ(wire.size(), kPlain.size() + kSealOverhead);
  EXPECT_EQ(wire.find("hello"), std::string::npos);  // encrypted, not just signed
  auto got = b.open("10.0.0.1:7946", wire, &opened, Clock::now());
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, kPlain);

  // The same datagram again: a replay.
  EXPECT_FALSE(b.open("10.0.0.1:7946", wire, &opened, Clock::now()));
  // Plaintext, with verify_incoming on.
  EXPECT_FALSE(b.open("10.0.0.9:7946", kPlain, &opened, Clock::now()));
  // One flipped ciphertext bit.
  std::string tampered(a.seal_datagram(kPlain, &sealed));
  tampered[kSealedHeaderSize + kNonceSize] ^= 1;
  EXPECT_FALSE(b.open("10.0.0.1:7946", tampered, &opened, Clock::now()));
  // Cut short, and an unknown version.
  EXPECT_FALSE(b.open("10.0.0.1:7946", wire.substr(0, 20), &opened, Clock::now()));
  std::string v2 = wire;
  v2[1] = 2;
  EXPECT_FALSE(b.open("10.0.0.1:7946", v2, &opened, Clock::now()));
  // Another cluster: same key, other label; and another key.
  GossipSecurity staging(keyed(key_of(1), true, true, "staging"));
  EXPECT_FALSE(datagram(staging, b));
  GossipSecurity stranger(keyed(key_of(2), true, true, "prod"));
  EXPECT_FALSE(datagram(stranger, b));

  // The log hears of it once a minute at most.
  const auto t = Clock::now();
  auto notice = b.take_notice(t);
  ASSERT_TRUE(notice);
  EXPECT_NE(notice->find("dropped 7 gossip messages"), std::string::npos) << *notice;
  EXPECT_NE(notice->find("another key or --label"), std::string::npos) << *notice;
  EXPECT_FALSE(b.take_notice(t));  // nothing new
  EXPECT_FALSE(b.open("10.0.0.9:7946", kPlain, &opened, t));
  EXPECT_FALSE(b.take_notice(t + std::chrono::seconds(30)));
  notice = b.take_notice(t + std::chrono::seconds(61));
  ASSERT_TRUE(notice);
  EXPECT_NE(notice->find("dropped 1 gossip message (last from 10.0.0.9:7946: plaintext"), std::string::npos) << *notice;

  auto c = counters(b);
  EXPECT_EQ(c["crypto_opened"], 1u);
  EXPECT_EQ(c["crypto_dropped_replayed"], 1u);
  EXPECT_EQ(c["crypto_dropped_plaintext"], 2u);
  EXPECT_EQ(c["crypto_dropped_auth_failed"], 3u);  // tampered, other label, other key
  EXPECT_EQ(c["crypto_dropped_too_short"], 1u);
  EXPECT_EQ(c["crypto_dropped_bad_version"], 1u);
  EXPECT_EQ(c["plaintext_accepted"], 0u);
  EXPECT_EQ(counters(a)["crypto_sealed"], 2u);  // the datagram and the one tampered with
}

// The rolling move from plaintext (gossip_crypto.h): agents one step apart
// understand each other both ways; two steps apart they need not.
TEST(GossipSecurityTest, RollingMoveFromPlaintextNeverSplitsNeighbouringSteps) {
  auto step = [](int n) {
    switch (n) {
      case 0: return SecurityConfig{};                       // plaintext
      case 1: return keyed(key_of(7), false, false);          // keyring: opens sealed, sends plaintext
      case 2: return keyed(key_of(7), false, true);           // sends sealed
      default: return keyed(key_of(7), true, true);           // refuses plaintext
    }
  };
  for (int n = 0; n < 3; ++n) {
    GossipSecurity older(step(n)), newer(step(n + 1));
    EXPECT_TRUE(datagram(older, newer)) << "step " << n << " -> " << n + 1;
    EXPECT_TRUE(datagram(newer, older)) << "step " << n + 1 << " -> " << n;
    EXPECT_TRUE(datagram(newer, newer)) << "step " << n + 1;
  }
  GossipSecurity zero(step(0)), two(step(2)), three(step(3));
  EXPECT_FALSE(datagram(two, zero));  // skipping step 1 splits the cluster
  EXPECT_FALSE(datagram(zero, three));
}

TEST(GossipSecurityTest, StreamReplyIsSealedWhenItsRequestWas) {
  GossipSecurity requester(keyed(key_of(3), false, true));
  GossipSecurity replier(keyed(key_of(3), false, false));  // step 1: sends plaintext itself
  std::string opened;
  const std::string request = requester.seal_stream_request(kPlain);
  bool sealed = false;
  auto got = replier.open({}, request, &opened, Clock::now(), &sealed);
  ASSERT_TRUE(got);
  EXPECT_TRUE(sealed);
  const std::string reply = replier.seal_stream_reply(kPlain, sealed);
  EXPECT_TRUE(looks_sealed(reply));
  std::string reply_opened;
  EXPECT_TRUE(requester.open({}, reply, &reply_opened, Clock::now()));
  EXPECT_FALSE(looks_sealed(replier.seal_stream_reply(kPlain, false)));
  EXPECT_EQ(replier.seal_stream_reply("", true), "");  // nothing to send stays nothing
}

// Streams and datagrams have their own sequences: a stream sealed long
// before 2,000 datagrams still opens (one window would call it too old).
TEST(GossipSecurityTest, StreamsAndDatagramsHaveSeparateReplayWindows) {
  GossipSecurity a(keyed(key_of(4))), b(keyed(key_of(4)));
  const std::string request = a.seal_stream_request(kPlain);
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(datagram(a, b));
  std::string opened;
  EXPECT_TRUE(b.open({}, request, &opened, Clock::now()));
  EXPECT_FALSE(b.open({}, request, &opened, Clock::now()));  // but only once
}

TEST(GossipSecurityTest, StatusCountsPeersByTheKeyTheySealWith) {
  GossipSecurity me(keyed(key_of(1), false, true));
  ASSERT_TRUE(me.install(encode_key(key_of(2))));
  GossipSecurity old_key(keyed(key_of(1))), new_key(keyed(key_of(2))), plain({});
  const auto t0 = Clock::now();
  std::string s, o;
  ASSERT_TRUE(me.open("10.0.0.1:1", old_key.seal_datagram(kPlain, &s), &o, t0));
  ASSERT_TRUE(me.open("10.0.0.2:1", new_key.seal_datagram(kPlain, &s), &o, t0));
  ASSERT_TRUE(me.open("10.0.0.3:1", new_key.seal_datagram(kPlain, &s), &o, t0));
  ASSERT_TRUE(me.open("10.0.0.4:1", kPlain, &o, t0));
  ASSERT_TRUE(me.open({}, new_key.seal_stream_request(kPlain), &o, t0));  // streams name no peer

  const std::string fp1 = key_fingerprint(key_of(1)), fp2 = key_fingerprint(key_of(2));
  const std::vector<gossip::Member> members = {
      member("me", fp1 + "," + fp2), member("n2", fp2 + "," + fp1), member("n3", fp1),
      member("gone", fp2, gossip::MemberState::kDead), member("old", "")};
  auto st = me.status(t0, members);
  ASSERT_EQ(st.keys.size(), 2u);
  EXPECT_TRUE(st.keys[0].primary);
  EXPECT_EQ(st.keys[0].fingerprint, fp1);
  EXPECT_EQ(st.members, 4u);  // the dead one is not counted
  EXPECT_EQ(st.keys[0].installed_on, 3u);
  EXPECT_EQ(st.keys[0].primary_on, 2u);
  EXPECT_EQ(st.keys[1].installed_on, 2u);
  EXPECT_EQ(st.keys[1].primary_on, 1u);
  EXPECT_EQ(st.keys[0].peers, 1u);
  EXPECT_EQ(st.keys[1].peers, 2u);
  EXPECT_EQ(st.plaintext_peers, 1u);
  EXPECT_FALSE(st.verify_incoming);
  // A minute later nobody has been heard.
  auto later = me.status(t0 + GossipSecurity::kRecentSenders + std::chrono::seconds(1), members);
  EXPECT_EQ(later.keys[0].peers + later.keys[1].peers + later.plaintext_peers, 0u);

  GossipSecurity unkeyed({});
  EXPECT_THROW(unkeyed.status(t0, members), KeyringError);
}

class GossipSecurityFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("ringd-security-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "keyring.json").string();
    write_keyring_file(path_, Keyring(key_of(1)));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  SecurityConfig config() {
    SecurityConfig c = keyed(key_of(1));
    c.keyring_file = path_;
    return c;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(GossipSecurityFileTest, RotationIsSavedAndGuardedByTheMembersTags) {
  GossipSecurity s(config());
  int changes = 0;
  s.on_change([&] { ++changes; });
  const std::string k1 = encode_key(key_of(1)), k2 = encode_key(key_of(2));
  const std::string fp1 = key_fingerprint(key_of(1)), fp2 = key_fingerprint(key_of(2));
  EXPECT_EQ(s.keyring_tag(), fp1);

  EXPECT_TRUE(s.install(k2));
  EXPECT_FALSE(s.install(k2));  // already there: no change, no write
  EXPECT_EQ(changes, 1);
  EXPECT_EQ(load_keyring_file(path_).keys(), (std::vector<Key>{key_of(1), key_of(2)}));
  EXPECT_EQ(s.keyring_tag(), fp1 + "," + fp2);

  // n2 has not installed k2: using it would cut n2 off.
  std::vector<gossip::Member> members = {member("me", fp1 + "," + fp2), member("n2", fp1)};
  try {
    s.use(k2, members, false);
    FAIL() << "use went through";
  } catch (const KeyringConflict& e) {
    EXPECT_NE(std::string(e.what()).find("n2"), std::string::npos) << e.what();
  }
  EXPECT_EQ(s.keyring_tag(), fp1 + "," + fp2);  // unchanged
  // A dead member's keys do not matter; nor do they with force.
  members[1].state = gossip::MemberState::kDead;
  EXPECT_TRUE(s.use(k2, members, false));
  EXPECT_EQ(s.keyring_tag(), fp2 + "," + fp1);
  EXPECT_EQ(load_keyring_file(path_).primary(), key_of(2));

  // n3 still seals with k1: removing it would make n3 unreadable to us.
  members = {member("me", fp2 + "," + fp1), member("n3", fp1 + "," + fp2)};
  EXPECT_THROW(s.remove(k1, members, false), KeyringConflict);
  EXPECT_TRUE(s.remove(k1, members, true));
  EXPECT_FALSE(s.remove(k1, members, false));  // gone already
  EXPECT_THROW(s.remove(k2, members, true), KeyringError);  // the primary, even forced
  EXPECT_EQ(load_keyring_file(path_).keys(), std::vector<Key>{key_of(2)});
  EXPECT_EQ(changes, 3);

  EXPECT_THROW(s.install("not a key"), KeyringError);
  EXPECT_THROW(s.use(encode_key(key_of(9)), members, true), KeyringError);  // not installed
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(GossipSecurityFileTest, AnUnwritableFileChangesNothing) {
  GossipSecurity s(config());
  std::filesystem::remove_all(dir_);  // the directory is gone: the write fails
  EXPECT_THROW(s.install(encode_key(key_of(2))), std::runtime_error);
  EXPECT_EQ(s.keyring_tag(), key_fingerprint(key_of(1)));
  std::filesystem::create_directories(dir_);
}

TEST(GossipSecurityTest, WithoutKeyringChangesAreRefused) {
  GossipSecurity s({});
  EXPECT_THROW(s.install(encode_key(key_of(2))), KeyringError);
  EXPECT_THROW(s.use(encode_key(key_of(2)), {}, true), KeyringError);
}

}  // namespace
}  // namespace ringd::agent
