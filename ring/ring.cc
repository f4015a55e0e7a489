// ring/ring.cc — building and querying consistent hash ring snapshots.
//
// How the default ring works, with a small worked example
// ---------------------------------------------------------
// The ring is the 64-bit hash space [0, 2^64) bent into a circle. Every
// endpoint ("ip:port") of weight w puts points_per_node * w virtual points
// on it; point i of endpoint N sits at XXH3_64bits_withSeed(N, seed = i). A
// key lands at XXH3_64bits(key) and belongs to the endpoint of the first
// point at or after it, going clockwise; a key past the last point wraps to
// the first point.
//
// Take points_per_node = 2, two endpoints, and pretend hashes are 8 bits so
// the numbers stay readable (the real ones are 64 bits):
//
//   "a:1" seed 0 -> 200    "a:1" seed 1 -> 40
//   "b:2" seed 0 -> 90     "b:2" seed 1 -> 200   (a collision with a:1's)
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
// vanishingly rare; the tie-break only has to be deterministic. Shares follow
// the same rule: a point owns the arc from the previous point (exclusive) to
// itself (inclusive); a:1 above owns 40 - 200 + 256 = 96 (wrapping) + 110
// (90..200] = 206 of 256, b:2 owns 50.
//
// owners(key, n) starts at the same point and keeps walking clockwise,
// skipping endpoints already taken, until it has n distinct endpoints or has
// gone once round: for key hash 41 and n = 2 it visits index 1 (b:2), then
// index 2 (a:1) -> [b:2, a:1]. That is the order to fail over in: if b:2
// leaves, exactly the keys it owned move, and each moves to the next distinct
// endpoint clockwise, which is owners(key, 2)[1] on the old ring.
//
// Weights: point i exists for i < points_per_node * weight, so raising a
// weight only adds points (keys move only to that endpoint) and lowering it
// only removes some.
//
// Why this is enough for "every host agrees": the ring is a pure function of
// (set of endpoints and weights, options). build() sorts and de-duplicates
// the endpoints first, so two agents with the same live set build identical
// point arrays, and the checksum lets them compare without shipping the ring.
//
// Lookup cost: one XXH3 of the key plus the line table of bucket_index.h
// (one 64-byte line read, rarely an exact scan of the bucket's points),
// instead of ~20 dependent probes of a binary search at 1,000 x 1,024
// points.
// nginx and ketama modes use the same sorted points and index with their own
// point and key hashes (32-bit, stored in the top half of the 64-bit
// position); Maglev replaces the points with its table.

#include "ring/ring.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>

#include "ring/hashes.h"
#include "ring/ketama.h"
#include "ring/nginx_compat.h"

// XXH3 inlined from the header: the same function libxxhash exports (and
// hashes.cc calls), without the call into the library, which costs more
// than hashing a short point name or a URL.
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace ringd::ring {

namespace {

std::uint64_t xxh3_inline(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

std::uint64_t xxh3_inline(std::string_view bytes, std::uint64_t seed) {
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), seed);
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
std::string checksum_input(const std::vector<std::string>& nodes, const std::vector<std::uint32_t>& weights,
                           const Options& options) {
  std::string in = "ringd-ring-v2\nmode=";
  in += to_string(options.mode);
  in += '\n';
  if (options.mode == Mode::kDefault) {
    in += "ppn=";
    append_decimal(in, options.points_per_node);
    in += '\n';
  } else if (options.mode == Mode::kMaglev) {
    in += "table=";
    append_decimal(in, options.maglev_table_size);
    in += '\n';
  } else if (options.mode == Mode::kMultiProbe) {
    in += "probes=";
    append_decimal(in, options.probes);
    in += '\n';
  }
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    append_decimal(in, nodes[i].size());
    in += ':';
    in += nodes[i];
    in += '*';
    append_decimal(in, weights[i]);
    in += '\n';
  }
  return in;
}

// Points 0 .. count-1 of a default-mode node, into a PointList or straight
// into a PointIndex::Builder.
template <typename Sink>
void add_default_points(std::string_view name, std::uint64_t count, std::uint32_t node, Sink& out) {
  for (std::uint64_t i = 0; i < count; ++i) out.add(xxh3_inline(name, i), node);
}

}  // namespace

std::uint64_t hash_key(std::string_view key) { return xxh3_inline(key); }

std::uint64_t hash_point(std::string_view node, std::uint32_t index) { return xxh3_inline(node, index); }

