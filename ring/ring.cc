// ring/ring.cc — building and querying consistent hash ring snapshots.
//
// How the ring works, with a small worked example
// ------------------------------------------------
// The ring is the 64-bit hash space [0, 2^64) bent into a circle. Every
// endpoint ("ip:port") puts points_per_node virtual points on it; point i of
// endpoint N sits at XXH3_64bits(N + "#" + decimal(i)). A key lands at
// XXH3_64bits(key) and belongs to the endpoint of the first point at or after
// it, going clockwise; a key past the last point wraps to the first point.
//
// Take points_per_node = 2, two endpoints, and pretend hashes are 8 bits so
// the numbers stay readable (the real ones are 64 bits):
//
//   "a:1#0" -> 200    "a:1#1" -> 40
//   "b:2#0" -> 90     "b:2#1" -> 200   (a collision with "a:1#0")
//
// build() sorts the points by (hash, endpoint name), so a collision is broken
// by name, the same way on every host, whatever order the endpoints came in:
//
//   index:   0       1       2       3
//   hash:    40      90      200     200
//   node:    a:1     b:2     a:1     b:2
//
//   key hash 10  -> first point >= 10 is index 0 (40)   -> a:1
//   key hash 40  -> index 0 (equal counts as "at")      -> a:1
//   key hash 41  -> index 1 (90)                        -> b:2
//   key hash 200 -> index 2 (a:1 wins the tie by name)  -> a:1
//   key hash 201 -> past the last point, wrap to 0      -> a:1
//
// So b:2's point at 200 owns nothing: tied points stay on the ring but only
// the first in name order takes keys. With 64-bit hashes collisions are
// vanishingly rare; the tie-break only has to be deterministic.
//
// owners(key, n) starts at the same point and keeps walking clockwise,
// skipping endpoints already taken, until it has n distinct endpoints or has
// gone once round: for key hash 41 and n = 2 it visits index 1 (b:2), then
// index 2 (a:1) -> [b:2, a:1]. That is the order to fail over in: if b:2
// leaves, exactly the keys it owned move, and each moves to the next distinct
// endpoint clockwise, which is owners(key, 2)[1] on the old ring.
//
// Why this is enough for "every host agrees": the ring is a pure function of
// (set of endpoints, points_per_node). build() sorts and de-duplicates the
// endpoints first, so two agents with the same live set build identical point
// arrays, and the checksum (XXH3 over the sorted set and points_per_node) lets
// them compare without shipping the ring.
//
// Lookup cost: one XXH3 of the key plus a branch-free binary search over a
// dense array of 64-bit point hashes (the endpoint indexes live in a parallel
// array, so the search touches 8 bytes per probe instead of 16). At 160
// points x 1,000 endpoints that is ~18 probes over 1.25 MB.

#include "ring/ring.h"

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace ringd::ring {

namespace {

std::uint64_t xxh3(std::string_view bytes) {
  return XXH3_64bits(bytes.data(), bytes.size());
}

// Appends the decimal form of `value` to `out`.
void append_decimal(std::string& out, std::uint64_t value) {
  std::array<char, 24> buf;
  auto result = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  out.append(buf.data(), result.ptr);
}

std::string to_hex16(std::uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kDigits[value & 0xf];
    value >>= 4;
  }
  return out;
}

// The canonical byte string the checksum hashes. The length prefix keeps the
// encoding unambiguous whatever bytes an endpoint name holds; the version tag
// lets a future scheme change never collide with this one.
std::string checksum_input(const std::vector<std::string>& sorted_nodes, std::uint32_t points_per_node) {
  std::string in = "ringd-ring-v1\nppn=";
  append_decimal(in, points_per_node);
  in += '\n';
  for (const std::string& node : sorted_nodes) {
    append_decimal(in, node.size());
    in += ':';
    in += node;
    in += '\n';
  }
  return in;
}

}  // namespace

std::uint64_t hash_key(std::string_view key) { return xxh3(key); }

