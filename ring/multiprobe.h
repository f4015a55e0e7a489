// ring/multiprobe.h — multi-probe consistent hashing (Appleton and O'Reilly,
// "Multi-probe consistent hashing", arXiv:1505.00062, 2015), ringd's scheme
// for rings of thousands of endpoints.
//
// Every endpoint of weight w puts w points on a ring (point i at
// XXH3_64bits_withSeed(endpoint, seed = i), as the default mode's point i).
// A key is looked up k times instead of once: probe i of key hash h sits at
// probe_position(h, i), and each probe finds the first point at or after it,
// going clockwise (wrapping), at a clockwise distance (point - probe) mod
// 2^64. The point at the smallest distance owns the key; equal distances go
// to the lower probe number.
//
// Why: with one point per endpoint a plain ring gives some endpoints arcs
// many times the mean. A probe's distance is at most its arc, so a long arc
// wins only while its probe is nearer than the other k - 1 probes' points;
// the chance saturates and long arcs stop paying. With k = 13 probes the
// busiest of 10,000 endpoints holds about 1.09x the mean share; the default
// ring needs ~1,600 points per endpoint (16 M points, hundreds of MB) for
// that. Here the ring is one point per weight unit: 10,000 endpoints take
// about 0.3 MB, build in about 2 ms, and a lookup costs k probes into a
// bucket index that stays in cache (about 32 ns at 10,000, bench/RESULTS.md).
//
// What a change moves: only the keys of the endpoint that joined or left.
// A new point can only shorten some probes' distances, so a key changes
// owner only to the new endpoint; a removed point lengthens only the
// distances of probes that stopped at it, so only its endpoint's keys move.
//
// Worked example with 8-bit hashes and k = 2: points a@40, b@90, c@200.
// A key whose probes land at 30 and 85: probe 0 -> a@40, distance 10;
// probe 1 -> b@90, distance 5: b owns it. Add d@35: probe 0 now finds d at
// distance 5, tied with probe 1; the lower probe wins: d. Remove b instead:
// probe 1 finds c@200 at distance 115, probe 0 still a at 10: a.
//
// Failover (owners(key, n)): the owner if it left: every probe walks past
// the points of the endpoints already chosen, and the nearest remaining
// point names the next endpoint.
//
// Shares: the fraction of uniformly random keys each endpoint gets when the
// k probes are independent and uniform, computed exactly from the arcs:
// with F(d) = sum over arcs of min(d, arc), an arc of length a (its point
// taking the probes that land in it) gets k * integral_0^a (1 - F(x))^(k-1)
// dx. Keys sampled through the real probe hash agree (ring_modes_test).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ringd::ring {

// 13 probes keep the busiest of 10,000 equal endpoints under 1.10x the mean
// (1.12x at 10, 1.094x at 12, 1.069x at 16 in the exact model); each probe
// costs about 2 ns (bench/ring_bench).
inline constexpr std::uint32_t kDefaultMultiProbeProbes = 13;
inline constexpr std::uint32_t kMaxMultiProbeProbes = 64;

// Where probe `i` of a key hash lands: x = hash XOR (i * 0x9e3779b97f4a7c15),
// then x ^= x >> 32, x *= 0xd6e8feb86659fd93, x ^= x >> 32. The shares below
// assume the probes of a key are independent; sampled keys agree with them
// to within sampling noise (ring_modes_test). Cheaper rules do not: probes
// at hash + i * step (double hashing) make some endpoints' shares 20% off.
inline std::uint64_t probe_position(std::uint64_t hash, std::uint32_t i) {
  std::uint64_t x = hash ^ (std::uint64_t{i} * 0x9e3779b97f4a7c15ULL);
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  return x ^ (x >> 32);
}

class MultiProbeRing {
 public:
  MultiProbeRing() = default;
  // nodes in canonical (sorted) order, weights parallel (>= 1).
  MultiProbeRing(const std::vector<std::string>& nodes, const std::vector<std::uint32_t>& weights,
                 std::uint32_t probes);

  // Owner node index of a key hash; the ring must not be empty.
  std::uint32_t owner(std::uint64_t hash) const;
  // The same by binary search per probe: the reference for tests.
  std::uint32_t owner_binary_search(std::uint64_t hash) const;
  // Up to n distinct node indexes, owner first, then the failover order.
  std::vector<std::uint32_t> owners(std::uint64_t hash, std::size_t n, std::size_t node_count) const;
  // Each node's expected share (see above), parallel to the node list.
  std::vector<double> shares(std::size_t node_count) const;

  std::size_t point_count() const { return points_; }
  std::uint64_t position(std::size_t i) const { return pos_[i]; }
  std::uint32_t node(std::size_t i) const { return node_[i]; }
  std::size_t memory_bytes() const;

 private:
  // The first point at or after q (points_ when past the last).
  std::size_t successor(std::uint64_t q) const {
    // A plain loop: predicted not taken, so the CPU runs ahead to the next
    // probe; a branch-free step (j += pos_[j] < q) chains each probe's two
    // loads and was 20% slower.
    std::size_t j = first_[q >> shift_];
    while (pos_[j] < q) ++j;  // pos_[points_] is the UINT64_MAX sentinel
    return j;
  }
  // Clockwise distance from q to point j, j == points_ meaning point 0.
  std::uint64_t distance(std::uint64_t q, std::size_t j) const { return (j == points_ ? pos_[0] : pos_[j]) - q; }

  std::size_t points_ = 0;
  std::uint32_t probes_ = kDefaultMultiProbeProbes;
  unsigned shift_ = 64;
  std::vector<std::uint64_t> pos_;    // sorted by (position, node); + sentinel
  std::vector<std::uint32_t> node_;   // parallel; node_[points_] == node_[0]
  std::vector<std::uint32_t> first_;  // bucket -> first point at or above its lower edge
};

// Inline: Ring::owner_of_hash calls it on every lookup.
inline std::uint32_t MultiProbeRing::owner(std::uint64_t hash) const {
  // Branch-free on the common path: which probe wins is a coin toss the
  // branch predictor cannot learn, so the minimum is kept with selects.
  std::uint64_t q = probe_position(hash, 0);
  std::size_t best_point = successor(q);
  std::uint64_t best = distance(q, best_point);
  for (std::uint32_t i = 1; i < probes_; ++i) {
    q = probe_position(hash, i);
    const std::size_t j = successor(q);
    const std::uint64_t d = distance(q, j);
    const bool nearer = d < best;
    best = nearer ? d : best;
    best_point = nearer ? j : best_point;
  }
  return node_[best_point];
}

}  // namespace ringd::ring
