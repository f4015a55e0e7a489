// ring/maglev.h — the Maglev lookup table (Eisenbud et al., "Maglev: A Fast
// and Reliable Software Network Load Balancer", NSDI 2016, section 3.4).
//
// Every node gets a permutation of the M table slots from two hashes of its
// name: offset = h1 mod M, skip = h2 mod (M - 1) + 1, slot j = (offset + j *
// skip) mod M (M prime, so every skip walks all M slots). Nodes then take
// turns claiming their next preferred slot that is still free until the table
// is full. A key goes to table[slot(hash(key))].
//
// Worked example, M = 7, two nodes, equal weight:
//   a: offset 3, skip 4 -> prefers 3 0 4 1 5 2 6
//   b: offset 0, skip 2 -> prefers 0 2 4 6 1 3 5
//   turn 1: a takes 3, b takes 0;  turn 2: a takes 4 (0 is b's), b takes 2;
//   turn 3: a takes 1, b takes 6;  turn 4: a takes 5 -> full.
//   table = [b a b a a a b]: a holds 4 slots, b 3.
//
// Weights (our extension; the paper gives none): in turn r a node may hold up
// to floor(r * weight / max_weight) slots, so the heaviest node claims one
// slot per turn and a node of half its weight one every other turn. With
// equal weights this is the paper's round robin. Slot counts then follow the
// weights to within a slot or two.
//
// Compared with the ring: balance is near perfect (every node holds
// floor(M/N) or ceil(M/N) slots at equal weights), lookup is one table read,
// but a change moves more keys than necessary: when a node leaves, the others
// re-run their turns and, once a turn order differs, some slots change hands
// between nodes that stayed (the paper accepts this). bench/ring_quality
// measures it: on one join or leave about 0.5% of all keys move between
// surviving nodes, on top of the 1/N that must move: 1.5x the ideal at
// N = 100 (M = 65537) and about 6x at N = 1000 (M = 131101); removing 10% of
// the nodes moves 1.1x / 1.3x the ideal. The ring moves only the keys of the
// node that left or joined (1.0x on average; a single node's share varies
// by about 1/sqrt(points)).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ringd::ring {

inline constexpr std::uint32_t kDefaultMaglevTableSize = 65537;

bool is_prime(std::uint64_t n);

// The table size actually used for `node_count` nodes: `configured` (a prime)
// while it gives every node at least 100 slots (the paper's M > 100 N; with
// fewer, a change moves several times the ideal number of keys), else the
// smallest prime at or above configured * 2^k that does. Growing happens in doublings, so the
// size (and with it every slot) changes only when the node count crosses a
// doubling, not on every change. Throws std::invalid_argument if `configured`
// is not a prime above 2.
std::uint32_t maglev_table_size(std::uint32_t configured, std::size_t node_count);

// Slot -> node index, for nodes already in canonical (sorted) order. `weights`
// parallel to `nodes`, each >= 1. Empty when there are no nodes.
std::vector<std::uint32_t> build_maglev_table(const std::vector<std::string>& nodes,
                                              const std::vector<std::uint32_t>& weights, std::uint32_t table_size);

// The slot of a 64-bit key hash: floor(hash * M / 2^64), which is uniform
// like hash mod M but costs a multiply instead of a division.
__extension__ using MaglevUint128 = unsigned __int128;
inline std::uint32_t maglev_slot(std::uint64_t hash, std::uint32_t table_size) {
  return static_cast<std::uint32_t>((static_cast<MaglevUint128>(hash) * table_size) >> 64);
}

}  // namespace ringd::ring
