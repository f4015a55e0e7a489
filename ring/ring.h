// ring/ring.h — immutable consistent hash ring snapshots (public contract).
//
// A Ring is built once from a set of service endpoints and never mutated;
// lookups are const and safe from any number of threads. The agent publishes
// new snapshots by atomic shared_ptr swap, so a lookup never waits for a
// rebuild. No I/O here.
//
// Five schemes (Options::mode, see mode.h):
//   default  ringd's ring, below.
//   multiprobe  one point per weight unit, k probes per key (multiprobe.h):
//            for thousands of endpoints; a fraction of the default ring's
//            memory and build time, better balance there.
//   maglev   Maglev table (maglev.h): near-perfect balance, moves a few
//            percent more keys than necessary on a change.
//   nginx    nginx `hash $key consistent`, bit for bit (nginx_compat.h).
//   ketama   libketama's continuum, bit for bit (ketama.h).
//
// The default scheme (every agent must agree on it bit for bit; ring.cc walks
// through it with a worked example):
//   key hash        = XXH3_64bits(key bytes), seed 0
//   point i of node = XXH3_64bits_withSeed(node bytes, seed = i),
//                     i = 0 .. points_per_node * weight - 1
//   points sorted by (hash, node name); owner = node of the first point with
//   hash >= key hash, wrapping to the first point.
//   checksum        = XXH3_64bits of "ringd-ring-v2\n" "mode=<mode>\n", then
//                     "ppn=<P>\n" (default mode), "table=<M>\n" (maglev) or
//                     "probes=<k>\n" (multiprobe),
//                     then "<len>:<node>*<weight>\n" for each node in sorted
//                     order; printed as 16 lowercase hex digits. It covers the
//                     node set, weights and scheme, not the order nodes came in.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "ring/bucket_index.h"
#include "ring/maglev.h"
#include "ring/mode.h"
#include "ring/multiprobe.h"

namespace ringd::ring {

// 1,024 points keep the busiest of 100 equal nodes within ~8% of the mean
// (the spread of a node's share is about 1/sqrt(points)); bench/ring_quality
// measures it. Costs about 20 bytes per point (points, index and line table,
// bucket_index.h): 21 MB at 1,000 nodes.
inline constexpr std::uint32_t kDefaultPointsPerNode = 1024;
// A node's weight is 1..kMaxWeight (HAProxy's range); larger counts as
// kMaxWeight. A weight comes from a member's tag, so it is bounded here as
// well as where tags are read: one member must not be able to multiply the
// ring of every agent.
inline constexpr std::uint32_t kMaxWeight = 256;
// Most points one ring holds (about 84 MB of points and index). Beyond it
// the default scheme uses fewer points per weight unit, and the nginx
// scheme scales its weights down (ring.cc, fit_point_budget): 4,096
// weight units keep the default 1,024 points each.
inline constexpr std::uint64_t kMaxRingPoints = std::uint64_t{1} << 22;

struct Options {
  // Default mode; 0 acts as 1, and a ring over kMaxRingPoints uses fewer.
  std::uint32_t points_per_node = kDefaultPointsPerNode;
  Mode mode = Mode::kDefault;
  std::uint32_t maglev_table_size = kDefaultMaglevTableSize;  // a prime; see maglev_table_size()
  std::uint32_t probes = kDefaultMultiProbeProbes;  // multiprobe mode: 1..kMaxMultiProbeProbes
};

struct WeightedNode {
  std::string endpoint;
  std::uint32_t weight = 1;  // 0 acts as 1; above kMaxWeight acts as kMaxWeight
};

// The default mode's key hash (XXH3-64); Maglev uses it too.
std::uint64_t hash_key(std::string_view key);

// The hash of virtual point `index` of `node` in the default mode:
// XXH3_64bits_withSeed(node, index). Public so tests (and other
// implementations) can check the ring against an independent model.
std::uint64_t hash_point(std::string_view node, std::uint32_t index);

class Ring {
 public:
  // Builds a ring from endpoints ("ip:port"), all of weight 1; order and
  // duplicates do not matter: the same set always gives the same ring and
  // checksum. Throws std::invalid_argument for a Maglev table size that is
  // not prime, std::length_error beyond 2^31 points.
  static std::shared_ptr<const Ring> build(std::vector<std::string> nodes, Options options = {});
  // The same with weights (a duplicate endpoint takes its largest weight).
  static std::shared_ptr<const Ring> build_weighted(std::vector<WeightedNode> nodes, Options options = {});

