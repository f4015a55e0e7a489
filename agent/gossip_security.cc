#include "agent/gossip_security.h"

#include <algorithm>
#include <stdexcept>

namespace ringd::agent {
namespace {

bool live(const gossip::Member& m) {
  return m.state == gossip::MemberState::kAlive || m.state == gossip::MemberState::kSuspect;
}

// The fingerprints a member's "keyring" tag lists, primary first.
std::vector<std::string_view> tagged_keys(const gossip::Member& m) {
  std::vector<std::string_view> out;
  auto it = m.tags.find(GossipSecurity::kKeyringTag);
  if (it == m.tags.end()) return out;
  std::string_view rest = it->second;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    out.push_back(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return out;
}

// "n2, n3 and 4 more"
std::string name_some(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < 5; ++i) out += (i > 0 ? ", " : "") + names[i];
  if (names.size() > 5) out += " and " + std::to_string(names.size() - 5) + " more";
  return out;
}

}  // namespace

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
    if (!accept_plaintext(keyring_.has_value(), verify_incoming_)) return drop(dropped_plaintext_, from, "plaintext, refused by --verify-incoming");
    ++plaintext_accepted_;
    if (keyring_) remember(from, -1, now);
    return bytes;
  }
  if (!keyring_) return drop(dropped_no_keyring_, from, "sealed, and this agent has no --keyring");
  std::size_t key_index = 0;
  switch (opener_.open(*keyring_, bytes, scratch, &key_index)) {
    case OpenStatus::kOk:
      ++opened_;
      remember(from, static_cast<int>(key_index), now);
      return std::string_view(*scratch);
    case OpenStatus::kTooShort:
      return drop(dropped_too_short_, from, "sealed but too short");
    case OpenStatus::kBadVersion:
      return drop(dropped_bad_version_, from, "an unknown sealed version");
    case OpenStatus::kReplayed:
      return drop(dropped_replayed_, from, "replayed");
    case OpenStatus::kNotSealed:  // looks_sealed said otherwise; cannot happen
    case OpenStatus::kAuthFailed:
      break;
  }
  return drop(dropped_auth_failed_, from, "no installed key opens it (another key or --label, or tampered)");
}

std::optional<std::string> GossipSecurity::take_notice(Clock::time_point now) {
  if (unreported_drops_ == 0 || (last_notice_ && now - *last_notice_ < kNoticeInterval)) return std::nullopt;
  std::string line = "dropped " + std::to_string(unreported_drops_) + " gossip message" +
                     (unreported_drops_ == 1 ? "" : "s") + " (last from " + last_drop_from_ + ": " + last_drop_why_ +
                     "); counted in /metrics as crypto_dropped_*";
  unreported_drops_ = 0;
  last_notice_ = now;
  return line;
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

std::string GossipSecurity::keyring_tag() const { return keyring_ ? keyring_->fingerprints(kTagKeys) : std::string(); }

KeyringStatus GossipSecurity::status(Clock::time_point now, const std::vector<gossip::Member>& members) const {
  if (!keyring_) throw KeyringError("this agent gossips in plaintext: it was started without --keyring");
  KeyringStatus out;
  out.label = label_;
  out.verify_incoming = verify_incoming_;
  out.verify_outgoing = verify_outgoing_;
  const auto& keys = keyring_->keys();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    KeyUse use;
    use.key = encode_key(keys[i]);
    use.fingerprint = key_fingerprint(keys[i]);
    use.primary = i == 0;
    out.keys.push_back(std::move(use));
  }
  for (const auto& m : members) {
    if (!live(m)) continue;
    ++out.members;
    const auto tagged = tagged_keys(m);
    for (auto& k : out.keys) {
      if (std::find(tagged.begin(), tagged.end(), k.fingerprint) != tagged.end()) ++k.installed_on;
      if (!tagged.empty() && tagged.front() == k.fingerprint) ++k.primary_on;
    }
  }
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
  if (on_change_) on_change_();
  return true;
}

bool GossipSecurity::install(std::string_view key) {
  const Key k = decode_key(key);
  return change("install", [&](Keyring& ring) { return ring.install(k); });
}

bool GossipSecurity::use(std::string_view key, const std::vector<gossip::Member>& members, bool force) {
  const Key k = decode_key(key);
  if (keyring_ && keyring_->contains(k) && !force) {
    // Members that could not open what we would seal with it.
    const std::string fp = key_fingerprint(k);
    std::vector<std::string> lacking;
    for (const auto& m : members) {
      const auto tagged = tagged_keys(m);
      if (live(m) && std::find(tagged.begin(), tagged.end(), fp) == tagged.end()) lacking.push_back(m.name);
    }
    if (!lacking.empty()) {
      throw KeyringConflict("not every live member has installed this key (" + name_some(lacking) +
                            " lack it): they could not open what we seal with it. Install it there first "
                            "(ringd keyring install), or force it");
    }
  }
  return change("use", [&](Keyring& ring) { return ring.use(k); });
}

bool GossipSecurity::remove(std::string_view key, const std::vector<gossip::Member>& members, bool force) {
  const Key k = decode_key(key);
  if (keyring_ && keyring_->contains(k) && k != keyring_->primary() && !force) {
    const std::string fp = key_fingerprint(k);
    std::vector<std::string> sealing;
    for (const auto& m : members) {
      const auto tagged = tagged_keys(m);
      if (live(m) && !tagged.empty() && tagged.front() == fp) sealing.push_back(m.name);
    }
    if (!sealing.empty()) {
      throw KeyringConflict("this key is still the primary of " + name_some(sealing) +
                            ": we could not open what they seal. Use the new key there first "
                            "(ringd keyring use), or force it");
    }
  }
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
