// bench/ring_bench.cc — ring lookup and build cost, all modes in one run.
//
//   BM_Lookup/N                default ring (bucket index): owner(key) for a
//                              40-byte URL, hashing included, N endpoints x
//                              1,024 points. Cycles through 4,096 distinct
//                              keys so the search path is not always cached.
//   BM_LookupBinarySearch/N    the same ring and keys, plain binary search
//                              over the same points.
//   BM_LookupManyKeys/1000, BM_LookupManyKeysBinarySearch/1000
//                              the same with 262,144 distinct keys, so the
//                              lines and points a lookup reads are rarely in
//                              L1/L2 (4,096 keys touch at most 256 KB of
//                              lines).
//   BM_LookupMaglev/N          Maglev table (65,537 slots).
//   BM_LookupMultiProbe/N      multi-probe ring (one point per endpoint,
//                              13 probes per key).
//   BM_LookupNginx/N, BM_LookupKetama/N   the compatibility modes (crc32 and
//                              md5 key hashes).
//   BM_HashKey                 XXH3-64 of the same URLs alone.
//   BM_Owners3/N               owners(key, 3), the failover list.
//   BM_Build/N, BM_BuildMaglev/N, BM_Build160/N
//                              Ring::build from scratch (default points, Maglev,
//                              and 160 points per node for comparison);
//                              counter "MB" = memory of the lookup structures.
//   BM_BuildMultiProbe/N, BM_UpdateMultiProbe/N   the same for multiprobe.
//   BM_Update/N                a join or leave as the agent rebuilds it
//                              (agent/ring_publisher: build_weighted_from the
//                              published ring), alternately adding and
//                              removing one endpoint: the rebuild the issue's
//                              "rebuild at N=1000" target is about when a
//                              ring already exists.
#include "ring/ring.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace {

using ringd::ring::Mode;
using ringd::ring::Options;
using ringd::ring::Ring;

std::vector<std::string> make_nodes(int count) {
  std::vector<std::string> nodes;
  nodes.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    nodes.push_back("10." + std::to_string(i / 65536) + "." + std::to_string((i / 256) % 256) + "." +
                    std::to_string(i % 256) + ":8000");
  }
  return nodes;
}

// `count` URLs of exactly 40 bytes: "/documents/" + 16 hex digits + "/content.html".
std::vector<std::string> make_urls(unsigned long long count) {
  std::vector<std::string> out;
  out.reserve(count);
  for (unsigned long long i = 0; i < count; ++i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "/documents/%016llx/content.html", i * 0x9e3779b97f4a7c15ULL);
    out.emplace_back(buf);
  }
  return out;
}

const std::vector<std::string>& urls() {
  static const std::vector<std::string> all = make_urls(4096);
  return all;
}

// Many keys stored back to back (read sequentially, as a server reads a
// request), so the figure is about the ring's memory, not the keys'.
constexpr std::size_t kManyKeys = std::size_t{1} << 18;
const std::vector<std::string_view>& many_urls() {
  static const std::string bytes = [] {
    std::string out;
    for (const std::string& url : make_urls(kManyKeys)) out += url;
    return out;
  }();
  static const std::vector<std::string_view> all = [] {
    std::vector<std::string_view> out;
    const std::size_t size = bytes.size() / kManyKeys;
    for (std::size_t i = 0; i < kManyKeys; ++i) out.push_back(std::string_view(bytes).substr(i * size, size));
    return out;
  }();
  return all;
}

void label(benchmark::State& state, const Ring& ring) {
  state.SetLabel(std::to_string(urls()[0].size()) + "-byte keys, " + std::to_string(ring.point_count()) +
                 (ring.mode() == Mode::kMaglev ? " slots" : " points") + ", " +
                 std::to_string(ring.memory_bytes() / 1000) + " kB");
}

void lookup(benchmark::State& state, Options options) {
  auto ring = Ring::build(make_nodes(static_cast<int>(state.range(0))), options);
  const auto& keys = urls();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ring->owner(keys[i]));
    i = (i + 1) & 4095;
  }
  label(state, *ring);
}

void BM_Lookup(benchmark::State& state) { lookup(state, Options{}); }
BENCHMARK(BM_Lookup)->Arg(10)->Arg(100)->Arg(1000)->Arg(5000)->Arg(10000);

void BM_LookupBinarySearch(benchmark::State& state) {
  auto ring = Ring::build(make_nodes(static_cast<int>(state.range(0))));
  const auto& keys = urls();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ring->owner_of_hash_binary_search(ring->key_hash(keys[i])));
    i = (i + 1) & 4095;
  }
  label(state, *ring);
}
BENCHMARK(BM_LookupBinarySearch)->Arg(10)->Arg(100)->Arg(1000)->Arg(5000);

