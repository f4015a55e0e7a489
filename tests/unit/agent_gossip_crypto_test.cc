// Sealed gossip: layout, authentication (key, label, every byte), truncation,
// the replay window per sender, key rotation, and the mixed-mode rules.
#include "agent/gossip_crypto.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <random>
#include <string>
#include <vector>

namespace ringd::agent {
namespace {

std::string sample(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 131 + 7) & 0xff);
  if (size > 0) s[0] = 0x08;  // as a gossip packet begins
  return s;
}

std::uint64_t be64(const std::string& s, std::size_t at) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(s[at + i]);
  return v;
}

struct Peer {
  Keyring keyring{generate_key()};
  Sealer sealer{"cluster-a", 0x0102030405060708};
  Opener opener{"cluster-a"};
};

TEST(GossipCryptoTest, RoundTripAtManySizes) {
  Peer p;
  std::string plain;
  for (std::size_t size : {0, 1, 15, 16, 17, 64, 512, 1400, 65507, 1 << 20}) {
    std::string sealed = p.sealer.seal(p.keyring, sample(size));
    EXPECT_EQ(sealed.size(), size + kSealOverhead);
    ASSERT_EQ(p.opener.open(p.keyring, sealed, &plain), OpenStatus::kOk) << size;
    EXPECT_EQ(plain, sample(size));
  }
}

TEST(GossipCryptoTest, LayoutAsDocumented) {
  Peer p;
  const std::string plain = sample(100);
  std::string first = p.sealer.seal(p.keyring, plain);
  std::string second = p.sealer.seal(p.keyring, plain);
  EXPECT_EQ(static_cast<std::uint8_t>(first[0]), 0xE1);
  EXPECT_EQ(static_cast<std::uint8_t>(first[1]), 1);
  EXPECT_EQ(be64(first, 2), 0x0102030405060708u);
  EXPECT_EQ(be64(first, 10), 1u);
  EXPECT_EQ(be64(second, 10), 2u);
  EXPECT_EQ(p.sealer.next_sequence(), 3u);
  EXPECT_NE(first.substr(18, 12), second.substr(18, 12));  // random nonces
  EXPECT_NE(first.substr(30), second.substr(30));
  EXPECT_TRUE(looks_sealed(first));
  EXPECT_FALSE(looks_sealed(plain));
  EXPECT_FALSE(looks_sealed(""));

  // Opened independently with plain EVP calls: nonce at 18, payload at 30,
  // tag last, AAD = the 18 header bytes then the label.
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const auto* s = reinterpret_cast<const unsigned char*>(first.data());
  const std::string aad = first.substr(0, 18) + "cluster-a";
  std::string out(plain.size(), '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int n = 0;
  unsigned char tag[16];
  std::copy(s + first.size() - 16, s + first.size(), tag);
  ASSERT_EQ(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, p.keyring.primary().data(), s + 18), 1);
  ASSERT_EQ(EVP_DecryptUpdate(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()),
                              static_cast<int>(aad.size())),
            1);
  ASSERT_EQ(EVP_DecryptUpdate(ctx, o, &n, s + 30, static_cast<int>(plain.size())), 1);
  ASSERT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag), 1);
  EXPECT_EQ(EVP_DecryptFinal_ex(ctx, o + n, &n), 1);
  EVP_CIPHER_CTX_free(ctx);
  EXPECT_EQ(out, plain);
}

TEST(GossipCryptoTest, SealIntoReusesTheBuffer) {
  Peer p;
  std::string sealed, plain;
  for (int i = 0; i < 3; ++i) {
    p.sealer.seal(p.keyring, sample(200 - 50 * i), &sealed);
    ASSERT_EQ(p.opener.open(p.keyring, sealed, &plain), OpenStatus::kOk);
    EXPECT_EQ(plain, sample(200 - 50 * i));
  }
}

TEST(GossipCryptoTest, EveryByteIsAuthenticated) {
  Peer p;
  const std::string sealed = p.sealer.seal(p.keyring, sample(64));
  std::string plain = "stale";
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    for (int flip : {0x01, 0x80, 0xff}) {
      std::string bad = sealed;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      OpenStatus expect = i == 0 ? OpenStatus::kNotSealed : i == 1 ? OpenStatus::kBadVersion : OpenStatus::kAuthFailed;
      ASSERT_EQ(p.opener.open(p.keyring, bad, &plain), expect) << "byte " << i << " ^ " << flip;
      EXPECT_TRUE(plain.empty());
    }
  }
  // Nothing above moved a window: the real message still opens.
  EXPECT_EQ(p.opener.replay_window().senders(), 0u);
  EXPECT_EQ(p.opener.open(p.keyring, sealed, &plain), OpenStatus::kOk);
}

