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
// bucket index that stays in cache (about 28 ns at 10,000, bench/RESULTS.md).
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
// costs about 1.5 ns (bench/ring_bench).
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
  // The first point at or after q (points_ when past the last), for the
  // slower paths (owners()).
  std::size_t successor(std::uint64_t q) const {
    std::size_t j = first_[q >> shift_];
    while (j < points_ && pos_[j] < q) ++j;
    return j;
  }
  // Clockwise distance from q to point j, j == points_ meaning point 0.
  std::uint64_t distance(std::uint64_t q, std::size_t j) const { return (j == points_ ? pos_[0] : pos_[j]) - q; }
  // The lookup for k probes; K = k, fixed at compile time, or 0 for any k.
  template <std::uint32_t K>
  std::uint32_t owner_of(std::uint64_t hash, std::uint32_t k) const;

  std::size_t points_ = 0;
  std::uint32_t probes_ = kDefaultMultiProbeProbes;
  unsigned shift_ = 64;
  std::vector<std::uint64_t> pos_;    // sorted by (position, node); + pos_[points_] == 0 (see owner_of)
  std::vector<std::uint32_t> node_;   // parallel; node_[points_] == node_[0]
  std::vector<std::uint32_t> first_;  // bucket -> first point at or above its lower edge
};

namespace multiprobe_detail {

// probe_position(hash, i) == mix(fold(hash) ^ probe_xor(i)): a shift
// distributes over XOR, so the key's half of the first step is done once.
inline std::uint64_t fold(std::uint64_t hash) { return hash ^ (hash >> 32); }
constexpr std::uint64_t probe_xor(std::uint32_t i) {
  const std::uint64_t c = std::uint64_t{i} * 0x9e3779b97f4a7c15ULL;
  return c ^ (c >> 32);
}
inline constexpr std::uint64_t kProbeMul = 0xd6e8feb86659fd93ULL;

// best, best_point = d, j when d < best. Selects, not a branch: which probe
// wins is a coin toss the branch predictor cannot learn (GCC turns the
// plain ternaries into branches once the loop is unrolled).
inline void keep_nearer(std::uint64_t d, std::size_t j, std::uint64_t& best, std::size_t& best_point) {
#if defined(__x86_64__) && defined(__GNUC__)
  asm("cmp %[d], %[best]\n\tcmova %[d], %[best]\n\tcmova %[j], %[point]"
      : [best] "+r"(best), [point] "+r"(best_point)
      : [d] "r"(d), [j] "r"(j)
      : "cc");
#else
  const bool nearer = d < best;
  best = nearer ? d : best;
  best_point = nearer ? j : best_point;
#endif
}

}  // namespace multiprobe_detail

// About 16 instructions a probe; a lookup costs less the fewer it has (the
// 13 probes run side by side, and the next key's only start once these
// retire). Measured slower at 10,000 points (bench/ring_bench): a branch-free
// walk (j += pos[j] < q; 20%), loading pos[j] and pos[j + 1] and selecting
// (16%), bucket entries holding the point's position, node or both, or more
// buckets (each 15-30%: past ~250 kB the index falls out of the fast part of
// L2), and the winner's point searched again at the end instead of kept.
template <std::uint32_t K>
inline std::uint32_t MultiProbeRing::owner_of(std::uint64_t hash, std::uint32_t k) const {
  using namespace multiprobe_detail;
  const std::uint64_t folded = fold(hash);
  const std::uint64_t* const pos = pos_.data();
  const std::uint32_t* const first = first_.data();
  const unsigned shift = shift_;
  std::uint64_t best = 0;
  std::size_t best_point = 0;
#pragma GCC unroll 64
  for (std::uint32_t i = 0; i < (K != 0 ? K : k); ++i) {
    const std::uint64_t x = (folded ^ probe_xor(i)) * kProbeMul;
    const std::uint64_t q = x ^ (x >> 32);  // probe_position(hash, i)
    // The bucket from x: its top 32 bits are q's (shift_ >= 44).
    std::size_t j = first[x >> shift];
    std::uint64_t d;
    // Mostly the bucket's first point is at or after q. Otherwise (about 1
    // probe in 7 at 10,000 points) walk on; pos_[points_] == 0 sends a
    // bucket past the last point here too, to wrap to point 0.
    if (__builtin_sub_overflow(pos[j], q, &d)) [[unlikely]] {
      while (j < points_ && pos[j] < q) ++j;
      if (j == points_) j = 0;
      d = pos[j] - q;
    }
    if (i == 0) {
      best = d;
      best_point = j;
    } else {
      keep_nearer(d, j, best, best_point);
    }
  }
  return node_[best_point];
}

// Inline: Ring::owner_of_hash calls it on every lookup. The default probe
// count gets its own unrolled copy, the probe constants folded in.
inline std::uint32_t MultiProbeRing::owner(std::uint64_t hash) const {
  if (probes_ == kDefaultMultiProbeProbes) return owner_of<kDefaultMultiProbeProbes>(hash, probes_);
  return owner_of<0>(hash, probes_);
}

}  // namespace ringd::ring
