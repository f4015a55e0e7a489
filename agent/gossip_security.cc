#include "agent/gossip_security.h"

#include <stdexcept>

namespace ringd::agent {

GossipSecurity::GossipSecurity(SecurityConfig config)
    : keyring_(std::move(config.keyring)),
      keyring_file_(std::move(config.keyring_file)),
      label_(std::move(config.label)),
      verify_incoming_(config.verify_incoming),
      verify_outgoing_(config.verify_outgoing),
      datagram_sealer_(label_),
      stream_sealer_(label_),
      opener_(label_) {}

std::optional<std::string_view> GossipSecurity::open(std::string_view from, std::string_view bytes,
                                                     std::string* scratch, Clock::time_point now, bool* sealed) {
  const bool is_sealed = looks_sealed(bytes);
  if (sealed != nullptr) *sealed = is_sealed;
  if (!is_sealed) {
    if (!accept_plaintext(keyring_.has_value(), verify_incoming_)) return drop(dropped_plaintext_);
    ++plaintext_accepted_;
    if (keyring_) remember(from, -1, now);
    return bytes;
  }
  if (!keyring_) return drop(dropped_no_keyring_);
  std::size_t key_index = 0;
  switch (opener_.open(*keyring_, bytes, scratch, &key_index)) {
    case OpenStatus::kOk:
      ++opened_;
      remember(from, static_cast<int>(key_index), now);
      return std::string_view(*scratch);
    case OpenStatus::kTooShort:
      return drop(dropped_too_short_);
    case OpenStatus::kBadVersion:
      return drop(dropped_bad_version_);
    case OpenStatus::kReplayed:
      return drop(dropped_replayed_);
    case OpenStatus::kNotSealed:  // looks_sealed said otherwise; cannot happen
    case OpenStatus::kAuthFailed:
      break;
  }
  return drop(dropped_auth_failed_);
}

void GossipSecurity::remember(std::string_view from, int key_index, Clock::time_point now) {
  if (from.empty()) return;
  auto it = senders_.find(std::string(from));
  if (it == senders_.end()) {
    // Bounded: only authenticated senders (or, while plaintext is accepted,
    // any sender) get here. When full, forget the ones not heard lately.
    if (senders_.size() >= kMaxTrackedPeers) {
      std::erase_if(senders_, [&](const auto& s) { return now - s.second.at > kRecentSenders; });
      if (senders_.size() >= kMaxTrackedPeers) return;
    }
    it = senders_.emplace(std::string(from), Sender{}).first;
  }
  Sender& s = it->second;
  s.key_index = key_index;
  if (key_index >= 0) s.key = keyring_->keys()[static_cast<std::size_t>(key_index)];
  s.at = now;
}

std::string_view GossipSecurity::seal_datagram(std::string_view plaintext, std::string* scratch) {
  if (!seal_outgoing(keyring_.has_value(), verify_outgoing_)) return plaintext;
  datagram_sealer_.seal(*keyring_, plaintext, scratch);
  ++sealed_;
  return *scratch;
}

std::string GossipSecurity::seal_stream(std::string plaintext) {
  ++sealed_;
  return stream_sealer_.seal(*keyring_, plaintext);
}

std::string GossipSecurity::seal_stream_request(std::string plaintext) {
  if (!seal_outgoing(keyring_.has_value(), verify_outgoing_)) return plaintext;
  return seal_stream(std::move(plaintext));
}

std::string GossipSecurity::seal_stream_reply(std::string plaintext, bool request_was_sealed) {
  if (!keyring_ || plaintext.empty()) return plaintext;
  if (!request_was_sealed && !verify_outgoing_) return plaintext;
  return seal_stream(std::move(plaintext));
}

KeyringStatus GossipSecurity::status(Clock::time_point now) const {
  if (!keyring_) throw KeyringError("this agent gossips in plaintext: it was started without --keyring");
  KeyringStatus out;
  out.label = label_;
  out.verify_incoming = verify_incoming_;
  out.verify_outgoing = verify_outgoing_;
  const auto& keys = keyring_->keys();
  for (std::size_t i = 0; i < keys.size(); ++i) out.keys.push_back({encode_key(keys[i]), i == 0, 0});
  for (const auto& [from, s] : senders_) {
    if (now - s.at > kRecentSenders) continue;
    if (s.key_index < 0) {
      ++out.plaintext_peers;
      continue;
    }
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == s.key) ++out.keys[i].peers;
    }
  }
  return out;
}

template <typename Change>
bool GossipSecurity::change(const char* what, Change&& change) {
  if (!keyring_) {
    throw KeyringError(std::string("cannot ") + what +
                       " a key: this agent gossips in plaintext (it was started without --keyring)");
  }
  Keyring next = *keyring_;
  if (!change(next)) return false;
  if (!keyring_file_.empty()) {
    try {
      write_keyring_file(keyring_file_, next);
    } catch (const KeyringError& e) {
      throw std::runtime_error(e.what());  // not the caller's fault: a server error
    }
  }
  keyring_ = std::move(next);
  return true;
}

bool GossipSecurity::install(std::string_view key) {
  const Key k = decode_key(key);
  return change("install", [&](Keyring& ring) { return ring.install(k); });
}

bool GossipSecurity::use(std::string_view key) {
  const Key k = decode_key(key);
  return change("use", [&](Keyring& ring) { return ring.use(k); });
}

bool GossipSecurity::remove(std::string_view key) {
  const Key k = decode_key(key);
  return change("remove", [&](Keyring& ring) { return ring.remove(k); });
}

std::vector<std::pair<std::string, std::uint64_t>> GossipSecurity::counters() const {
  return {{"crypto_sealed", sealed_},
          {"crypto_opened", opened_},
          {"plaintext_accepted", plaintext_accepted_},
          {"crypto_dropped_plaintext", dropped_plaintext_},
          {"crypto_dropped_no_keyring", dropped_no_keyring_},
          {"crypto_dropped_too_short", dropped_too_short_},
          {"crypto_dropped_bad_version", dropped_bad_version_},
          {"crypto_dropped_auth_failed", dropped_auth_failed_},
          {"crypto_dropped_replayed", dropped_replayed_},
          {"keys_installed", keyring_ ? keyring_->size() : 0}};
}

}  // namespace ringd::agent