TEST(GossipCryptoTest, WrongKeyOrLabelFails) {
  Peer p;
  const std::string sealed = p.sealer.seal(p.keyring, sample(64));
  std::string plain;
  Keyring other(generate_key());
  EXPECT_EQ(p.opener.open(other, sealed, &plain), OpenStatus::kAuthFailed);
  for (const char* label : {"", "cluster-b", "cluster-a ", "cluster-", "Cluster-a"}) {
    Opener wrong(label);
    EXPECT_EQ(wrong.open(p.keyring, sealed, &plain), OpenStatus::kAuthFailed) << label;
  }
  // The empty label is a label like any other.
  Sealer unlabelled("");
  Opener empty("");
  EXPECT_EQ(empty.open(p.keyring, unlabelled.seal(p.keyring, "x"), &plain), OpenStatus::kOk);
  EXPECT_EQ(p.opener.open(p.keyring, unlabelled.seal(p.keyring, "x"), &plain), OpenStatus::kAuthFailed);
}

TEST(GossipCryptoTest, TruncatedAtEveryLength) {
  Peer p;
  const std::string sealed = p.sealer.seal(p.keyring, sample(64));
  std::string plain;
  for (std::size_t len = 0; len < sealed.size(); ++len) {
    OpenStatus expect = len < kSealOverhead ? OpenStatus::kTooShort : OpenStatus::kAuthFailed;
    EXPECT_EQ(p.opener.open(p.keyring, sealed.substr(0, len), &plain), expect) << len;
  }
  // Garbage after the tag is tampering too.
  EXPECT_EQ(p.opener.open(p.keyring, sealed + "x", &plain), OpenStatus::kAuthFailed);
  EXPECT_EQ(p.opener.open(p.keyring, sealed, &plain), OpenStatus::kOk);
}

TEST(GossipCryptoTest, PlaintextAndForeignVersionsAreTold) {
  Peer p;
  std::string plain;
  EXPECT_EQ(p.opener.open(p.keyring, sample(64), &plain), OpenStatus::kNotSealed);
  EXPECT_EQ(p.opener.open(p.keyring, std::string(1, '\xE1'), &plain), OpenStatus::kTooShort);
  EXPECT_EQ(p.opener.open(p.keyring, std::string("\xE1\x02", 2), &plain), OpenStatus::kBadVersion);
  EXPECT_EQ(p.opener.open(p.keyring, std::string("\xE1\x02") + std::string(100, 'x'), &plain), OpenStatus::kBadVersion);
  EXPECT_EQ(p.opener.open(p.keyring, std::string(200, '\xE1'), &plain), OpenStatus::kBadVersion);
}

