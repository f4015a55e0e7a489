// Keyring: serf's JSON format, the install/use/remove rules, and the file
// rules (mode 0600 or stricter to load, atomic 0600 writes).
#include "agent/keyring.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace ringd::agent {
namespace {

// Keys as `serf keygen` prints them.
constexpr const char* kKeyA = "HvY8ubRZMgafUOWvrOadwOckVa1wN3QWAo46FVKbVN8=";
constexpr const char* kKeyB = "T9jncgl9mbLus+baTTa7q7nPSUrXwbDi2dhbtqir37s=";
constexpr const char* kKeyC = "5K9OtfP7efFrNKe5WCQvXvnaXJ5cWP0SvXiwe0kkjM4=";

std::string error_of(const std::string& json) {
  try {
    Keyring::parse(json);
  } catch (const KeyringError& e) {
    return e.what();
  }
  return "";
}

TEST(KeyTest, Base64RoundTrip) {
  for (const char* text : {kKeyA, kKeyB, kKeyC}) EXPECT_EQ(encode_key(decode_key(text)), text);
  Key zero{};
  EXPECT_EQ(encode_key(zero), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  Key k = decode_key(kKeyA);
  EXPECT_EQ(k[0], 0x1e);  // 'H' 'v' 'Y' '8' -> 1e f6 3c
  EXPECT_EQ(k[1], 0xf6);
  EXPECT_EQ(k[2], 0x3c);
}

TEST(KeyTest, StrictBase64) {
  const std::string good = kKeyA;
  std::vector<std::string> bad = {
      "",
      good.substr(0, 43),                           // padding missing
      " " + good.substr(1),                         // whitespace
      good.substr(0, 43) + "\n",                    // newline instead of padding
      good.substr(0, 20) + "!" + good.substr(21),   // not in the alphabet
      good.substr(0, 20) + "-" + good.substr(21),   // URL-safe alphabet
      good.substr(0, 42) + "9=",                    // stray low bits: not canonical
      good.substr(0, 42) + "==",                    // 31 bytes
      "AAAAAAAAAAAAAAAAAAAAAA==",                   // 16 bytes
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  // 33 bytes
      good + good,
  };
  for (const auto& text : bad) {
    EXPECT_THROW(decode_key(text), KeyringError) << text;
  }
}

TEST(KeyTest, GeneratedKeysDiffer) {
  Key a = generate_key();
  Key b = generate_key();
  EXPECT_NE(a, b);
  EXPECT_EQ(decode_key(encode_key(a)), a);
}

TEST(KeyringTest, ParsesPrimaryFirstAndSerializesBack) {
  const std::string json = std::string("[\"") + kKeyA + "\", \"" + kKeyB + "\"]";
  Keyring ring = Keyring::parse(json);
  ASSERT_EQ(ring.size(), 2u);
  EXPECT_EQ(ring.primary(), decode_key(kKeyA));
  EXPECT_EQ(ring.list(), (std::vector<std::string>{kKeyA, kKeyB}));
  EXPECT_EQ(ring.to_json(), std::string("[\"") + kKeyA + "\",\"" + kKeyB + "\"]\n");
  EXPECT_EQ(Keyring::parse(ring.to_json()), ring);
}

TEST(KeyringTest, RefusesBadDocumentsWithOneLine) {
  const std::string a = kKeyA;
  struct Case {
    std::string json;
    std::string expect;  // part of the message
  } cases[] = {
      {"", "not valid JSON"},
      {"[\"" + a + "\"", "not valid JSON"},
      {"{}", "not a JSON array"},
      {"\"" + a + "\"", "not a JSON array"},
      {"5", "not a JSON array"},
      {"null", "not a JSON array"},
      {"[]", "empty"},
      {"[5]", "entry 0 is not a string"},
      {"[\"" + a + "\", [\"x\"]]", "entry 1 is not a string"},
      {"[\"" + a + "\", \"bad base64!\"]", "entry 1: key is not the base64"},
      {"[\"AAAAAAAAAAAAAAAAAAAAAA==\"]", "entry 0: key is not the base64 of 32 bytes"},
      {"[\"" + a + "\", \"" + kKeyB + "\", \"" + a + "\"]", "entry 2 duplicates entry 0"},
  };
  for (const auto& c : cases) {
    std::string error = error_of(c.json);
    EXPECT_NE(error.find(c.expect), std::string::npos) << c.json << " -> " << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    EXPECT_EQ(error.find(kKeyA), std::string::npos) << "key material in: " << error;
  }
}

TEST(KeyringTest, RandomInputIsRefusedNotCrashed) {
  std::mt19937_64 rng(16);
  const std::string alphabet = "[]{}\",:0123456789 AQZaz+/=\\nulltrue";
  for (int i = 0; i < 5000; ++i) {
    std::string text(rng() % 120, ' ');
    for (char& c : text) c = alphabet[rng() % alphabet.size()];
    try {
      Keyring ring = Keyring::parse(text);
      EXPECT_GE(ring.size(), 1u);
    } catch (const KeyringError& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
  }
}

TEST(KeyringTest, BoundsTheKeyCount) {
  std::string json = "[";
  for (std::size_t i = 0; i <= kMaxKeys; ++i) json += (i ? ",\"" : "\"") + encode_key(generate_key()) + "\"";
  json += "]";
  EXPECT_NE(error_of(json).find("at most 64"), std::string::npos);

  Keyring ring(generate_key());
  while (ring.size() < kMaxKeys) ring.install(generate_key());
  EXPECT_THROW(ring.install(generate_key()), KeyringError);
  EXPECT_EQ(ring.size(), kMaxKeys);
}

TEST(KeyringTest, InstallUseRemoveRules) {
  const Key a = decode_key(kKeyA), b = decode_key(kKeyB), c = decode_key(kKeyC);
  Keyring ring(a);
  EXPECT_TRUE(ring.install(b));
  EXPECT_FALSE(ring.install(b));  // already there: nothing changes
  EXPECT_TRUE(ring.install(c));
  EXPECT_EQ(ring.list(), (std::vector<std::string>{kKeyA, kKeyB, kKeyC}));

  EXPECT_THROW(ring.use(generate_key()), KeyringError);  // must be installed first
  EXPECT_FALSE(ring.use(a));                              // already primary
  EXPECT_TRUE(ring.use(c));
  EXPECT_EQ(ring.primary(), c);
  EXPECT_EQ(ring.list(), (std::vector<std::string>{kKeyC, kKeyA, kKeyB}));

  EXPECT_THROW(ring.remove(c), KeyringError);  // never the primary
  EXPECT_TRUE(ring.remove(a));
  EXPECT_FALSE(ring.remove(a));
  EXPECT_EQ(ring.list(), (std::vector<std::string>{kKeyC, kKeyB}));
  EXPECT_TRUE(ring.contains(b));
  EXPECT_FALSE(ring.contains(a));

  EXPECT_THROW(Keyring::from_keys({}), KeyringError);
  EXPECT_THROW(Keyring::from_keys({a, b, a}), KeyringError);
}

// A fresh directory per test (ctest runs tests in parallel), removed after.
class KeyringFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "ringd_keyring_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text, mode_t mode) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
    return path;
  }
  static mode_t mode_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    return st.st_mode & 07777;
  }
  static std::string load_error(const std::string& path) {
    try {
      load_keyring_file(path);
    } catch (const KeyringError& e) {
      return e.what();
    }
    return "";
  }