std::shared_ptr<const Ring> Ring::build(std::vector<std::string> nodes, Options options) {
  std::vector<WeightedNode> weighted;
  weighted.reserve(nodes.size());
  for (std::string& n : nodes) weighted.push_back(WeightedNode{std::move(n), 1});
  return build_weighted(std::move(weighted), options);
}

// The point budget (kMaxRingPoints, ring.h). Only two schemes can exceed
// it: the default one (points_per_node per weight unit) lowers its points
// per weight unit to fit, and nginx's (160 per weight unit) scales every
// weight down, keeping at least 1. Ketama's continuum has at most 160
// points per node whatever the weights, and Maglev's table has its own
// size. Both sides of the change are in the checksum (ppn, weights), and
// every agent computes them from the same set, so all still agree.
namespace {
void fit_point_budget(std::vector<std::uint32_t>& weights, Options& options) {
  std::uint64_t total = 0;
  for (std::uint32_t w : weights) total += w;
  if (total == 0) return;
  if (options.mode == Mode::kDefault) {
    const std::uint64_t fit = std::max<std::uint64_t>(1, kMaxRingPoints / total);
    options.points_per_node = static_cast<std::uint32_t>(std::min<std::uint64_t>(options.points_per_node, fit));
  } else if (options.mode == Mode::kNginx && total * kNginxPointsPerWeight > kMaxRingPoints) {
    const std::uint64_t budget = kMaxRingPoints / kNginxPointsPerWeight;  // weight units
    for (std::uint32_t& w : weights) w = static_cast<std::uint32_t>(std::max<std::uint64_t>(1, w * budget / total));
  }
}
}  // namespace

std::shared_ptr<Ring> Ring::prepare(std::vector<WeightedNode> nodes, Options options) {
  // Ring() is private, so make_shared cannot reach it.
  std::shared_ptr<Ring> ring(new Ring());
  if (options.points_per_node == 0) options.points_per_node = 1;

  // Canonical node set: sorted, unique, a duplicate keeping its largest
  // weight. From here on a node's index is its rank in name order, so
  // comparing indexes compares names.
  std::sort(nodes.begin(), nodes.end(), [](const WeightedNode& a, const WeightedNode& b) {
    return a.endpoint != b.endpoint ? a.endpoint < b.endpoint : a.weight > b.weight;
  });
  nodes.erase(std::unique(nodes.begin(), nodes.end(),
                          [](const WeightedNode& a, const WeightedNode& b) { return a.endpoint == b.endpoint; }),
              nodes.end());
  ring->nodes_.reserve(nodes.size());
  ring->weights_.reserve(nodes.size());
  for (WeightedNode& n : nodes) {
    ring->nodes_.push_back(std::move(n.endpoint));
    ring->weights_.push_back(std::clamp<std::uint32_t>(n.weight, 1, kMaxWeight));
  }
  fit_point_budget(ring->weights_, options);
  if (options.mode == Mode::kMaglev) {
    options.maglev_table_size = maglev_table_size(options.maglev_table_size, ring->nodes_.size());
  }
  options.probes = std::clamp<std::uint32_t>(options.probes, 1, kMaxMultiProbeProbes);
  ring->options_ = options;
  ring->position_shift_ = options.mode == Mode::kNginx || options.mode == Mode::kKetama ? 32 : 0;
  return ring;
}

void Ring::finish() {
  checksum_ = to_hex16(xxh3_64(checksum_input(nodes_, weights_, options_)));
}

std::shared_ptr<const Ring> Ring::build_weighted(std::vector<WeightedNode> nodes, Options options) {
  auto ring = prepare(std::move(nodes), options);
  ring->build_lookup();
  ring->finish();
  return ring;
}

void Ring::build_lookup() {
  switch (options_.mode) {
    case Mode::kMaglev:
      build_maglev();
      break;
    case Mode::kMultiProbe:
      multiprobe_ = MultiProbeRing(nodes_, weights_, options_.probes);
      break;
    default:
      build_points();
  }
}

