#include "ring/hashes.h"

#include <md5.h>  // libmd
#include <xxhash.h>
#include <zlib.h>

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

Md5Digest md5(std::string_view bytes) {
  MD5_CTX ctx;
  MD5Init(&ctx);
  MD5Update(&ctx, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  Md5Digest out{};
  MD5Final(out.data(), &ctx);
  return out;
}

}  // namespace ringd::ring