  std::string dir_;
};

TEST_F(KeyringFileTest, ModeMustHideTheKeysFromGroupAndOthers) {
  const std::string json = std::string("[\"") + kKeyA + "\"]\n";
  for (mode_t mode : {0600, 0400}) {
    std::string path = write("ok.json", json, mode);
    EXPECT_EQ(load_keyring_file(path).primary(), decode_key(kKeyA)) << std::oct << mode;
  }
  std::string path = write("open.json", json, 0644);
  EXPECT_EQ(load_error(path), "keyring file " + path + " has mode 0644: group and other permissions must be 0 (chmod 600 " +
                                  path + ")");
  for (mode_t mode : {0640, 0604, 0660, 0601, 0777}) {
    path = write("open.json", json, mode);
    EXPECT_NE(load_error(path).find("has mode"), std::string::npos) << std::oct << mode;
  }
}

TEST_F(KeyringFileTest, OtherFileErrorsNameTheFile) {
  std::string missing = dir_ + "/missing.json";
  EXPECT_NE(load_error(missing).find("keyring file " + missing + ": No such file"), std::string::npos);
  EXPECT_NE(load_error(dir_).find("not a regular file"), std::string::npos);
  std::string bad = write("bad.json", "[\"AAAA\"]", 0600);
  EXPECT_EQ(load_error(bad), "keyring file " + bad + ": keyring entry 0: key is not the base64 of 32 bytes (44 characters ending in '=')");
  std::string big = write("big.json", std::string(2 * 1024 * 1024, ' '), 0600);
  EXPECT_NE(load_error(big).find("larger than"), std::string::npos);
}

TEST_F(KeyringFileTest, WriteIsAtomicWithMode0600) {
  Keyring ring(decode_key(kKeyA));
  ring.install(decode_key(kKeyB));
  const mode_t old_umask = ::umask(0);  // a permissive umask must not leak into the file
  std::string path = write("keyring.json", "old contents", 0644);
  write_keyring_file(path, ring);
  ::umask(old_umask);

  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_EQ(load_keyring_file(path), ring);
  // The temporary file was renamed, not left behind.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    ++files;
    EXPECT_EQ(entry.path().filename(), "keyring.json");
  }
  EXPECT_EQ(files, 1);

  // A rotation written over it.
  ring.use(decode_key(kKeyB));
  ring.remove(decode_key(kKeyA));
  write_keyring_file(path, ring);
  EXPECT_EQ(load_keyring_file(path).list(), (std::vector<std::string>{kKeyB}));
  EXPECT_EQ(mode_of(path), 0600u);
}

TEST_F(KeyringFileTest, FailedWriteLeavesTheOldFile) {
  std::string path = dir_ + "/no/such/dir/keyring.json";
  EXPECT_THROW(write_keyring_file(path, Keyring(generate_key())), KeyringError);
  // Renaming onto a directory fails: the directory stays, no temporary is left.
  std::filesystem::create_directory(dir_ + "/taken");
  EXPECT_THROW(write_keyring_file(dir_ + "/taken", Keyring(generate_key())), KeyringError);
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1);
}

}  // namespace
}  // namespace ringd::agent
