// agent/gossip_crypto.h — sealing and opening gossip messages: AES-256-GCM
// (nettle) with a cluster label and a replay window per sender.
//
// Pure computation: no sockets, no clock, no files. The caller passes bytes
// and the Keyring (agent/keyring.h); Sealer and Opener are not thread-safe
// (one of each per driver thread). Nothing is allocated per message beyond
// the output buffer (none when the caller passes one back): a Sealer reuses
// one AES-GCM context, an Opener one per key it recently tried (at most 4),
// and each redoes a key schedule only when the key changes.
//
// Sealed message layout (a UDP datagram, or a TCP stream frame's body):
//
//    0       1       2                               10                    18
//   +-------+-------+-------------------------------+---------------------+
//   | 0xE1  |   1   | sender boot id                | sequence            |
//   | magic | vers. | 8 bytes, big-endian           | 8 bytes, big-endian |
//   +-------+-------+-------------------------------+---------------------+
//   18                              30
//   +-------------------------------+----------------------------+----------+
//   | nonce: 12 random bytes        | ciphertext                 | tag      |
//   |                               | (as long as the plaintext) | 16 bytes |
//   +-------------------------------+----------------------------+----------+
//
//   AAD = bytes 0..17 (magic, version, boot id, sequence) || cluster label
//
// 46 bytes of overhead per message. A plaintext gossip packet begins with
// 0x08 (protobuf field 1, varint: the protocol version), so the first byte
// tells a sealed message from a plaintext one. The label (`--label`, may be
// empty) is authenticated, never sent: two clusters with the same key but
// different labels cannot open each other's messages, so they never merge.
// The boot id is random per Sealer (per process start); the sequence starts
// at 1 and grows by one per sealed message, so (boot id, sequence) names a
// message for the replay window (agent/replay_window.h).
//
// Nonces are random (getrandom) per message, as memberlist's are. Two
// messages under one key with the same nonce would break GCM; the chance
// after n messages under a key, cluster-wide, is about n^2 / 2^97: 2^-33
// after 2^32 messages (five days at 10,000 messages/s). Rotate keys well
// within that (Keyring: install, use, remove).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "agent/keyring.h"
#include "agent/replay_window.h"

namespace ringd::agent {

inline constexpr std::uint8_t kSealedMagic = 0xE1;
inline constexpr std::uint8_t kSealedVersion = 1;
inline constexpr std::size_t kSealedHeaderSize = 18;  // magic, version, boot id, sequence
inline constexpr std::size_t kNonceSize = 12;
inline constexpr std::size_t kTagSize = 16;
inline constexpr std::size_t kSealOverhead = kSealedHeaderSize + kNonceSize + kTagSize;  // 46

// Whether `bytes` claims to be sealed (its first byte is the magic).
inline bool looks_sealed(std::string_view bytes) {
  return !bytes.empty() && static_cast<std::uint8_t>(bytes[0]) == kSealedMagic;
}

// Why Opener::open refused a message; each a /metrics counter name.
enum class OpenStatus : std::uint8_t {
  kOk,
  kTooShort,    // shorter than its header and tag
  kNotSealed,   // no magic byte: plaintext (see accept_plaintext)
  kBadVersion,  // a sealed layout we do not speak
  kAuthFailed,  // no installed key opens it: wrong key, wrong label, or tampered
  kReplayed,    // (boot id, sequence) already accepted, or older than the window
};
// "ok", "too_short", "not_sealed", "bad_version", "auth_failed", "replayed".
std::string_view to_string(OpenStatus status);

// A random 64-bit boot id (getrandom); throws std::runtime_error if the
// generator fails.
std::uint64_t random_boot_id();

class Sealer {
 public:
  // A random boot id.
  explicit Sealer(std::string label);
  Sealer(std::string label, std::uint64_t boot_id);
  ~Sealer();
  Sealer(Sealer&&) noexcept;
  Sealer& operator=(Sealer&&) noexcept;

  // Seals `plaintext` with the keyring's primary key and the next sequence.
  std::string seal(const Keyring& keyring, std::string_view plaintext);
  // The same into *out (its capacity is reused).
  void seal(const Keyring& keyring, std::string_view plaintext, std::string* out);

  std::uint64_t boot_id() const { return boot_id_; }
  std::uint64_t next_sequence() const { return sequence_; }

 private:
  struct Cipher;
  std::unique_ptr<Cipher> cipher_;
  std::string aad_;  // header || label
  std::uint64_t boot_id_;
  std::uint64_t sequence_ = 1;
};

struct OpenerOptions {
  std::size_t max_senders = 4096;  // boot ids the replay window remembers
};

class Opener {
 public:
  explicit Opener(std::string label, OpenerOptions options = {});
  ~Opener();
  Opener(Opener&&) noexcept;
  Opener& operator=(Opener&&) noexcept;

  // Opens a sealed message, trying every installed key, primary first. On
  // kOk *plaintext holds the message (its capacity is reused) and the
  // sender's replay window has recorded it; otherwise *plaintext is empty
  // and nothing changed. A replay is refused before any decryption, so a
  // forged message naming an accepted (boot id, sequence) counts as
  // kReplayed rather than kAuthFailed; either way it is dropped. With
  // `key_index`, on kOk it receives the position in keyring.keys() of the
  // key that opened it (0: our primary).
  OpenStatus open(const Keyring& keyring, std::string_view sealed, std::string* plaintext,
                  std::size_t* key_index = nullptr);

  const ReplayWindow& replay_window() const { return window_; }

 private:
  struct Cipher;
  std::unique_ptr<Cipher> cipher_;
  std::string aad_;
  ReplayWindow window_;
};

// Rolling upgrades from plaintext to sealed gossip with no downtime, in the
// spirit of Consul's encrypt_verify_incoming / encrypt_verify_outgoing (both
// default true once a keyring is set):
//
//   1. every agent: keyring, verify_incoming=false, verify_outgoing=false
//      (opens sealed messages, accepts plaintext, still sends plaintext);
//   2. every agent: verify_outgoing=true (sends sealed, still accepts plaintext);
//   3. every agent: verify_incoming=true (plaintext refused).
//
// The way back runs the steps in reverse. Without a keyring nothing is
// sealed and plaintext is accepted; a sealed message reaching an agent
// without a keyring cannot be opened and is dropped as kAuthFailed.
//
// The driver, per received message:
//   if (looks_sealed(b))  keyring ? opener.open(*keyring, b, &p) : kAuthFailed
//   else                  accept_plaintext(...) ? b : drop as kNotSealed
// and per sent message: seal_outgoing(...) ? sealer.seal(*keyring, p) : p.
constexpr bool accept_plaintext(bool have_keyring, bool verify_incoming) {
  return !have_keyring || !verify_incoming;
}
constexpr bool seal_outgoing(bool have_keyring, bool verify_outgoing) {
  return have_keyring && verify_outgoing;
}

}  // namespace ringd::agent