std::shared_ptr<const Ring> Ring::build_weighted_from(const Ring& previous, std::vector<WeightedNode> nodes,
                                                      Options options) {
  auto ring = prepare(std::move(nodes), options);
  const Options& o = ring->options_;
  const Options& p = previous.options_;
  const bool reusable = (o.mode == Mode::kDefault || o.mode == Mode::kNginx) && o.mode == p.mode &&
                        (o.mode != Mode::kDefault || o.points_per_node == p.points_per_node);
  if (!reusable) {  // Maglev and multiprobe build from scratch (multiprobe: ~2 ms at 10,000 endpoints)
    ring->build_lookup();
    ring->finish();
    return ring;
  }

  // Old node index -> new index, or dropped (gone, or its weight changed:
  // then all its points are regenerated as an added node's).
  std::vector<std::uint32_t> remap(previous.nodes_.size(), PointIndex::kDropped);
  std::vector<bool> kept(ring->nodes_.size(), false);
  for (std::size_t i = 0, j = 0; i < previous.nodes_.size() && j < ring->nodes_.size();) {
    const int c = previous.nodes_[i].compare(ring->nodes_[j]);
    if (c < 0) {
      ++i;
    } else if (c > 0) {
      ++j;
    } else {
      if (previous.weights_[i] == ring->weights_[j]) {
        remap[i] = static_cast<std::uint32_t>(j);
        kept[j] = true;
      }
      ++i;
      ++j;
    }
  }
  PointList added;
  for (std::uint32_t n = 0; n < ring->nodes_.size(); ++n) {
    if (!kept[n]) ring->add_points(n, added);
  }
  if (added.hashes.size() * 8 > previous.points_.size() + added.hashes.size()) {
    ring->build_points();  // mostly new: a full build is cheaper
  } else {
    PointList removed;
    for (std::uint32_t n = 0; n < previous.nodes_.size(); ++n) {
      if (remap[n] == PointIndex::kDropped) previous.add_points(n, removed);
    }
    ring->points_ = previous.points_.merged(remap, added, removed);
  }
  ring->finish();
  return ring;
}

void Ring::add_points(std::uint32_t n, PointList& out) const {
  const std::string& name = nodes_[n];
  switch (options_.mode) {
    case Mode::kDefault:
      add_default_points(name, std::uint64_t{options_.points_per_node} * weights_[n], n, out);
      break;
    case Mode::kNginx:
      add_nginx_points(name, weights_[n], n, out);
      break;
    case Mode::kKetama: {
      std::uint64_t total_weight = 0;
      for (std::uint32_t w : weights_) total_weight += w;
      add_ketama_points(name, weights_[n], nodes_.size(), total_weight, n, out);
      break;
    }
    case Mode::kMaglev:
    case Mode::kMultiProbe:
      break;
  }
}

void Ring::build_points() {
  std::uint64_t total_weight = 0;
  for (std::uint32_t w : weights_) total_weight += w;
  const std::uint64_t per_weight = options_.mode == Mode::kDefault ? options_.points_per_node
                                   : options_.mode == Mode::kNginx ? kNginxPointsPerWeight
                                                                   : 4 * kKetamaGroupsPerServer;
  const std::uint64_t expected = per_weight * total_weight;
  if (expected > (std::uint64_t{1} << 31)) throw std::length_error("ring: more than 2^31 points");

  if (options_.mode == Mode::kDefault) {
    // The bulk of the work at 1,000 nodes: points go straight to the sort.
    PointIndex::Builder builder(expected, nodes_.empty() ? 0 : static_cast<std::uint32_t>(nodes_.size() - 1));
    for (std::uint32_t n = 0; n < nodes_.size(); ++n) {
      add_default_points(nodes_[n], per_weight * weights_[n], n, builder);
    }
    points_ = builder.finish();
    return;
  }
  PointList points;
  points.reserve(expected);
  if (options_.mode == Mode::kKetama) {
    // Every server's group count depends on the totals: compute them once.
    for (std::uint32_t n = 0; n < nodes_.size(); ++n) {
      add_ketama_points(nodes_[n], weights_[n], nodes_.size(), total_weight, n, points);
    }
  } else {
    for (std::uint32_t n = 0; n < nodes_.size(); ++n) add_points(n, points);
  }
  points_ = PointIndex::build(points);
}

void Ring::build_maglev() { table_ = build_maglev_table(nodes_, weights_, options_.maglev_table_size); }

const std::vector<double>& Ring::shares() const {
  std::call_once(shares_once_, [this] { compute_shares(); });
  return shares_;
}

