// agent/keyring.cc — see keyring.h.
#include "agent/keyring.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/base64.h>
#include <nettle/sha2.h>
#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <utility>

namespace ringd::agent {
namespace {

constexpr std::size_t kEncodedKeySize = 44;         // 4 * ceil(32 / 3)
constexpr std::size_t kMaxFileSize = 1024 * 1024;   // far above kMaxKeys entries

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

std::string mode_text(mode_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::string errno_text(int err) { return std::strerror(err); }

// Closes a descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and reports close()'s own error (a write may fail there).
  int close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

}  // namespace

void random_bytes(unsigned char* out, std::size_t size) {
  while (size > 0) {
    const ssize_t n = getrandom(out, size, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
    }
    out += n;
    size -= static_cast<std::size_t>(n);
  }
}

std::string key_fingerprint(const Key& key) {
  unsigned char digest[SHA256_DIGEST_SIZE];
  sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, key.size(), key.data());
  sha256_digest(&ctx, sizeof digest, digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 4; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

std::string Keyring::fingerprints(std::size_t max) const {
  std::string out;
  for (std::size_t i = 0; i < keys_.size() && i < max; ++i) {
    if (i > 0) out.push_back(',');
    out += key_fingerprint(keys_[i]);
  }
  return out;
}

Key generate_key() {
  Key key;
  try {
    random_bytes(key.data(), key.size());
  } catch (const std::runtime_error& e) {
    throw KeyringError(std::string("keyring: the random generator failed (") + e.what() + ")");
  }
  return key;
}

std::string encode_key(const Key& key) {
  static_assert(BASE64_ENCODE_RAW_LENGTH(kKeySize) == kEncodedKeySize);
  char out[kEncodedKeySize];
  base64_encode_raw(out, key.size(), key.data());
  return std::string(out, sizeof out);
}

Key decode_key(std::string_view text) {
  // Check the exact shape first, then decode, then that the text is
  // canonical (no stray bits in the last character).
  if (text.size() != kEncodedKeySize || text[kEncodedKeySize - 1] != '=' ||
      !std::all_of(text.begin(), text.end() - 1, is_base64_char)) {
    throw KeyringError("key is not the base64 of 32 bytes (44 characters ending in '=')");
  }
  unsigned char out[BASE64_DECODE_LENGTH(kEncodedKeySize)];
  base64_decode_ctx ctx;
  base64_decode_init(&ctx);
  std::size_t n = sizeof out;
  if (base64_decode_update(&ctx, &n, out, text.size(), text.data()) != 1 || base64_decode_final(&ctx) != 1 ||
      n != kKeySize) {
    throw KeyringError("key is not valid base64");
  }
  Key key;
  std::memcpy(key.data(), out, key.size());
  if (encode_key(key) != text) {  // stray bits in the last character
    throw KeyringError("key is not canonical base64");
  }
  return key;
}

Keyring Keyring::from_keys(std::vector<Key> keys) {
  if (keys.empty()) throw KeyringError("keyring is empty: it needs at least one key");
  if (keys.size() > kMaxKeys) {
    throw KeyringError("keyring has " + std::to_string(keys.size()) + " keys; at most " +
                       std::to_string(kMaxKeys) + " are allowed");
  }
  for (std::size_t i = 1; i < keys.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (keys[i] == keys[j]) {
        throw KeyringError("keyring entry " + std::to_string(i) + " duplicates entry " +
                           std::to_string(j));
      }
    }
  }
  Keyring ring;
  ring.keys_ = std::move(keys);
  return ring;
}

Keyring Keyring::parse(std::string_view text) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) throw KeyringError("keyring is not valid JSON");
  if (!doc.is_array()) throw KeyringError("keyring is not a JSON array of base64 keys");
  if (doc.size() > kMaxKeys) {
    throw KeyringError("keyring has " + std::to_string(doc.size()) + " keys; at most " +
                       std::to_string(kMaxKeys) + " are allowed");
  }
  std::vector<Key> keys;
  keys.reserve(doc.size());
  for (std::size_t i = 0; i < doc.size(); ++i) {
    const auto& entry = doc[i];
    if (!entry.is_string()) throw KeyringError("keyring entry " + std::to_string(i) + " is not a string");
    try {
      keys.push_back(decode_key(entry.get_ref<const std::string&>()));
    } catch (const KeyringError& e) {
      throw KeyringError("keyring entry " + std::to_string(i) + ": " + e.what());
    }
  }
  return from_keys(std::move(keys));
}