std::uint64_t hash_point(std::string_view node, std::uint32_t index) {
  std::string buf;
  buf.reserve(node.size() + 12);
  buf.append(node);
  buf += '#';
  append_decimal(buf, index);
  return xxh3(buf);
}

std::shared_ptr<const Ring> Ring::build(std::vector<std::string> nodes, Options options) {
  // Ring() is private, so make_shared cannot reach it.
  std::shared_ptr<Ring> ring(new Ring());
  ring->options_ = options;
  if (ring->options_.points_per_node == 0) ring->options_.points_per_node = 1;
  const std::uint32_t ppn = ring->options_.points_per_node;

  // Canonical node set: sorted, unique. From here on a node's index is its
  // rank in name order, so comparing indexes compares names.
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  ring->nodes_ = std::move(nodes);

  struct Point {
    std::uint64_t hash;
    std::uint32_t node;
  };
  std::vector<Point> points;
  points.reserve(ring->nodes_.size() * ppn);
  std::string buf;
  for (std::uint32_t n = 0; n < ring->nodes_.size(); ++n) {
    // Same bytes as hash_point(), without an allocation per point.
    const std::string& name = ring->nodes_[n];
    buf.assign(name);
    buf += '#';
    const std::size_t prefix = buf.size();
    for (std::uint32_t i = 0; i < ppn; ++i) {
      buf.resize(prefix);
      append_decimal(buf, i);
      points.push_back(Point{xxh3(buf), n});
    }
  }
  std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.node < b.node;
  });

  ring->hashes_.reserve(points.size());
  ring->point_node_.reserve(points.size());
  for (const Point& p : points) {
    ring->hashes_.push_back(p.hash);
    ring->point_node_.push_back(p.node);
  }

  ring->checksum_ = to_hex16(xxh3(checksum_input(ring->nodes_, ppn)));
  return ring;
}

std::size_t Ring::first_point_at_or_after(std::uint64_t hash) const {
  // Branch-free lower_bound: the answer always lies in [base, base + len];
  // each step halves len with a conditional move instead of a jump the CPU
  // would mispredict half the time.
  const std::uint64_t* base = hashes_.data();
  std::size_t len = hashes_.size();
  while (len > 1) {
    const std::size_t half = len / 2;
    base = (base[half - 1] < hash) ? base + half : base;
    len -= half;
  }
  std::size_t index = static_cast<std::size_t>(base - hashes_.data()) + (*base < hash ? 1 : 0);
  // Past the last point: wrap round to the first.
  return index == hashes_.size() ? 0 : index;
}

const std::string* Ring::owner_of_hash(std::uint64_t hash) const {
  if (hashes_.empty()) return nullptr;
  return &nodes_[point_node_[first_point_at_or_after(hash)]];
}

const std::string* Ring::owner(std::string_view key) const { return owner_of_hash(hash_key(key)); }

std::vector<const std::string*> Ring::owners(std::string_view key, std::size_t n) const {
  std::vector<const std::string*> out;
  if (hashes_.empty() || n == 0) return out;
  n = std::min(n, nodes_.size());
  out.reserve(n);

  // For the usual small n a linear scan of `out` beats a bitmap.
  constexpr std::size_t kLinearLimit = 8;
  std::vector<bool> seen;
  if (n > kLinearLimit) seen.assign(nodes_.size(), false);

  const std::size_t total = hashes_.size();
  std::size_t index = first_point_at_or_after(hash_key(key));
  for (std::size_t step = 0; step < total && out.size() < n; ++step) {
    const std::uint32_t node = point_node_[index];
    const std::string* name = &nodes_[node];
    bool taken;
    if (n > kLinearLimit) {
      taken = seen[node];
      seen[node] = true;
    } else {
      taken = std::find(out.begin(), out.end(), name) != out.end();
    }
    if (!taken) out.push_back(name);
    if (++index == total) index = 0;
  }
  return out;
}

const std::vector<std::string>& Ring::nodes() const { return nodes_; }

bool Ring::empty() const { return nodes_.empty(); }

std::size_t Ring::point_count() const { return hashes_.size(); }

const std::string& Ring::checksum() const { return checksum_; }

}  // namespace ringd::ring
