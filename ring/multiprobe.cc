// ring/multiprobe.cc — building and querying the multi-probe ring.
#include "ring/multiprobe.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>

#include "ring/ring.h"

namespace ringd::ring {

MultiProbeRing::MultiProbeRing(const std::vector<std::string>& nodes, const std::vector<std::uint32_t>& weights,
                               std::uint32_t probes)
    : probes_(std::clamp<std::uint32_t>(probes, 1, kMaxMultiProbeProbes)) {
  std::vector<std::pair<std::uint64_t, std::uint32_t>> points;
  std::size_t total = 0;
  for (std::uint32_t w : weights) total += w;
  points.reserve(total);
  for (std::uint32_t n = 0; n < nodes.size(); ++n) {
    for (std::uint32_t i = 0; i < weights[n]; ++i) points.emplace_back(hash_point(nodes[n], i), n);
  }
  // (position, node): a collision goes to the node first in name order.
  std::sort(points.begin(), points.end());
  points_ = points.size();
  pos_.resize(points_ + 1);
  node_.resize(points_ + 1);
  for (std::size_t i = 0; i < points_; ++i) {
    pos_[i] = points[i].first;
    node_[i] = points[i].second;
  }
  pos_[points_] = 0;  // below every probe but 0, which bucket 0 serves: see owner_of
  node_[points_] = points_ == 0 ? 0 : node_[0];

  // Two to four buckets per point: a probe mostly finds its point in the
  // bucket's first slot, or one further. At most 2^20 buckets (4 MB): past a
  // million points (heavy weights) a bucket holds a few more.
  constexpr unsigned kMaxBits = 20;
  static_assert(kMaxBits <= 32, "owner_of takes the bucket from the top 32 bits of x, which are q's");
  const unsigned bits = std::clamp<unsigned>(static_cast<unsigned>(std::bit_width(points_)) + 1, 1, kMaxBits);
  shift_ = 64 - bits;
  first_.resize(std::size_t{1} << bits);
  std::size_t j = 0;
  for (std::size_t t = 0; t < first_.size(); ++t) {
    const std::uint64_t edge = static_cast<std::uint64_t>(t) << shift_;
    while (j < points_ && pos_[j] < edge) ++j;
    first_[t] = static_cast<std::uint32_t>(j);
  }
}

std::uint32_t MultiProbeRing::owner_binary_search(std::uint64_t hash) const {
  std::uint64_t best = 0;
  std::uint32_t owner = 0;
  for (std::uint32_t i = 0; i < probes_; ++i) {
    const std::uint64_t q = probe_position(hash, i);
    const auto it = std::lower_bound(pos_.begin(), pos_.begin() + static_cast<std::ptrdiff_t>(points_), q);
    const std::size_t j = static_cast<std::size_t>(it - pos_.begin());
    const std::uint64_t d = distance(q, j);
    if (i == 0 || d < best) {
      best = d;
      owner = node_[j];
    }
  }
  return owner;
}

std::vector<std::uint32_t> MultiProbeRing::owners(std::uint64_t hash, std::size_t n, std::size_t node_count) const {
  std::vector<std::uint32_t> out;
  if (points_ == 0 || n == 0) return out;
  n = std::min(n, node_count);
  std::vector<bool> taken(node_count, false);
  // Each probe's current point (an index below points_, wrapping).
  std::vector<std::size_t> at(probes_);
  std::vector<std::uint64_t> q(probes_);
  for (std::uint32_t i = 0; i < probes_; ++i) {
    q[i] = probe_position(hash, i);
    at[i] = successor(q[i]) % points_;
  }
  while (out.size() < n) {
    std::uint64_t best = 0;
    std::uint32_t winner = 0;
    bool found = false;
    for (std::uint32_t i = 0; i < probes_; ++i) {
      // Walk past the points of endpoints already chosen; at most once round.
      for (std::size_t step = 0; taken[node_[at[i]]] && step < points_; ++step) at[i] = (at[i] + 1) % points_;
      if (taken[node_[at[i]]]) continue;
      const std::uint64_t d = pos_[at[i]] - q[i];
      if (!found || d < best) {
        best = d;
        winner = node_[at[i]];
        found = true;
      }
    }
    if (!found) break;
    taken[winner] = true;
    out.push_back(winner);
  }
  return out;
}

std::vector<double> MultiProbeRing::shares(std::size_t node_count) const {
  std::vector<double> out(node_count, 0.0);
  if (points_ == 0) return out;
  // Arcs as fractions of the circle: point j takes the probes landing in
  // (pos[j-1], pos[j]] (point 0 also the wrap past the last point).
  std::vector<double> arc(points_);
  for (std::size_t j = 0; j < points_; ++j) {
    const std::uint64_t prev = pos_[j == 0 ? points_ - 1 : j - 1];
    arc[j] = static_cast<double>(pos_[j] - prev) * 0x1p-64;
  }
  if (pos_[0] == pos_[points_ - 1]) {  // every point at one hash: point 0 takes all
    out[node_[0]] = 1.0;
    return out;
  }
  std::vector<std::size_t> order(points_);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return arc[a] < arc[b]; });
  // Between consecutive arc lengths lo..hi, F(x) = below + x * above, where
  // `below` sums the arcs shorter than lo and `above` counts the rest; so
  // integral (1 - F)^(k-1) = [-(1 - below - above x)^k / (k above)].
  const double k = static_cast<double>(probes_);
  double integral = 0.0, below = 0.0, lo = 0.0;
  for (std::size_t m = 0; m < points_; ++m) {
    const double hi = arc[order[m]];
    const double above = static_cast<double>(points_ - m);
    const auto primitive = [&](double x) { return -std::pow(std::max(0.0, 1.0 - below - above * x), k) / (k * above); };
    integral += primitive(hi) - primitive(lo);
    out[node_[order[m]]] += k * integral;
    below += hi;
    lo = hi;
  }
  return out;
}

std::size_t MultiProbeRing::memory_bytes() const {
  return pos_.capacity() * sizeof(std::uint64_t) + node_.capacity() * sizeof(std::uint32_t) +
         first_.capacity() * sizeof(std::uint32_t);
}

}  // namespace ringd::ring