  // The ring build_weighted(nodes, options) returns (identical points,
  // lookups and checksum), built from `previous` when that is cheaper: same
  // options, default or nginx mode, and the added endpoints hold at most an
  // eighth of the points. Unchanged endpoints' points are then reused: the
  // departed endpoints' points are located through the index, the runs
  // between changes copied as blocks, and the index and line table patched
  // around the changes (bucket_merge.cc), instead of hashing and sorting
  // again (bench/ring_bench BM_Update). RingPublisher rebuilds this way.
  static std::shared_ptr<const Ring> build_weighted_from(const Ring& previous, std::vector<WeightedNode> nodes,
                                                         Options options = {});

  // The endpoint owning `key`; nullptr when the ring is empty. The pointer
  // stays valid as long as this Ring does.
  const std::string* owner(std::string_view key) const;
  // Up to n distinct endpoints, owner first, then the failover order: the
  // next distinct endpoints clockwise (Maglev: in the following table slots).
  std::vector<const std::string*> owners(std::string_view key, std::size_t n) const;

  // The mode's key hash: XXH3-64 (default, maglev), crc32 (nginx), ketama's
  // md5 prefix (ketama); the 32-bit ones zero-extended.
  std::uint64_t key_hash(std::string_view key) const;
  // owner() for an already computed key_hash(); nullptr when empty.
  // owner(key) == owner_of_hash(key_hash(key)).
  const std::string* owner_of_hash(std::uint64_t hash) const;
  // The same answer by plain binary search over the points (Maglev: the
  // table): the reference for tests and the benchmark baseline.
  const std::string* owner_of_hash_binary_search(std::uint64_t hash) const;

  const std::vector<std::string>& nodes() const;  // sorted, unique
  const std::vector<std::uint32_t>& weights() const { return weights_; }  // parallel to nodes()
  // Each node's fraction of the key hash space, parallel to nodes(); sums
  // to 1 (empty ring: empty). Computed on the first call (a pass over every
  // point, ~1 ms at 1,000 nodes), not by the rebuild: only /ring shows them.
  // Thread-safe.
  const std::vector<double>& shares() const;
  bool empty() const;
  // Points on the ring (Maglev: table slots).
  std::size_t point_count() const;
  // 16 lowercase hex digits over the node set, weights and options.
  const std::string& checksum() const;
  // The options actually used: points_per_node 0 is stored as 1 (and is
  // lowered to fit kMaxRingPoints), and maglev_table_size is the size in
  // use (maglev_table_size()).
  const Options& options() const { return options_; }
  Mode mode() const { return options_.mode; }
  // Heap bytes of the lookup structures (points and index, or the table).
  std::size_t memory_bytes() const;
  // The ring as a compact binary image for lookups outside the agent (the
  // nginx snapshot mode): format in ring/dump.h. Built on the first call,
  // then kept. Thread-safe.
  const std::string& dump() const;

 private:
  Ring() = default;
  // A ring with the canonical node set (sorted, unique, weights clamped) and
  // normalised options, but no lookup structures yet.
  static std::shared_ptr<Ring> prepare(std::vector<WeightedNode> nodes, Options options);
  void finish();  // the checksum
  void add_points(std::uint32_t node, PointList& out) const;
  void build_lookup();  // the mode's lookup structure, from scratch
  void build_points();
  void build_maglev();
  void compute_shares() const;
  // The position on the ring of a key hash: 32-bit hashes sit in the top half.
  std::uint64_t position(std::uint64_t hash) const { return hash << position_shift_; }

  std::vector<std::string> nodes_;  // sorted, unique
  std::vector<std::uint32_t> weights_;
  mutable std::once_flag shares_once_;
  mutable std::vector<double> shares_;
  mutable std::once_flag dump_once_;
  mutable std::string dump_;
  PointIndex points_;                     // default, nginx, ketama
  std::vector<std::uint32_t> table_;      // maglev: slot -> node index
  MultiProbeRing multiprobe_;             // multiprobe
  unsigned position_shift_ = 0;           // 32 for the 32-bit modes
  Options options_;
  std::string checksum_;
};

}  // namespace ringd::ring
