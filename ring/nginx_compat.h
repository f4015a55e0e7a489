// ring/nginx_compat.h — the points of nginx's `hash $key consistent`
// (ngx_http_upstream_hash_module, as in nginx 1.22), reproduced bit for bit
// from its documented behaviour so a fleet can move between nginx and ringd
// without reshuffling caches.
//
// For each server, as written in the upstream block ("10.0.0.7:8000"):
//   split at the last ':' if only digits follow it: host "10.0.0.7", port
//   "8000" (no port: the whole text is the host, the port is empty);
//   base    = crc32(host + "\0" + port)
//   point 0 = crc32(base continued with the 4 bytes 00 00 00 00)
//   point j = crc32(base continued with point j-1 as 4 little-endian bytes)
//   for j < 160 * weight. (The comment in nginx calls this compatible with
//   Cache::Memcached::Fast.)
// Keys: crc32(key bytes); the owner is the server of the first point >= it,
// wrapping to the first point. Equal points: nginx keeps the one first in
// its sorted array; glibc's qsort is a stable merge sort, so that is the
// server listed first. ringd breaks ties by name, so the two agree when the
// upstream block lists servers in name order (and collisions are rare: 32-bit
// hashes, 160 points per server).
//
// Worked example, server "127.0.0.1:8001":
//   base = crc32("127.0.0.1\0" "8001")
//   point 0 = crc32(base, 00 00 00 00), point 1 = crc32(base, point 0 LE), ...
// tests/unit/ring_nginx_compat_test.cc pins the first values; tests/compat
// checks thousands of keys against a running nginx.
//
// Not reproduced: nginx falls back to round robin for an empty key, and skips
// servers that are down or failing (ringd's membership does that instead).
#pragma once

#include <cstdint>
#include <string_view>

#include "ring/bucket_index.h"

namespace ringd::ring {

inline constexpr std::uint32_t kNginxPointsPerWeight = 160;

// Appends 160 * weight points of `server` (node index `node`) to `out`; each
// 32-bit point is stored in the top half of the 64-bit hash.
void add_nginx_points(std::string_view server, std::uint32_t weight, std::uint32_t node, PointList& out);

// The 32-bit key hash nginx looks up: crc32(key).
std::uint32_t nginx_key_hash(std::string_view key);

}  // namespace ringd::ring
