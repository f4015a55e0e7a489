#include "ring/hashes.h"

#include <openssl/evp.h>
#include <xxhash.h>
#include <zlib.h>

#include <memory>
#include <stdexcept>

namespace ringd::ring {

std::uint64_t xxh3_64(std::string_view bytes, std::uint64_t seed) {
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), seed);
}

std::uint32_t crc32(std::string_view bytes, std::uint32_t crc) {
  // zlib takes the length as uInt; feed very long inputs in pieces.
  const auto* data = reinterpret_cast<const Bytef*>(bytes.data());
  std::size_t left = bytes.size();
  uLong value = crc;
  while (left > 0) {
    const uInt chunk = left > (1u << 30) ? (1u << 30) : static_cast<uInt>(left);
    value = ::crc32(value, data, chunk);
    data += chunk;
    left -= chunk;
  }
  return static_cast<std::uint32_t>(value);
}

namespace {

// Fetched once: with OpenSSL 3 an implicit fetch on every EVP_DigestInit
// costs more than hashing a short key.
const EVP_MD* md5_algorithm() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "MD5", nullptr);
  if (md == nullptr) throw std::runtime_error("MD5 is not available from OpenSSL (needed by the ketama ring)");
  return md;
}

struct CtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

Md5Digest md5(std::string_view bytes) {
  const EVP_MD* md = md5_algorithm();
  // One context per thread, reused: lookups stay allocation-free.
  thread_local std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  Md5Digest out{};
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != out.size()) {
    throw std::runtime_error("MD5 digest failed");
  }
  return out;
}

}  // namespace ringd::ring