TEST(GossipCryptoTest, RandomInputNeverOpens) {
  Peer p;
  std::mt19937_64 rng(13);
  std::string plain;
  for (int i = 0; i < 20000; ++i) {
    std::string junk(rng() % 200, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    if (i % 2 == 0 && junk.size() >= 2) {
      junk[0] = '\xE1';  // past the magic and version checks
      junk[1] = '\x01';
    }
    const OpenStatus st = p.opener.open(p.keyring, junk, &plain);
    ASSERT_NE(st, OpenStatus::kOk);
    ASSERT_NE(st, OpenStatus::kReplayed);
    ASSERT_TRUE(plain.empty());
  }
  EXPECT_EQ(p.opener.replay_window().senders(), 0u);
}

TEST(GossipCryptoTest, DropReasonNames) {
  EXPECT_EQ(to_string(OpenStatus::kOk), "ok");
  EXPECT_EQ(to_string(OpenStatus::kTooShort), "too_short");
  EXPECT_EQ(to_string(OpenStatus::kNotSealed), "not_sealed");
  EXPECT_EQ(to_string(OpenStatus::kBadVersion), "bad_version");
  EXPECT_EQ(to_string(OpenStatus::kAuthFailed), "auth_failed");
  EXPECT_EQ(to_string(OpenStatus::kReplayed), "replayed");
}

// ---- replay ----

TEST(GossipReplayTest, SameMessageTwiceIsReplayed) {
  Peer p;
  const std::string sealed = p.sealer.seal(p.keyring, sample(64));
  std::string plain;
  EXPECT_EQ(p.opener.open(p.keyring, sealed, &plain), OpenStatus::kOk);
  EXPECT_EQ(p.opener.open(p.keyring, sealed, &plain), OpenStatus::kReplayed);
  EXPECT_TRUE(plain.empty());
  EXPECT_EQ(p.opener.open(p.keyring, sealed, &plain), OpenStatus::kReplayed);
}

TEST(ReplayWindowTest, WorkedExampleFromTheHeader) {
  ReplayWindow w(16);
  EXPECT_FALSE(w.seen(7, 5000));
  EXPECT_TRUE(w.accept(7, 5000));
  EXPECT_TRUE(w.accept(7, 4990));
  EXPECT_TRUE(w.seen(7, 4990));
  EXPECT_FALSE(w.accept(7, 4990));
  EXPECT_TRUE(w.accept(7, 3977));   // 1023 behind: the oldest slot
  EXPECT_FALSE(w.accept(7, 3976));  // 1024 behind: too old
  EXPECT_TRUE(w.accept(7, 6500));
  EXPECT_TRUE(w.seen(7, 5000));     // 1500 behind: too old
  EXPECT_FALSE(w.seen(8, 5000));    // another sender
  EXPECT_TRUE(w.accept(7, 0xffffffffffffffffu));
  EXPECT_FALSE(w.accept(7, 0xffffffffffffffffu));
  EXPECT_EQ(w.senders(), 1u);
}

// messages[i] has sequence i + 1.
std::vector<std::string> seal_many(Peer& p, std::size_t count) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < count; ++i) out.push_back(p.sealer.seal(p.keyring, sample(32)));
  return out;
}

TEST(GossipReplayTest, OutOfOrderWithinTheWindowOpensOnceEach) {
  Peer p;
  auto m = seal_many(p, 40);
  std::string plain;
  for (std::size_t seq : {20, 5, 7, 19, 1, 40, 30, 21, 2}) {
    EXPECT_EQ(p.opener.open(p.keyring, m[seq - 1], &plain), OpenStatus::kOk) << seq;
  }
  for (std::size_t seq : {20, 5, 7, 19, 1, 40, 30, 21, 2}) {
    EXPECT_EQ(p.opener.open(p.keyring, m[seq - 1], &plain), OpenStatus::kReplayed) << seq;
  }
  for (std::size_t seq = 1; seq <= 40; ++seq) {
    OpenStatus st = p.opener.open(p.keyring, m[seq - 1], &plain);
    EXPECT_TRUE(st == OpenStatus::kOk || st == OpenStatus::kReplayed);
    EXPECT_EQ(p.opener.open(p.keyring, m[seq - 1], &plain), OpenStatus::kReplayed) << seq;
  }
}

TEST(GossipReplayTest, OlderThanTheWindowIsRefused) {
  Peer p;
  auto m = seal_many(p, 5000);
  std::string plain;
  auto open = [&](std::size_t seq) { return p.opener.open(p.keyring, m[seq - 1], &plain); };
  ASSERT_EQ(open(2000), OpenStatus::kOk);
  // 2000 - 1024 = 976 is just outside the window, 977 the oldest slot in it.
  EXPECT_EQ(open(976), OpenStatus::kReplayed);
  EXPECT_EQ(open(1), OpenStatus::kReplayed);
  EXPECT_EQ(open(977), OpenStatus::kOk);
  // The window slides by 999: what it passed is free again, what it kept is not.
  ASSERT_EQ(open(2999), OpenStatus::kOk);
  EXPECT_EQ(open(1975), OpenStatus::kReplayed);  // now too old
  EXPECT_EQ(open(1976), OpenStatus::kOk);        // the oldest slot, never seen
  EXPECT_EQ(open(2000), OpenStatus::kReplayed);  // seen, 999 behind
  EXPECT_EQ(open(2500), OpenStatus::kOk);
  EXPECT_EQ(open(2500), OpenStatus::kReplayed);
  // A jump of more than the window forgets everything before it.
  ASSERT_EQ(open(4500), OpenStatus::kOk);
  EXPECT_EQ(open(2999), OpenStatus::kReplayed);
  EXPECT_EQ(open(3476), OpenStatus::kReplayed);
  EXPECT_EQ(open(3477), OpenStatus::kOk);
  EXPECT_EQ(open(4499), OpenStatus::kOk);
  EXPECT_EQ(open(4500), OpenStatus::kReplayed);
  EXPECT_EQ(open(5000), OpenStatus::kOk);
}

