// agent/keyring.h — the gossip encryption keys (serf's keyring format).
//
// A keyring file is a JSON array of base64-encoded (standard alphabet, with
// padding) 32-byte AES-256 keys; the first is the primary:
//
//   ["HvY8ubRZMgafUOWvrOadwOckVa1wN3QWAo46FVKbVN8=",
//    "T9jncgl9mbLus+baTTa7q7nPSUrXwbDi2dhbtqir37s="]
//
// The primary seals every outgoing message; every installed key is tried to
// open an incoming one (agent/gossip_crypto.h). Rotation without downtime, as
// `serf keys` does it: install the new key on every agent, `use` it on every
// agent, then remove the old one everywhere.
//
// A Keyring always holds between 1 and kMaxKeys distinct keys and its
// primary cannot be removed, so every value of the type can seal. Rule
// violations and bad input throw KeyringError with one line that names the
// problem and never contains key material (entries are named by position).
// A Keyring is a plain value and not synchronized: the agent publishes a new
// one to readers rather than mutating one they hold.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ringd::agent {

class KeyringError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr std::size_t kKeySize = 32;  // AES-256
// Every key is a trial decryption for a message no key opens, so the count
// is bounded; a rotation needs two or three.
inline constexpr std::size_t kMaxKeys = 64;
using Key = std::array<std::uint8_t, kKeySize>;

// `size` bytes from the kernel's random generator (getrandom(2)); throws
// std::runtime_error if it fails.
void random_bytes(unsigned char* out, std::size_t size);

// A fresh random key (random_bytes); throws KeyringError if the
// generator fails.
Key generate_key();
// Standard base64 with padding (44 characters), as serf prints keys.
std::string encode_key(const Key& key);
// Strict: only the canonical 44-character encoding of 32 bytes is accepted
// (no whitespace, no missing padding). Throws KeyringError.
Key decode_key(std::string_view base64);

// A key's public name: the first 4 bytes of its SHA-256, in hex ("1a2b3c4d").
// Members gossip the fingerprints of their installed keys (tag "keyring",
// primary first), so `ringd keyring list` can say which members hold a key
// without any key leaving its host.
std::string key_fingerprint(const Key& key);

class Keyring {
 public:
  explicit Keyring(const Key& primary) : keys_{primary} {}
  // From keys, the first the primary. Throws on none, a duplicate, or more
  // than kMaxKeys.
  static Keyring from_keys(std::vector<Key> keys);
  // From the JSON text of a keyring file. Throws with a one-line reason.
  static Keyring parse(std::string_view json);
  // The JSON text of a keyring file (one line and a newline).
  std::string to_json() const;

  const Key& primary() const { return keys_.front(); }
  // Primary first, then the others in the order `open` tries them.
  const std::vector<Key>& keys() const { return keys_; }
  std::size_t size() const { return keys_.size(); }
  bool contains(const Key& key) const;
  // Base64 of keys(), primary first.
  std::vector<std::string> list() const;
  // The first `max` fingerprints, primary first, joined by commas.
  std::string fingerprints(std::size_t max) const;

  // Adds a key after the others; false if it was already installed. Throws
  // when kMaxKeys are installed.
  bool install(const Key& key);
  // Makes an installed key the primary (the old primary becomes the second
  // key); false if it already was. Throws if the key is not installed.
  bool use(const Key& key);
  // Removes a key; false if it was not installed. Throws for the primary.
  bool remove(const Key& key);

  friend bool operator==(const Keyring&, const Keyring&) = default;

 private:
  Keyring() = default;
  std::vector<Key> keys_;
};

// Reads a keyring file. The file must be a regular file whose group and
// other permission bits are all 0 (mode 0600 or stricter), else KeyringError
// names the file and its mode; so do unreadable files and bad content.
Keyring load_keyring_file(const std::string& path);
// Writes `keyring` to `path` atomically: a temporary file in the same
// directory with mode 0600, flushed to disk, renamed over `path`. On failure
// `path` is unchanged, the temporary removed, and KeyringError thrown.
void write_keyring_file(const std::string& path, const Keyring& keyring);

}  // namespace ringd::agent
