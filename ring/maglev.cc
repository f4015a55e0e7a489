#include "ring/maglev.h"

#include <algorithm>
#include <stdexcept>

#include "ring/hashes.h"

namespace ringd::ring {

namespace {

// Seeds of the two permutation hashes (arbitrary, fixed forever: part of the
// scheme every agent must share).
constexpr std::uint64_t kOffsetSeed = 0x6d61676c65763031ULL;  // "maglev01"
constexpr std::uint64_t kSkipSeed = 0x6d61676c65763032ULL;    // "maglev02"
constexpr std::uint32_t kEmpty = 0xffffffffu;
constexpr std::size_t kMinSlotsPerNode = 100;

}  // namespace

bool is_prime(std::uint64_t n) {
  if (n < 2) return false;
  if (n % 2 == 0) return n == 2;
  for (std::uint64_t d = 3; d * d <= n; d += 2) {
    if (n % d == 0) return false;
  }
  return true;
}

std::uint32_t maglev_table_size(std::uint32_t configured, std::size_t node_count) {
  if (configured <= 2 || !is_prime(configured)) {
    throw std::invalid_argument("maglev table size must be a prime above 2, got " + std::to_string(configured));
  }
  std::uint64_t base = configured;
  std::uint64_t size = configured;
  while (size < node_count * kMinSlotsPerNode) {
    base *= 2;
    size = base;
    while (!is_prime(size)) ++size;
  }
  if (size > 0x7fffffffULL) throw std::invalid_argument("maglev table would exceed 2^31 slots");
  return static_cast<std::uint32_t>(size);
}

std::vector<std::uint32_t> build_maglev_table(const std::vector<std::string>& nodes,
                                              const std::vector<std::uint32_t>& weights, std::uint32_t table_size) {
  std::vector<std::uint32_t> table;
  if (nodes.empty()) return table;
  const std::uint64_t m = table_size;
  const std::size_t n = nodes.size();

  // Each node walks its permutation: `position` is its next preferred slot.
  std::vector<std::uint64_t> position(n), skip(n), held(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    position[i] = xxh3_64(nodes[i], kOffsetSeed) % m;
    skip[i] = xxh3_64(nodes[i], kSkipSeed) % (m - 1) + 1;
  }
  const std::uint64_t max_weight = *std::max_element(weights.begin(), weights.end());

  table.assign(table_size, kEmpty);
  std::uint64_t filled = 0;
  for (std::uint64_t turn = 1; filled < m; ++turn) {
    for (std::size_t i = 0; i < n && filled < m; ++i) {
      const std::uint64_t allowed = turn * weights[i] / max_weight;
      while (held[i] < allowed && filled < m) {
        while (table[position[i]] != kEmpty) {
          position[i] += skip[i];
          if (position[i] >= m) position[i] -= m;
        }
        table[position[i]] = static_cast<std::uint32_t>(i);
        ++held[i];
        ++filled;
      }
    }
  }
  return table;
}

}  // namespace ringd::ring
