// bench/resp_session_bench.cc — the user-space cost of one GET in the RESP
// server, without sockets: the agent's RingBackend over a published ring
// and a resp::Session, fed the bytes redis-benchmark sends
// (`-t get -r 100000`: "*2\r\n$3\r\nGET\r\n$16\r\nkey:000000012345\r\n"),
// 1 or 16 commands per read. Everything resp_bench.sh measures above the
// floor server that is not a system call happens here.
//
//   build/bench/resp_session_bench [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "agent/resp_shared.h"
#include "agent/ring_backend.h"
#include "agent/ring_publisher.h"

namespace {

using namespace ringd;

gossip::Member member(int i) {
  gossip::Member m;
  m.name = "node" + std::to_string(i);
  m.address = "127.0.0.1:7946";
  m.service = "10.0.0." + std::to_string(i + 1) + ":9001";
  m.state = gossip::MemberState::kAlive;
  return m;
}

// Reads of `per_read` GETs on random keys of redis-benchmark's shape.
std::vector<std::string> make_reads(int per_read) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> key(0, 99999);
  std::vector<std::string> reads(4096);
  for (auto& r : reads) {
    for (int i = 0; i < per_read; ++i) {
      char k[32];
      std::snprintf(k, sizeof(k), "key:%012d", key(rng));
      r += "*2\r\n$3\r\nGET\r\n$16\r\n";
      r += k;
      r += "\r\n";
    }
  }
  return reads;
}

// Arguments: ring nodes, commands per read. Time is per read (divide by
// the second argument for a GET).
void BM_SessionGet(benchmark::State& state) {
  const int nodes = static_cast<int>(state.range(0));
  const int per_read = static_cast<int>(state.range(1));
  agent::RingPublisher publisher(ring::Options{});
  std::vector<gossip::Member> members;
  for (int i = 0; i < nodes; ++i) members.push_back(member(i));
  publisher.rebuild(members);
  agent::RespServer::Shared shared(publisher, agent::RespServerOptions{});
  agent::RingCache cache(publisher);
  agent::RingBackend backend(shared, cache);
  resp::Session session(backend, shared.stats, shared.session_options);
  const std::vector<std::string> reads = make_reads(per_read);
  std::string out;
  std::size_t i = 0;
  for (auto _ : state) {
    out.clear();
    if (!session.feed(reads[i++ % reads.size()], out)) state.SkipWithError("session closed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * per_read);
}
BENCHMARK(BM_SessionGet)->Args({1, 1})->Args({1, 16})->Args({10, 1})->Args({10, 16})->Args({1000, 16});

}  // namespace

BENCHMARK_MAIN();
