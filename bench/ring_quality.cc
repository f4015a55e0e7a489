// bench/ring_quality.cc — balance and movement of every ring mode, printed
// as Markdown (bench/ring_run.sh puts it into bench/RESULTS.md).
//
// Balance: each node's exact share of the key-hash space (Ring::shares()),
// as peak/mean and standard deviation/mean, for N = 10, 100, 1000. One
// fixed node set ("10.0.x.y:8000") and, because a ring's imbalance depends on
// where its points happen to fall, the average and worst over 10 node sets.
//
// Movement: keys whose owner changes when one node is added, one removed, or
// 10% removed, divided by the ideal fraction (changed nodes / larger node
// count: what a perfectly balanced scheme must move). Averaged over trials
// with different nodes changed, over 1,000,000 keys; "other" is the share
// of keys that moved between nodes that stayed (zero for a ring).
//
//   build/bench/ring_quality            # full run
//   build/bench/ring_quality --quick    # fewer keys and trials
#include "ring/ring.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace {

using ringd::ring::Mode;
using ringd::ring::Options;
using ringd::ring::Ring;

constexpr Mode kModes[] = {Mode::kDefault, Mode::kMaglev, Mode::kNginx, Mode::kKetama};

std::vector<std::string> make_nodes(int count, int set) {
  std::vector<std::string> nodes;
  for (int i = 0; i < count; ++i) {
    nodes.push_back("10." + std::to_string(set) + "." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) +
                    ":8000");
  }
  return nodes;
}

struct Balance {
  double peak = 0;    // max share / mean share
  double stddev = 0;  // stddev of shares / mean share
};

Balance balance(const Ring& ring) {
  const auto& s = ring.shares();
  const double mean = 1.0 / static_cast<double>(s.size());
  double var = 0;
  for (double x : s) var += (x - mean) * (x - mean);
  var /= static_cast<double>(s.size());
  return {*std::max_element(s.begin(), s.end()) / mean, std::sqrt(var) / mean};
}

void print_balance(int sets) {
  std::printf("### Balance (share of the key space; peak/mean and stddev/mean)\n\n");
  std::printf("| mode | N | points/slots | peak/mean | stddev/mean | peak/mean, avg of %d sets | worst of %d sets |\n",
              sets, sets);
  std::printf("|---|---|---|---|---|---|---|\n");
  for (Mode mode : kModes) {
    for (int n : {10, 100, 1000}) {
      Balance first;
      double sum = 0, worst = 0;
      std::size_t points = 0;
      for (int set = 0; set < sets; ++set) {
        auto ring = Ring::build(make_nodes(n, set), Options{.mode = mode});
        const Balance b = balance(*ring);
        if (set == 0) {
          first = b;
          points = ring->point_count();
        }
        sum += b.peak;
        worst = std::max(worst, b.peak);
      }
      std::printf("| %s | %d | %zu | %.3f | %.3f | %.3f | %.3f |\n", std::string(to_string(mode)).c_str(), n, points,
                  first.peak, first.stddev, sum / sets, worst);
    }
  }
  std::printf("\n");
}

// Fraction of keys whose owner differs, and of those moved between nodes
// present in both rings.
struct Moved {
  double total = 0;
  double other = 0;
};

Moved moved(const Ring& a, const Ring& b, const std::vector<std::uint64_t>& hashes) {
  std::size_t changed = 0, other = 0;
  for (std::uint64_t h : hashes) {
    const std::string* x = a.owner_of_hash(h);
    const std::string* y = b.owner_of_hash(h);
    if (*x == *y) continue;
    ++changed;
    // Collateral: the old owner is still in the new ring and the new owner was in the old.
    if (std::binary_search(b.nodes().begin(), b.nodes().end(), *x) &&
        std::binary_search(a.nodes().begin(), a.nodes().end(), *y)) {
      ++other;
    }
  }
  const double n = static_cast<double>(hashes.size());
  return {static_cast<double>(changed) / n, static_cast<double>(other) / n};
}

void print_movement(std::size_t key_count, int trials) {
  std::printf("### Movement (keys moved / ideal; %zu keys, mean and worst of %d trials)\n\n", key_count, trials);
  std::printf("| mode | N | add 1 | remove 1 | remove 10%% | worst | other keys moved (remove 1) |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  std::vector<std::string> keys;
  keys.reserve(key_count);
  for (std::size_t i = 0; i < key_count; ++i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "/documents/%016llx/content.html",
                  static_cast<unsigned long long>(i) * 0x9e3779b97f4a7c15ULL);
    keys.emplace_back(buf);
  }
  for (Mode mode : kModes) {
    const Options options{.mode = mode};
    // Key hashes depend only on the mode: compute them once.
    std::vector<std::uint64_t> hashes;
    hashes.reserve(keys.size());
    {
      auto probe = Ring::build({"x:1"}, options);
      for (const auto& k : keys) hashes.push_back(probe->key_hash(k));
    }
    for (int n : {100, 1000}) {
      const auto nodes = make_nodes(n, 0);
      auto base = Ring::build(nodes, options);
      std::mt19937 rng(static_cast<unsigned>(n));
      double add = 0, remove = 0, remove10 = 0, worst = 0, other = 0;
      for (int t = 0; t < trials; ++t) {
        auto grown = nodes;
        grown.push_back("10.200." + std::to_string(t) + ".1:8000");
        const double a = moved(*base, *Ring::build(grown, options), hashes).total * (n + 1);

        auto shrunk = nodes;
        shrunk.erase(shrunk.begin() + static_cast<long>(rng() % shrunk.size()));
        const Moved r1 = moved(*base, *Ring::build(shrunk, options), hashes);
        const double r = r1.total * n;

        auto tenth = nodes;
        std::shuffle(tenth.begin(), tenth.end(), rng);
        tenth.resize(tenth.size() - tenth.size() / 10);
        const double r10 = moved(*base, *Ring::build(tenth, options), hashes).total / 0.1;

        add += a;
        remove += r;
        remove10 += r10;
        other += r1.other;
        worst = std::max({worst, a, r, r10});
      }
      std::printf("| %s | %d | %.3f | %.3f | %.3f | %.3f | %.2f%% |\n", std::string(to_string(mode)).c_str(), n,
                  add / trials, remove / trials, remove10 / trials, worst, 100.0 * other / trials);
    }
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  print_balance(quick ? 3 : 10);
  print_movement(quick ? 200000 : 1000000, quick ? 3 : 10);
  return 0;
}
