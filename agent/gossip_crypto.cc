// agent/gossip_crypto.cc — see gossip_crypto.h.
//
// Cost per message: a context is set up with AES-256-GCM once; a message
// under the key that context last used only sets a new nonce (no key
// schedule), then one pass of AES-CTR + GHASH over AAD and payload. Nonces
// come from RAND_bytes 128 at a time.
#include "agent/gossip_crypto.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

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

// AES-256-GCM, fetched from the default provider once per process (an
// implicit fetch on every init is what makes OpenSSL 3 slow).
const EVP_CIPHER* aes_256_gcm() {
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (cipher == nullptr) throw std::runtime_error("OpenSSL has no AES-256-GCM");
  return cipher;
}

std::string make_aad(std::string_view label) {
  std::string aad(kSealedHeaderSize, '\0');
  aad.append(label);
  return aad;
}

// EVP_*Update take int lengths; feed larger inputs in pieces.
template <typename Update>
bool update_all(Update update, EVP_CIPHER_CTX* ctx, unsigned char* out, const unsigned char* in,
                std::size_t size) {
  constexpr std::size_t kChunk = std::size_t{1} << 30;
  while (size > 0) {
    const int n = static_cast<int>(size < kChunk ? size : kChunk);
    int written = 0;
    if (update(ctx, out, &written, in, n) != 1 || written != n) return false;
    if (out != nullptr) out += n;
    in += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
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
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("RAND_bytes failed");
  return get_u64(bytes);
}

// One EVP context in one direction, and the key it was last given.
struct CipherContext {
  explicit CipherContext(bool encrypt) : encrypt(encrypt), ctx(EVP_CIPHER_CTX_new()) {
    if (ctx == nullptr) throw std::runtime_error("EVP_CIPHER_CTX_new failed");
    const int ok = encrypt ? EVP_EncryptInit_ex(ctx, aes_256_gcm(), nullptr, nullptr, nullptr)
                           : EVP_DecryptInit_ex(ctx, aes_256_gcm(), nullptr, nullptr, nullptr);
    if (ok != 1) {
      EVP_CIPHER_CTX_free(ctx);
      throw std::runtime_error("AES-256-GCM initialisation failed");
    }
  }
  CipherContext(const CipherContext&) = delete;
  CipherContext& operator=(const CipherContext&) = delete;
  ~CipherContext() { EVP_CIPHER_CTX_free(ctx); }

  // Starts a message under `key` with `nonce`; the key schedule is redone
  // only when the key differs from the last one.
  bool start(const Key& key, const unsigned char* nonce) {
    const unsigned char* k = (has_key && key == last_key) ? nullptr : key.data();
    const int ok = encrypt ? EVP_EncryptInit_ex(ctx, nullptr, nullptr, k, nonce)
                           : EVP_DecryptInit_ex(ctx, nullptr, nullptr, k, nonce);
    if (ok != 1) {
      has_key = false;
      return false;
    }
    if (k != nullptr) {
      last_key = key;
      has_key = true;
    }
    return true;
  }

  bool encrypt;
  EVP_CIPHER_CTX* ctx;
  Key last_key{};
  bool has_key = false;
};

// The Sealer's context, and nonces drawn from RAND_bytes in batches: one
// call costs about as much as sealing a small message, whatever its size.
// (ringd does not fork once running, so no two processes share a batch.)
struct Sealer::Cipher {
  static constexpr std::size_t kBatch = 128;  // nonces per RAND_bytes call

  const unsigned char* next_nonce() {
    if (used == kBatch) {
      if (RAND_bytes(nonces.data(), static_cast<int>(nonces.size())) != 1) {
        throw std::runtime_error("RAND_bytes failed");
      }
      used = 0;
    }
    return nonces.data() + kNonceSize * used++;
  }

  CipherContext context{true};
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
    if (contexts.size() < kContexts) return *contexts.emplace_back(std::make_unique<CipherContext>(false));
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
  EVP_CIPHER_CTX* ctx = cipher.ctx;
  unsigned char* payload = p + kPayloadOffset;
  unsigned char* tag = payload + plaintext.size();
  int n = 0;
  const bool ok =
      cipher.start(keyring.primary(), nonce) &&
      update_all(EVP_EncryptUpdate, ctx, nullptr, reinterpret_cast<const unsigned char*>(aad_.data()),
                 aad_.size()) &&
      update_all(EVP_EncryptUpdate, ctx, payload, reinterpret_cast<const unsigned char*>(plaintext.data()),
                 plaintext.size()) &&
      EVP_EncryptFinal_ex(ctx, tag, &n) == 1 && n == 0 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize), tag) == 1;
  if (!ok) {
    out->clear();
    throw std::runtime_error("AES-256-GCM encryption failed");
  }
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
  unsigned char tag[kTagSize];  // set_tag wants a mutable buffer
  std::memcpy(tag, payload + payload_size, kTagSize);

  plaintext->resize(payload_size);
  auto* out = reinterpret_cast<unsigned char*>(plaintext->data());
  for (std::size_t i = 0; i < keyring.keys().size(); ++i) {
    const Key& key = keyring.keys()[i];
    CipherContext& cipher = cipher_->for_key(key);
    EVP_CIPHER_CTX* ctx = cipher.ctx;
    int n = 0;
    const bool ok =
        cipher.start(key, nonce) &&
        update_all(EVP_DecryptUpdate, ctx, nullptr, reinterpret_cast<const unsigned char*>(aad_.data()),
                   aad_.size()) &&
        update_all(EVP_DecryptUpdate, ctx, out, payload, payload_size) &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize), tag) == 1 &&
        EVP_DecryptFinal_ex(ctx, out + payload_size, &n) == 1;
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
