// ring/dump.h — a ring snapshot as bytes, for lookups outside the agent.
//
// nginx workers (deploy/nginx/lua/ringd/snapshot.lua) fetch this image with
// RESP `RING.DUMP` and find owners in-process, exactly as Ring::owner() and
// Ring::owners() do, without a round trip per request. The image holds the
// ring's points in lookup order (or the Maglev table), so a reader needs
// only the mode's key hash and a binary search; it never hashes a point.
//
// Layout, version 1; every integer little-endian, every section starting at
// a multiple of 8 bytes:
//
//   offset  size  field
//   ------  ----  -----------------------------------------------------------
//        0     8  magic "RINGDMP1" (the 1 is the format version)
//        8     1  mode: 0 default, 1 maglev, 2 nginx, 3 ketama, 4 multiprobe
//                 (ring/mode.h)
//        9     7  zero
//       16    16  checksum, 16 lowercase hex digits (as /ring and RING.CHECKSUM)
//       32     4  node_count N
//       36     4  entry_count E: points, or Maglev table slots
//       40     4  names_bytes B: size of the names section, padding included
//       44     4  points_per_node (default mode), probes k (multiprobe), else 0
//       48     B  names: N times (u16 length, bytes), in node order (sorted),
//                 then zero bytes up to a multiple of 8
//   48 + B   8*E  positions, ascending (not in a Maglev image)
//     ...    4*E  node index of each position, or of each Maglev slot
//
// Lookup of key k (the agent's rule, bit for bit):
//   default: h = XXH3_64bits(k), seed 0; position = h
//   nginx:   h = crc32(k) (nginx's ngx_crc32_long); position = h << 32
//   ketama:  h = the first 4 bytes of md5(k), little-endian; position = h << 32
//   points:  i = the first position >= the key's position (E wraps to 0);
//            owner = names[node[i]]; failover owners: the next distinct
//            nodes at i+1, i+2, ... wrapping.
//   multiprobe: h = XXH3_64bits(k); for each probe i < k (header field 44),
//            q = probe_position(h, i) (ring/multiprobe.h); its point is the first position >= q
//            (wrapping), at distance (position - q) mod 2^64; the nearest
//            point (lowest i on a tie) owns the key; failover as
//            multiprobe.h says.
//   maglev:  slot = (XXH3_64bits(k) * E) >> 64 (the high 64 bits of the
//            128-bit product); owner = names[node[slot]]; failover owners:
//            the next distinct nodes at slot+1, ... wrapping.
// An empty ring has N = 0 and E = 0: no owner.
#pragma once

#include <cstdint>
#include <string_view>

namespace ringd::ring {

inline constexpr std::string_view kDumpMagic = "RINGDMP1";
inline constexpr std::size_t kDumpHeaderSize = 48;

}  // namespace ringd::ring
