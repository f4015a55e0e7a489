// agent/gossip_security.h — what the gossip driver does to every message it
// sends and receives: seal and open it (AES-256-GCM, agent/gossip_crypto.h)
// by the agent's keyring, label and verify flags; count what it drops; and
// change the keyring while the agent runs (HTTP /keyring, `ringd keyring`).
//
// Without a keyring every message passes as plaintext and a sealed one is
// dropped (we cannot open it). With one, by the two flags (the rolling move
// from plaintext, step by step, is described in gossip_crypto.h):
//
//   verify_outgoing  datagrams and stream requests we send are sealed
//   verify_incoming  plaintext we receive is dropped
//
// A stream reply is sealed when its request was, or when verify_outgoing is
// set: a peer that sealed its request can open the reply.
//
// Datagrams and streams are sealed by two Sealers (two boot ids), so a
// stream that waits seconds for its connection never falls behind the
// datagrams' sequence window. One Opener serves both.
//
// Not thread-safe: the driver's io thread owns it (the HTTP API runs there).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "agent/gossip_crypto.h"
#include "agent/keyring.h"
#include "gossip/node.h"

namespace ringd::agent {

struct SecurityConfig {
  std::optional<Keyring> keyring;  // none: plaintext gossip
  std::string keyring_file;        // keyring changes are written here (empty: memory only)
  std::string label;               // cluster label, authenticated with every sealed message
  bool verify_incoming = true;
  bool verify_outgoing = true;
};

// A keyring change refused because of the other members (a key not yet
// installed everywhere cannot become the primary; a key that is still some
// member's primary cannot be removed). `force` overrides it.
class KeyringConflict : public KeyringError {
 public:
  using KeyringError::KeyringError;
};

// One installed key as `ringd keyring list` shows it.
struct KeyUse {
  std::string key;  // base64
  std::string fingerprint;
  bool primary = false;
  // Live members (self included) whose "keyring" tag lists this key, and
  // whose primary it is.
  std::size_t installed_on = 0;
  std::size_t primary_on = 0;
  // Peers whose datagrams in the last kRecentSenders were sealed with this
  // key: what the wire shows, beside what the tags say.
  std::size_t peers = 0;
};

struct KeyringStatus {
  std::vector<KeyUse> keys;
  std::size_t members = 0;          // live members, self included
  std::size_t plaintext_peers = 0;  // peers that sent plaintext lately
  std::string label;
  bool verify_incoming = false;
  bool verify_outgoing = false;
};

class GossipSecurity {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kRecentSenders{60};
  static constexpr std::size_t kMaxTrackedPeers = 16384;
  // Our member tag "keyring": the fingerprints of our first kTagKeys keys,
  // primary first (key_fingerprint in keyring.h).
  static constexpr const char* kKeyringTag = "keyring";
  static constexpr std::size_t kTagKeys = 8;

  explicit GossipSecurity(SecurityConfig config);

  bool has_keyring() const { return keyring_.has_value(); }
  // Bytes a sealed message adds: what the node must leave free in each
  // datagram (0 without a keyring).
  std::size_t overhead() const { return keyring_ ? kSealOverhead : 0; }

  // A received datagram (`from`: the sender's address) or stream frame
  // (`from` empty): its plaintext, a view of `bytes` or of *scratch; nullopt
  // when it is dropped (counted by reason). *sealed, when given, tells
  // whether it arrived sealed.
  std::optional<std::string_view> open(std::string_view from, std::string_view bytes, std::string* scratch,
                                       Clock::time_point now, bool* sealed = nullptr);
  // What to send for a datagram: `plaintext` itself, or its sealed form in
  // *scratch.
  std::string_view seal_datagram(std::string_view plaintext, std::string* scratch);
  // A stream request, or the reply to a request that arrived sealed or not.
  std::string seal_stream_request(std::string plaintext);
  std::string seal_stream_reply(std::string plaintext, bool request_was_sealed);

  // The value of our "keyring" tag (empty without a keyring).
  std::string keyring_tag() const;
  // Called after every keyring change (the driver gossips the new tag).
  void on_change(std::function<void()> callback) { on_change_ = std::move(callback); }

  // The keyring at run time; `members` as the node knows them. Each change
  // is written to the keyring file first (when there is one), so a restart
  // keeps it; on any failure nothing changes. Refusals (no keyring, a bad
  // key, removing the primary) throw KeyringError, KeyringConflict when the
  // other members are not ready for it (unless `force`); a file that cannot
  // be written throws std::runtime_error.
  KeyringStatus status(Clock::time_point now, const std::vector<gossip::Member>& members) const;
  bool install(std::string_view key);  // false: it was installed already
  // false: it was the primary already. Refused while a live member lacks it.
  bool use(std::string_view key, const std::vector<gossip::Member>& members, bool force);
  // false: it was not installed. Refused while it is a live member's primary.
  bool remove(std::string_view key, const std::vector<gossip::Member>& members, bool force);

  // After drops: one line for the log, at most once per kNoticeInterval,
  // e.g. "dropped 12 gossip messages in 60 s (last from 10.0.0.9:7946:
  // plaintext, refused by --verify-incoming)"; nullopt otherwise.
  static constexpr std::chrono::seconds kNoticeInterval{60};
  std::optional<std::string> take_notice(Clock::time_point now);

  // Counters for /metrics: crypto_sealed, crypto_opened, plaintext_accepted,
  // crypto_dropped_<reason>.
  std::vector<std::pair<std::string, std::uint64_t>> counters() const;

 private:
  std::optional<std::string_view> drop(std::uint64_t& counter, std::string_view from, const char* why) {
    ++counter;
    ++unreported_drops_;
    last_drop_from_.assign(from.empty() ? std::string_view("a stream") : from);
    last_drop_why_ = why;
    return std::nullopt;
  }
  void remember(std::string_view from, int key_index, Clock::time_point now);
  template <typename Change>
  bool change(const char* what, Change&& change);
  std::string seal_stream(std::string plaintext);

  std::function<void()> on_change_;
  std::optional<Keyring> keyring_;
  std::string keyring_file_;
  std::string label_;
  bool verify_incoming_;
  bool verify_outgoing_;
  Sealer datagram_sealer_;
  Sealer stream_sealer_;
  Opener opener_;

  // Which key each peer last sealed its datagrams with (-1: plaintext).
  struct Sender {
    Key key{};
    int key_index = -1;
    Clock::time_point at;
  };
  std::unordered_map<std::string, Sender> senders_;

  std::uint64_t unreported_drops_ = 0;
  std::string last_drop_from_;
  const char* last_drop_why_ = "";
  std::optional<Clock::time_point> last_notice_;

  std::uint64_t sealed_ = 0;
  std::uint64_t opened_ = 0;
  std::uint64_t plaintext_accepted_ = 0;
  std::uint64_t dropped_plaintext_ = 0;     // verify_incoming refused it
  std::uint64_t dropped_no_keyring_ = 0;    // sealed, and we have no keyring
  std::uint64_t dropped_too_short_ = 0;
  std::uint64_t dropped_bad_version_ = 0;
  std::uint64_t dropped_auth_failed_ = 0;   // wrong key, wrong label, or tampered
  std::uint64_t dropped_replayed_ = 0;
};

}  // namespace ringd::agent