std::string Keyring::to_json() const {
  nlohmann::json doc = list();
  return doc.dump() + "\n";
}

bool Keyring::contains(const Key& key) const {
  return std::find(keys_.begin(), keys_.end(), key) != keys_.end();
}

std::vector<std::string> Keyring::list() const {
  std::vector<std::string> out;
  out.reserve(keys_.size());
  for (const Key& key : keys_) out.push_back(encode_key(key));
  return out;
}

bool Keyring::install(const Key& key) {
  if (contains(key)) return false;
  if (keys_.size() >= kMaxKeys) {
    throw KeyringError("keyring is full (" + std::to_string(kMaxKeys) + " keys): remove one first");
  }
  keys_.push_back(key);
  return true;
}

bool Keyring::use(const Key& key) {
  auto it = std::find(keys_.begin(), keys_.end(), key);
  if (it == keys_.end()) throw KeyringError("key is not installed: install it before using it");
  if (it == keys_.begin()) return false;
  std::rotate(keys_.begin(), it, it + 1);  // key first, the rest in their order
  return true;
}

bool Keyring::remove(const Key& key) {
  auto it = std::find(keys_.begin(), keys_.end(), key);
  if (it == keys_.end()) return false;
  if (it == keys_.begin()) throw KeyringError("key is the primary: use another key before removing it");
  keys_.erase(it);
  return true;
}

Keyring load_keyring_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) throw KeyringError("keyring file " + path + ": " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw KeyringError("keyring file " + path + ": " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) throw KeyringError("keyring file " + path + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    throw KeyringError("keyring file " + path + " has mode " + mode_text(st.st_mode) +
                       ": group and other permissions must be 0 (chmod 600 " + path + ")");
  }
  if (static_cast<std::uintmax_t>(st.st_size) > kMaxFileSize) {
    throw KeyringError("keyring file " + path + " is larger than " + std::to_string(kMaxFileSize) +
                       " bytes");
  }
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw KeyringError("keyring file " + path + ": " + errno_text(errno));
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > kMaxFileSize) {
      throw KeyringError("keyring file " + path + " is larger than " + std::to_string(kMaxFileSize) +
                         " bytes");
    }
  }
  try {
    return Keyring::parse(text);
  } catch (const KeyringError& e) {
    throw KeyringError("keyring file " + path + ": " + e.what());
  }
}

void write_keyring_file(const std::string& path, const Keyring& keyring) {
  const std::string text = keyring.to_json();
  std::string tmp = path + ".tmp.XXXXXX";
  Fd fd(::mkostemp(tmp.data(), O_CLOEXEC));  // created with mode 0600
  if (fd.get() < 0) throw KeyringError("keyring file " + path + ": cannot create a temporary file: " + errno_text(errno));
  auto fail = [&](const std::string& what, int err) {
    ::unlink(tmp.c_str());
    throw KeyringError("keyring file " + path + ": " + what + ": " + errno_text(err));
  };
  // mkstemp's 0600 is narrowed by the umask at most; make it exactly 0600.
  if (::fchmod(fd.get(), 0600) != 0) fail("chmod", errno);
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("write", errno);
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) fail("fsync", errno);
  if (fd.close() != 0) fail("close", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("rename", errno);
  // Make the rename itself durable; the file is already in place if this fails.
  std::string dir = std::filesystem::path(path).parent_path().string();
  Fd dfd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() >= 0) ::fsync(dfd.get());
}

}  // namespace ringd::agent