void Ring::compute_shares() const {
  shares_.assign(nodes_.size(), 0.0);
  if (nodes_.empty()) return;
  if (options_.mode == Mode::kMultiProbe) {
    shares_ = multiprobe_.shares(nodes_.size());
    return;
  }
  if (options_.mode == Mode::kMaglev) {
    for (std::uint32_t node : table_) shares_[node] += 1.0;
    for (double& s : shares_) s /= static_cast<double>(table_.size());
    return;
  }
  // Point i owns (hash[i-1], hash[i]]; point 0 also the wrap past the last.
  // Arcs are summed exactly, as 128-bit integers (two words with a carry):
  // the arcs of a sorted ring add up to exactly 2^64, so a share is the
  // node's sum / 2^64, unless every point sits at one hash (all arcs 0:
  // point 0 owns everything).
  const std::size_t n = points_.size();
  std::vector<std::uint64_t> low(nodes_.size(), 0), high(nodes_.size(), 0);
  std::uint64_t previous = points_.hash(n - 1);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t hash = points_.hash(i);
    const std::uint64_t arc = hash - previous;
    const std::uint32_t node = points_.node(i);
    low[node] += arc;
    high[node] += low[node] < arc ? 1 : 0;
    previous = hash;
  }
  if (points_.hash(0) == points_.hash(n - 1)) {
    shares_[points_.node(0)] = 1.0;
    return;
  }
  for (std::size_t k = 0; k < nodes_.size(); ++k) {
    shares_[k] = static_cast<double>(high[k]) + static_cast<double>(low[k]) * 0x1p-64;
  }
}

std::uint64_t Ring::key_hash(std::string_view key) const {
  switch (options_.mode) {
    case Mode::kNginx:
      return nginx_key_hash(key);
    case Mode::kKetama:
      return ketama_key_hash(key);
    default:
      return xxh3_inline(key);
  }
}

const std::string* Ring::owner_of_hash(std::uint64_t hash) const {
  if (nodes_.empty()) return nullptr;
  if (options_.mode == Mode::kMaglev) return &nodes_[table_[maglev_slot(hash, options_.maglev_table_size)]];
  if (options_.mode == Mode::kMultiProbe) return &nodes_[multiprobe_.owner(hash)];
  return &nodes_[points_.owner(position(hash))];
}

const std::string* Ring::owner_of_hash_binary_search(std::uint64_t hash) const {
  if (nodes_.empty()) return nullptr;
  if (options_.mode == Mode::kMaglev) return owner_of_hash(hash);
  if (options_.mode == Mode::kMultiProbe) return &nodes_[multiprobe_.owner_binary_search(hash)];
  return &nodes_[points_.node(points_.find_binary(position(hash)))];
}

const std::string* Ring::owner(std::string_view key) const { return owner_of_hash(key_hash(key)); }

std::vector<const std::string*> Ring::owners(std::string_view key, std::size_t n) const {
  std::vector<const std::string*> out;
  if (nodes_.empty() || n == 0) return out;
  n = std::min(n, nodes_.size());
  out.reserve(n);

  // For the usual small n a linear scan of `out` beats a bitmap.
  constexpr std::size_t kLinearLimit = 8;
  std::vector<bool> seen;
  if (n > kLinearLimit) seen.assign(nodes_.size(), false);
  auto visit = [&](std::uint32_t node) {
    const std::string* name = &nodes_[node];
    bool taken;
    if (n > kLinearLimit) {
      taken = seen[node];
      seen[node] = true;
    } else {
      taken = std::find(out.begin(), out.end(), name) != out.end();
    }
    if (!taken) out.push_back(name);
  };

  const std::uint64_t hash = key_hash(key);
  if (options_.mode == Mode::kMultiProbe) {
    for (std::uint32_t node : multiprobe_.owners(hash, n, nodes_.size())) out.push_back(&nodes_[node]);
    return out;
  }
  if (options_.mode == Mode::kMaglev) {
    const std::size_t total = table_.size();
    std::size_t slot = maglev_slot(hash, options_.maglev_table_size);
    for (std::size_t step = 0; step < total && out.size() < n; ++step) {
      visit(table_[slot]);
      if (++slot == total) slot = 0;
    }
    return out;
  }
  const std::size_t total = points_.size();
  std::size_t index = points_.find(position(hash));
  for (std::size_t step = 0; step < total && out.size() < n; ++step) {
    visit(points_.node(index));
    if (++index == total) index = 0;
  }
  return out;
}

const std::vector<std::string>& Ring::nodes() const { return nodes_; }

bool Ring::empty() const { return nodes_.empty(); }

std::size_t Ring::point_count() const {
  switch (options_.mode) {
    case Mode::kMaglev:
      return table_.size();
    case Mode::kMultiProbe:
      return multiprobe_.point_count();
    default:
      return points_.size();
  }
}

const std::string& Ring::checksum() const { return checksum_; }

std::size_t Ring::memory_bytes() const {
  switch (options_.mode) {
    case Mode::kMaglev:
      return table_.size() * sizeof(std::uint32_t);
    case Mode::kMultiProbe:
      return multiprobe_.memory_bytes();
    default:
      return points_.memory_bytes();
  }
}

}  // namespace ringd::ring
