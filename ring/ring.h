// ring/ring.h — immutable consistent hash ring snapshots (public contract).
//
// A Ring is built once from a set of service endpoints and never mutated;
// lookups are const and safe from any number of threads. The agent publishes
// new snapshots by atomic shared_ptr swap, so a lookup never waits for a
// rebuild. No I/O here.
//
// Hashing scheme (every agent must agree on it bit for bit; ring.cc walks
// through it with a worked example):
//   key hash        = XXH3_64bits(key bytes), seed 0
//   point i of node = XXH3_64bits(node + "#" + decimal(i)), seed 0,
//                     i = 0 .. points_per_node-1, e.g. "10.0.0.7:8000#17"
//   points sorted by (hash, node name); owner = node of the first point with
//   hash >= key hash, wrapping to the first point.
//   checksum        = XXH3_64bits of "ringd-ring-v1\n" "ppn=<P>\n" then
//                     "<len>:<node>\n" for each node in sorted order, printed
//                     as 16 lowercase hex digits.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ringd::ring {

struct Options {
  std::uint32_t points_per_node = 160;  // virtual nodes per endpoint; 0 acts as 1
};

// The key hash used for lookups (XXH3-64).
std::uint64_t hash_key(std::string_view key);

// The hash of virtual point `index` of `node`: XXH3-64 of node + '#' +
// decimal index. Public so tests (and other implementations) can check the
// ring against an independent model.
std::uint64_t hash_point(std::string_view node, std::uint32_t index);

class Ring {
 public:
  // Builds a ring from endpoints ("ip:port"); order and duplicates do not
  // matter: the same set always gives the same ring and checksum.
  static std::shared_ptr<const Ring> build(std::vector<std::string> nodes, Options options = {});

  // The endpoint owning `key`; nullptr when the ring is empty. The pointer
  // stays valid as long as this Ring does.
  const std::string* owner(std::string_view key) const;
  // Up to n distinct endpoints following the key clockwise (owner first).
  std::vector<const std::string*> owners(std::string_view key, std::size_t n) const;

  // owner() for an already computed key hash: the node of the first point
  // whose hash is >= `hash`, wrapping to the first point. nullptr when empty.
  // owner(key) == owner_of_hash(hash_key(key)).
  const std::string* owner_of_hash(std::uint64_t hash) const;

  const std::vector<std::string>& nodes() const;  // sorted, unique
  bool empty() const;
  std::size_t point_count() const;
  // 16 lowercase hex digits over the node set and options.
  const std::string& checksum() const;
  // The options actually used (points_per_node 0 is stored as 1).
  const Options& options() const { return options_; }

 private:
  Ring() = default;
  // Index into hashes_/point_node_ of the first point with hash >= `hash`,
  // wrapped to 0 past the end. Requires a non-empty ring.
  std::size_t first_point_at_or_after(std::uint64_t hash) const;

  std::vector<std::string> nodes_;  // sorted, unique
  // The points, sorted by (hash, node name), as two parallel arrays so the
  // binary search touches only the 8-byte hashes.
  std::vector<std::uint64_t> hashes_;
  std::vector<std::uint32_t> point_node_;  // index into nodes_
  Options options_;
  std::string checksum_;
};

}  // namespace ringd::ring
