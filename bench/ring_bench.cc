// bench/ring_bench.cc — ring lookup and build cost.
//
//   BM_Lookup/N       owner(key) for a 40-byte URL, hashing included, on a
//                     ring of N endpoints x 160 points. Cycles through 4,096
//                     distinct keys so the search path is not always cached.
//   BM_HashKey        XXH3-64 of the same 40-byte URLs alone.
//   BM_Owners3/N      owners(key, 3), the failover list.
//   BM_Build/N        Ring::build for N endpoints x 160 points.
#include "ring/ring.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

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

// 4,096 URLs of exactly 40 bytes: "/documents/" + 16 hex digits + "/content.html".
std::vector<std::string> make_urls() {
  std::vector<std::string> urls;
  for (unsigned long long i = 0; i < 4096; ++i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "/documents/%016llx/content.html", i * 0x9e3779b97f4a7c15ULL);
    urls.emplace_back(buf);
  }
  return urls;
}

void BM_Lookup(benchmark::State& state) {
  auto ring = Ring::build(make_nodes(static_cast<int>(state.range(0))));
  const auto urls = make_urls();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ring->owner(urls[i]));
    i = (i + 1) & 4095;
  }
  state.SetLabel(std::to_string(urls[0].size()) + "-byte keys, " + std::to_string(ring->point_count()) + " points");
}
BENCHMARK(BM_Lookup)->Arg(10)->Arg(100)->Arg(1000);

void BM_HashKey(benchmark::State& state) {
  const auto urls = make_urls();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ringd::ring::hash_key(urls[i]));
    i = (i + 1) & 4095;
  }
}
BENCHMARK(BM_HashKey);

void BM_Owners3(benchmark::State& state) {
  auto ring = Ring::build(make_nodes(static_cast<int>(state.range(0))));
  const auto urls = make_urls();
  std::size_t i = 0;
  for (auto _ : state) {
    auto owners = ring->owners(urls[i], 3);
    benchmark::DoNotOptimize(owners.data());
    i = (i + 1) & 4095;
  }
}
BENCHMARK(BM_Owners3)->Arg(10)->Arg(1000);

void BM_Build(benchmark::State& state) {
  const auto nodes = make_nodes(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto ring = Ring::build(nodes);
    benchmark::DoNotOptimize(ring.get());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0) * 160);  // points per second
}
BENCHMARK(BM_Build)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