TEST(GossipReplayTest, ANewBootOfTheSameSenderIsAccepted) {
  Peer p;
  auto m = seal_many(p, 500);
  std::string plain;
  for (const auto& s : m) ASSERT_EQ(p.opener.open(p.keyring, s, &plain), OpenStatus::kOk);
  Sealer restarted("cluster-a");  // sequence starts again at 1, under a new boot id
  ASSERT_NE(restarted.boot_id(), p.sealer.boot_id());
  const std::string fresh = restarted.seal(p.keyring, sample(32));
  EXPECT_EQ(p.opener.open(p.keyring, fresh, &plain), OpenStatus::kOk);
  EXPECT_EQ(p.opener.open(p.keyring, fresh, &plain), OpenStatus::kReplayed);
  EXPECT_EQ(p.opener.open(p.keyring, m[0], &plain), OpenStatus::kReplayed);  // the old boot still remembered
}

TEST(GossipReplayTest, OnlyAuthenticMessagesMoveTheWindow) {
  Peer p;
  auto m = seal_many(p, 3);
  std::string plain;
  ASSERT_EQ(p.opener.open(p.keyring, m[0], &plain), OpenStatus::kOk);
  // A forger copies a real header, claims a far later sequence, and cannot
  // produce the tag: the window does not slide, m[1] still opens.
  std::string forged = m[2];
  forged[17] = 0x7f;
  EXPECT_EQ(p.opener.open(p.keyring, forged, &plain), OpenStatus::kAuthFailed);
  // Forged boot ids are never remembered.
  for (int i = 0; i < 100; ++i) {
    std::string f = m[2];
    f[2] = static_cast<char>(f[2] ^ (i + 1));  // another boot id
    EXPECT_EQ(p.opener.open(p.keyring, f, &plain), OpenStatus::kAuthFailed);
  }
  EXPECT_EQ(p.opener.replay_window().senders(), 1u);
  EXPECT_EQ(p.opener.open(p.keyring, m[1], &plain), OpenStatus::kOk);
  EXPECT_EQ(p.opener.open(p.keyring, m[2], &plain), OpenStatus::kOk);
}

TEST(GossipReplayTest, SenderTableStaysBounded) {
  Keyring keyring(generate_key());
  Opener opener("", OpenerOptions{.max_senders = 4096});
  std::string plain;
  std::vector<std::string> firsts;
  for (std::uint64_t boot = 1; boot <= 6000; ++boot) {
    Sealer sealer("", boot);
    firsts.push_back(sealer.seal(keyring, "hello"));
    ASSERT_EQ(opener.open(keyring, firsts.back(), &plain), OpenStatus::kOk);
    ASSERT_LE(opener.replay_window().senders(), 4096u);
  }
  EXPECT_EQ(opener.replay_window().senders(), 4096u);
  // The 4,096 most recent boots are remembered; older ones were evicted, and
  // their replay is accepted once more (documented: a replay is refused
  // while the receiver remembers the sender's boot).
  EXPECT_EQ(opener.open(keyring, firsts[6000 - 1], &plain), OpenStatus::kReplayed);
  EXPECT_EQ(opener.open(keyring, firsts[6000 - 4096], &plain), OpenStatus::kReplayed);
  EXPECT_FALSE(opener.replay_window().remembers(1));
  EXPECT_EQ(opener.open(keyring, firsts[0], &plain), OpenStatus::kOk);
  EXPECT_EQ(opener.replay_window().senders(), 4096u);
}

TEST(GossipReplayTest, LeastRecentlySeenIsEvicted) {
  Keyring keyring(generate_key());
  Opener opener("", OpenerOptions{.max_senders = 2});
  Sealer a("", 1), b("", 2), c("", 3);
  std::string plain;
  ASSERT_EQ(opener.open(keyring, a.seal(keyring, "1"), &plain), OpenStatus::kOk);
  ASSERT_EQ(opener.open(keyring, b.seal(keyring, "1"), &plain), OpenStatus::kOk);
  ASSERT_EQ(opener.open(keyring, a.seal(keyring, "2"), &plain), OpenStatus::kOk);  // a is now the most recent
  ASSERT_EQ(opener.open(keyring, c.seal(keyring, "1"), &plain), OpenStatus::kOk);  // evicts b
  EXPECT_TRUE(opener.replay_window().remembers(1));
  EXPECT_FALSE(opener.replay_window().remembers(2));
  EXPECT_TRUE(opener.replay_window().remembers(3));
}

