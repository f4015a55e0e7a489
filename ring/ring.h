// ring/ring.h — immutable consistent hash ring snapshots (public contract).
//
// A Ring is built once from a set of service endpoints and never mutated;
// lookups are const and safe from any number of threads. The agent publishes
// new snapshots by atomic shared_ptr swap, so a lookup never waits for a
// rebuild. No I/O here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ringd::ring {

struct Options {
  std::uint32_t points_per_node = 160;  // virtual nodes per endpoint
};

// The key hash used for lookups (XXH3-64).
std::uint64_t hash_key(std::string_view key);

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

  const std::vector<std::string>& nodes() const;  // sorted, unique
  bool empty() const;
  std::size_t point_count() const;
  // 16 lowercase hex digits over the node set and options.
  const std::string& checksum() const;

 private:
  struct Point {
    std::uint64_t hash;
    std::uint32_t node;  // index into nodes_
  };
  Ring() = default;
  std::vector<std::string> nodes_;
  std::vector<Point> points_;  // sorted by (hash, node name)
  Options options_;
  std::string checksum_;
};

}  // namespace ringd::ring
