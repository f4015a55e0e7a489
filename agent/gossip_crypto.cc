// agent/gossip_crypto.cc — see gossip_crypto.h.
//
// AES-256-GCM from nettle (Debian's nettle-dev; AES-NI and carry-less
// multiply picked at run time): a few tens of kilobytes of code, where
// OpenSSL's libcrypto linked statically brought 2.8 MB and 1.5 MB of it
// resident in every agent (bench/RESULTS.md, agents100). Cost per message:
// a context keeps its key schedule; a message under the key it last used
// only sets a new nonce, then one pass of AES-CTR + GHASH over AAD and
// payload. Nonces come from getrandom(2) 128 at a time.
#include "agent/gossip_crypto.h"

#include <nettle/gcm.h>
#include <nettle/memops.h>

#include <array>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <vector>

namespace ringd::agent {
namespace {

constexpr std::size_t kPayloadOffset = kSealedHeaderSize + kNonceSize;  // 30

void put_u64(unsigned char* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<unsigned char>(v & 0xff);
    v >>= 8;
  }
}

std::uint64_t get_u64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

void write_header(unsigned char* p, std::uint64_t boot_id, std::uint64_t sequence) {
  p[0] = kSealedMagic;
  p[1] = kSealedVersion;
  put_u64(p + 2, boot_id);
  put_u64(p + 10, sequence);
}

std::string make_aad(std::string_view label) {
  std::string aad(kSealedHeaderSize, '\0');
  aad.append(label);
  return aad;
}

}  // namespace

std::string_view to_string(OpenStatus status) {
  switch (status) {
    case OpenStatus::kOk: return "ok";
    case OpenStatus::kTooShort: return "too_short";
    case OpenStatus::kNotSealed: return "not_sealed";
    case OpenStatus::kBadVersion: return "bad_version";
    case OpenStatus::kAuthFailed: return "auth_failed";
    case OpenStatus::kReplayed: return "replayed";
  }
  return "unknown";
}

std::uint64_t random_boot_id() {
  unsigned char bytes[8];
  random_bytes(bytes, sizeof bytes);
  return get_u64(bytes);
}

// One AES-256-GCM context and the key it was last given.
struct CipherContext {
  // Starts a message under `key` with `nonce` and authenticates `aad`; the
  // key schedule is redone only when the key differs from the last one.
  void start(const Key& key, const unsigned char* nonce, const std::string& aad) {
    if (!has_key || key != last_key) {
      gcm_aes256_set_key(&ctx, key.data());
      last_key = key;
      has_key = true;
    }
    gcm_aes256_set_iv(&ctx, kNonceSize, nonce);
    gcm_aes256_update(&ctx, aad.size(), reinterpret_cast<const unsigned char*>(aad.data()));
  }

  gcm_aes256_ctx ctx{};
  Key last_key{};
  bool has_key = false;
};

// The Sealer's context, and nonces drawn from getrandom in batches: one
// call costs about as much as sealing a small message, whatever its size.
// (ringd does not fork once running, so no two processes share a batch.)
struct Sealer::Cipher {
  static constexpr std::size_t kBatch = 128;  // nonces per getrandom call

  const unsigned char* next_nonce() {
    if (used == kBatch) {
      random_bytes(nonces.data(), nonces.size());
      used = 0;
    }
    return nonces.data() + kNonceSize * used++;
  }

  CipherContext context;
  std::array<unsigned char, kNonceSize * kBatch> nonces{};
  std::size_t used = kBatch;
};

// The Opener's contexts, one per key recently tried, so that trying the
// primary and then the next key (during a rotation, or for a forged
// message) does not redo either key schedule.
struct Opener::Cipher {
  static constexpr std::size_t kContexts = 4;

  CipherContext& for_key(const Key& key) {
    for (auto& c : contexts) {
      if (c->has_key && c->last_key == key) return *c;
    }
    if (contexts.size() < kContexts) return *contexts.emplace_back(std::make_unique<CipherContext>());
    CipherContext& c = *contexts[victim];
    victim = (victim + 1) % kContexts;
    return c;
  }

