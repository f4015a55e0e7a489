// ring/hashes.h — the hash functions the ring modes are defined by.
//
//   xxh3_64   XXH3-64 (libxxhash): the default ring and Maglev.
//   crc32     CRC-32 as zlib computes it (the IEEE polynomial, reflected,
//             pre- and post-inverted): the nginx mode. crc32(b, crc32(a))
//             equals crc32(a + b), which is how nginx extends a hash.
//   md5       MD5 (libmd): the ketama mode.
//
// Pure functions, safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace ringd::ring {

std::uint64_t xxh3_64(std::string_view bytes, std::uint64_t seed = 0);

// `crc` continues an earlier checksum (0 starts a new one).
std::uint32_t crc32(std::string_view bytes, std::uint32_t crc = 0);

using Md5Digest = std::array<unsigned char, 16>;
Md5Digest md5(std::string_view bytes);

}  // namespace ringd::ring
