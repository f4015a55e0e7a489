// ring/ketama.h — libketama's continuum (last.fm's ketama, as used by many
// memcached clients), reproduced bit for bit so a fleet can move to ringd
// without reshuffling its caches.
//
// For S servers with weights w_i (total W), server i contributes
//   k_i = floor(40 * S * w_i / W) groups (40 with equal weights);
//   group g: d = md5(server + "-" + decimal(g)), e.g. md5("10.0.0.7:8000-17"),
//   and four points from the digest, each 4 bytes read little-endian:
//   d[3..0], d[7..4], d[11..8], d[15..12].
// So 160 points per server at equal weights. A key hashes to md5(key)'s
// first 4 bytes, little-endian, and belongs to the first point >= it,
// wrapping to the first point (libketama's and libmemcached's rule).
//
// Departures, all on measure-zero cases: libketama computes k_i in float
// (floorf(pct * 40.0 * S)), which can round a group away for some weight
// mixes; we use the exact integer formula, which is also what python's
// uhashring does. uhashring takes the first point strictly greater than the
// key hash, so a key whose hash equals a point exactly (about one key in
// 2^32 / points) goes one point further there; we follow libketama. Equal
// points: broken by server name (libketama's qsort leaves them unspecified).
// tests/compat checks thousands of keys against python3-uhashring.
#pragma once

#include <cstdint>
#include <string_view>

#include "ring/bucket_index.h"

namespace ringd::ring {

inline constexpr std::uint32_t kKetamaGroupsPerServer = 40;

// Appends `server`'s points (node index `node`). `server_count` and
// `total_weight` are over the whole server set.
void add_ketama_points(std::string_view server, std::uint32_t weight, std::size_t server_count,
                       std::uint64_t total_weight, std::uint32_t node, PointList& out);

// md5(key)'s first 4 bytes, little-endian.
std::uint32_t ketama_key_hash(std::string_view key);

}  // namespace ringd::ring