// ---- keys ----

TEST(GossipCryptoTest, KeyRotation) {
  const Key old_key = generate_key(), new_key = generate_key();
  Keyring sender(old_key), receiver(old_key);
  Sealer sealer("");
  Opener opener("");
  std::string plain;
  const std::string under_old = sealer.seal(sender, "old");
  const std::string under_old_2 = sealer.seal(sender, "old 2");

  // Rotation step 1: install the new key everywhere; step 2: use it.
  receiver.install(new_key);
  receiver.use(new_key);
  sender.install(new_key);
  sender.use(new_key);
  const std::string under_new = sealer.seal(sender, "new");
  EXPECT_EQ(opener.open(receiver, under_old, &plain), OpenStatus::kOk);  // old key still installed
  EXPECT_EQ(plain, "old");
  EXPECT_EQ(opener.open(receiver, under_new, &plain), OpenStatus::kOk);
  EXPECT_EQ(plain, "new");
  EXPECT_EQ(opener.open(Keyring(old_key), sealer.seal(sender, "x"), &plain), OpenStatus::kAuthFailed);

  // Step 3: remove the old key; what it sealed no longer opens.
  receiver.remove(old_key);
  EXPECT_EQ(opener.open(receiver, under_old_2, &plain), OpenStatus::kAuthFailed);
  EXPECT_EQ(opener.open(receiver, sealer.seal(sender, "after"), &plain), OpenStatus::kOk);
}

TEST(GossipCryptoTest, AlternatingKeysUseTheRightOne) {
  // The contexts skip the key schedule when the key repeats: switching back
  // and forth must still seal and open under the key asked for.
  Keyring a(generate_key()), b(generate_key());
  Sealer sealer("l");
  Opener opener("l");
  std::string plain;
  for (int i = 0; i < 10; ++i) {
    const Keyring& k = (i % 3 == 0) ? b : a;
    const Keyring& other = (i % 3 == 0) ? a : b;
    std::string s = sealer.seal(k, std::to_string(i));
    EXPECT_EQ(opener.open(other, s, &plain), OpenStatus::kAuthFailed) << i;
    EXPECT_EQ(opener.open(k, s, &plain), OpenStatus::kOk) << i;
    EXPECT_EQ(plain, std::to_string(i));
  }
}

TEST(GossipCryptoTest, ManyKeysInAnyOrder) {
  // More keys than the Opener keeps contexts for: each message still opens
  // under the key that sealed it, whichever position it holds.
  std::vector<Key> keys;
  for (int i = 0; i < 7; ++i) keys.push_back(generate_key());
  Keyring receiver = Keyring::from_keys(keys);
  Sealer sealer("l");
  Opener opener("l");
  std::string plain;
  for (int round = 0; round < 3; ++round) {
    for (std::size_t i : {6, 0, 3, 5, 1, 6, 2, 4, 0}) {
      const std::string text = std::to_string(round) + "/" + std::to_string(i);
      ASSERT_EQ(opener.open(receiver, sealer.seal(Keyring(keys[i]), text), &plain), OpenStatus::kOk) << text;
      EXPECT_EQ(plain, text);
    }
  }
  EXPECT_EQ(opener.open(receiver, sealer.seal(Keyring(generate_key()), "x"), &plain), OpenStatus::kAuthFailed);
}

TEST(GossipCryptoTest, MovedSealerAndOpenerKeepWorking) {
  Peer p;
  Sealer sealer = std::move(p.sealer);
  Opener opener = std::move(p.opener);
  std::string plain;
  EXPECT_EQ(opener.open(p.keyring, sealer.seal(p.keyring, "moved"), &plain), OpenStatus::kOk);
  EXPECT_EQ(plain, "moved");
}

// ---- mixed mode ----

TEST(GossipCryptoTest, MixedModeRules) {
  // No keyring: plaintext in and out, whatever the flags say.
  EXPECT_TRUE(accept_plaintext(false, true));
  EXPECT_TRUE(accept_plaintext(false, false));
  EXPECT_FALSE(seal_outgoing(false, true));
  EXPECT_FALSE(seal_outgoing(false, false));
  // A keyring: the flags relax each direction during a rolling upgrade.
  EXPECT_FALSE(accept_plaintext(true, true));
  EXPECT_TRUE(accept_plaintext(true, false));
  EXPECT_TRUE(seal_outgoing(true, true));
  EXPECT_FALSE(seal_outgoing(true, false));
}

}  // namespace
}  // namespace ringd::agent