  std::vector<std::unique_ptr<CipherContext>> contexts;
  std::size_t victim = 0;
};

// ---- Sealer ----

Sealer::Sealer(std::string label) : Sealer(std::move(label), random_boot_id()) {}

Sealer::Sealer(std::string label, std::uint64_t boot_id)
    : cipher_(std::make_unique<Cipher>()), aad_(make_aad(label)), boot_id_(boot_id) {}

Sealer::~Sealer() = default;
Sealer::Sealer(Sealer&&) noexcept = default;
Sealer& Sealer::operator=(Sealer&&) noexcept = default;

std::string Sealer::seal(const Keyring& keyring, std::string_view plaintext) {
  std::string out;
  seal(keyring, plaintext, &out);
  return out;
}

void Sealer::seal(const Keyring& keyring, std::string_view plaintext, std::string* out) {
  out->resize(kSealOverhead + plaintext.size());
  auto* p = reinterpret_cast<unsigned char*>(out->data());
  write_header(p, boot_id_, sequence_);
  unsigned char* nonce = p + kSealedHeaderSize;
  std::memcpy(nonce, cipher_->next_nonce(), kNonceSize);
  std::memcpy(aad_.data(), p, kSealedHeaderSize);

  CipherContext& cipher = cipher_->context;
  unsigned char* payload = p + kPayloadOffset;
  cipher.start(keyring.primary(), nonce, aad_);
  gcm_aes256_encrypt(&cipher.ctx, plaintext.size(), payload, reinterpret_cast<const unsigned char*>(plaintext.data()));
  gcm_aes256_digest(&cipher.ctx, kTagSize, payload + plaintext.size());
  ++sequence_;
}

// ---- Opener ----

Opener::Opener(std::string label, OpenerOptions options)
    : cipher_(std::make_unique<Cipher>()), aad_(make_aad(label)), window_(options.max_senders) {}

Opener::~Opener() = default;
Opener::Opener(Opener&&) noexcept = default;
Opener& Opener::operator=(Opener&&) noexcept = default;

OpenStatus Opener::open(const Keyring& keyring, std::string_view sealed, std::string* plaintext,
                        std::size_t* key_index) {
  plaintext->clear();
  if (sealed.empty()) return OpenStatus::kTooShort;
  if (!looks_sealed(sealed)) return OpenStatus::kNotSealed;
  if (sealed.size() < 2) return OpenStatus::kTooShort;
  if (static_cast<std::uint8_t>(sealed[1]) != kSealedVersion) return OpenStatus::kBadVersion;
  if (sealed.size() < kSealOverhead) return OpenStatus::kTooShort;

  const auto* p = reinterpret_cast<const unsigned char*>(sealed.data());
  const std::uint64_t boot_id = get_u64(p + 2);
  const std::uint64_t sequence = get_u64(p + 10);
  if (window_.seen(boot_id, sequence)) return OpenStatus::kReplayed;

  std::memcpy(aad_.data(), p, kSealedHeaderSize);
  const unsigned char* nonce = p + kSealedHeaderSize;
  const unsigned char* payload = p + kPayloadOffset;
  const std::size_t payload_size = sealed.size() - kSealOverhead;
  const unsigned char* tag = payload + payload_size;

  plaintext->resize(payload_size);
  auto* out = reinterpret_cast<unsigned char*>(plaintext->data());
  for (std::size_t i = 0; i < keyring.keys().size(); ++i) {
    const Key& key = keyring.keys()[i];
    CipherContext& cipher = cipher_->for_key(key);
    cipher.start(key, nonce, aad_);
    gcm_aes256_decrypt(&cipher.ctx, payload_size, out, payload);
    unsigned char digest[kTagSize];
    gcm_aes256_digest(&cipher.ctx, kTagSize, digest);
    const bool ok = memeql_sec(digest, tag, kTagSize) != 0;  // constant time
    if (ok) {
      window_.accept(boot_id, sequence);
      if (key_index != nullptr) *key_index = i;
      return OpenStatus::kOk;
    }
  }
  plaintext->clear();
  return OpenStatus::kAuthFailed;
}

}  // namespace ringd::agent