void BM_LookupManyKeys(benchmark::State& state) {
  auto ring = Ring::build(make_nodes(static_cast<int>(state.range(0))));
  const auto& keys = many_urls();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ring->owner(keys[i]));
    i = (i + 1) & (kManyKeys - 1);
  }
  label(state, *ring);
}
BENCHMARK(BM_LookupManyKeys)->Arg(1000);

void BM_LookupManyKeysBinarySearch(benchmark::State& state) {
  auto ring = Ring::build(make_nodes(static_cast<int>(state.range(0))));
  const auto& keys = many_urls();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ring->owner_of_hash_binary_search(ring->key_hash(keys[i])));
    i = (i + 1) & (kManyKeys - 1);
  }
  label(state, *ring);
}
BENCHMARK(BM_LookupManyKeysBinarySearch)->Arg(1000);

void BM_LookupMaglev(benchmark::State& state) { lookup(state, Options{.mode = Mode::kMaglev}); }
BENCHMARK(BM_LookupMaglev)->Arg(10)->Arg(100)->Arg(1000)->Arg(5000)->Arg(10000);

void BM_LookupMultiProbe(benchmark::State& state) { lookup(state, Options{.mode = Mode::kMultiProbe}); }
BENCHMARK(BM_LookupMultiProbe)->Arg(10)->Arg(100)->Arg(1000)->Arg(5000)->Arg(10000);

void BM_LookupNginx(benchmark::State& state) { lookup(state, Options{.mode = Mode::kNginx}); }
BENCHMARK(BM_LookupNginx)->Arg(10)->Arg(1000);

void BM_LookupKetama(benchmark::State& state) { lookup(state, Options{.mode = Mode::kKetama}); }
BENCHMARK(BM_LookupKetama)->Arg(10)->Arg(1000);

void BM_HashKey(benchmark::State& state) {
  const auto& keys = urls();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ringd::ring::hash_key(keys[i]));
    i = (i + 1) & 4095;
  }
}
BENCHMARK(BM_HashKey);

void BM_Owners3(benchmark::State& state) {
  auto ring = Ring::build(make_nodes(static_cast<int>(state.range(0))));
  const auto& keys = urls();
  std::size_t i = 0;
  for (auto _ : state) {
    auto owners = ring->owners(keys[i], 3);
    benchmark::DoNotOptimize(owners.data());
    i = (i + 1) & 4095;
  }
}
BENCHMARK(BM_Owners3)->Arg(10)->Arg(1000);

void build(benchmark::State& state, Options options) {
  const auto nodes = make_nodes(static_cast<int>(state.range(0)));
  std::size_t bytes = 0, points = 0;
  for (auto _ : state) {
    auto ring = Ring::build(nodes, options);
    benchmark::DoNotOptimize(ring.get());
    bytes = ring->memory_bytes();
    points = ring->point_count();
  }
  state.counters["MB"] = static_cast<double>(bytes) / 1e6;
  state.counters["points"] = static_cast<double>(points);
}

void BM_Build(benchmark::State& state) { build(state, Options{}); }
BENCHMARK(BM_Build)->Arg(10)->Arg(100)->Arg(1000)->Arg(5000)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_Build160(benchmark::State& state) { build(state, Options{.points_per_node = 160}); }
BENCHMARK(BM_Build160)->Arg(100)->Arg(1000)->Arg(5000)->Unit(benchmark::kMillisecond);

// What the agent does on a join or leave: Ring::build_weighted_from the
// current ring, alternately adding and removing one endpoint.
void update(benchmark::State& state, Options options) {
  const auto nodes = make_nodes(static_cast<int>(state.range(0)));
  std::vector<ringd::ring::WeightedNode> base, grown;
  for (const auto& n : nodes) base.push_back({n, 1});
  grown = base;
  grown.push_back({"192.168.0.1:8000", 1});
  std::shared_ptr<const Ring> ring = Ring::build_weighted(base, options);
  bool add = true;
  for (auto _ : state) {
    ring = Ring::build_weighted_from(*ring, add ? grown : base, options);
    benchmark::DoNotOptimize(ring.get());
    add = !add;
  }
  state.SetLabel("join/leave of one endpoint: build_weighted_from the current ring, as the agent publishes");
}
void BM_Update(benchmark::State& state) { update(state, Options{}); }
BENCHMARK(BM_Update)->Arg(10)->Arg(100)->Arg(1000)->Arg(5000)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_UpdateMultiProbe(benchmark::State& state) { update(state, Options{.mode = Mode::kMultiProbe}); }
BENCHMARK(BM_UpdateMultiProbe)->Arg(10)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_BuildMultiProbe(benchmark::State& state) { build(state, Options{.mode = Mode::kMultiProbe}); }
BENCHMARK(BM_BuildMultiProbe)->Arg(10)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_BuildMaglev(benchmark::State& state) { build(state, Options{.mode = Mode::kMaglev}); }
BENCHMARK(BM_BuildMaglev)->Arg(10)->Arg(100)->Arg(1000)->Arg(5000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
