// bench/gossip_crypto_bench.cc — the cost of sealed gossip per message
// (agent/gossip_crypto.h): AES-256-GCM through OpenSSL EVP, a random nonce,
// the replay-window check.
//
//   BM_Seal/N            Sealer::seal of an N-byte message into a reused
//                        buffer (64: a ping; 512: a typical gossip packet;
//                        1400: a full datagram).
//   BM_Open/N            Opener::open of the same, each message a new
//                        sequence (sealed ahead, in batches, outside the
//                        timing), so the replay window records every one.
//   BM_OpenSecondKey/N   the same when the message's key is the second one
//                        installed (during a rotation): a failed trial first.
//   BM_OpenForged/N      a message no key opens (two keys installed): the
//                        cost a forger imposes per packet.
#include "agent/gossip_crypto.h"

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

namespace {

using ringd::agent::generate_key;
using ringd::agent::Keyring;
using ringd::agent::Opener;
using ringd::agent::OpenStatus;
using ringd::agent::Sealer;

std::string payload(std::size_t size) {
  std::string s(size, 'x');
  if (size > 0) s[0] = 0x08;
  return s;
}

void BM_Seal(benchmark::State& state) {
  Keyring keyring(generate_key());
  Sealer sealer("bench");
  const std::string plain = payload(static_cast<std::size_t>(state.range(0)));
  std::string out;
  for (auto _ : state) {
    sealer.seal(keyring, plain, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Seal)->Arg(64)->Arg(512)->Arg(1400);

void open_bench(benchmark::State& state, bool second_key) {
  const auto key = generate_key();
  Keyring sender_keys(key);
  Keyring receiver_keys(second_key ? generate_key() : key);
  if (second_key) receiver_keys.install(key);
  Sealer sealer("bench");
  Opener opener("bench");
  const std::string plain = payload(static_cast<std::size_t>(state.range(0)));
  constexpr std::size_t kBatch = 4096;
  std::vector<std::string> sealed(kBatch);
  std::string out;
  std::size_t next = kBatch;
  for (auto _ : state) {
    if (next == kBatch) {
      state.PauseTiming();
      for (auto& s : sealed) sealer.seal(sender_keys, plain, &s);
      next = 0;
      state.ResumeTiming();
    }
    if (opener.open(receiver_keys, sealed[next++], &out) != OpenStatus::kOk) {
      state.SkipWithError("open failed");
      break;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

void BM_Open(benchmark::State& state) { open_bench(state, false); }
BENCHMARK(BM_Open)->Arg(64)->Arg(512)->Arg(1400);

void BM_OpenSecondKey(benchmark::State& state) { open_bench(state, true); }
BENCHMARK(BM_OpenSecondKey)->Arg(64)->Arg(512)->Arg(1400);

void BM_OpenForged(benchmark::State& state) {
  Keyring receiver_keys(generate_key());
  receiver_keys.install(generate_key());
  Sealer forger("bench");
  Opener opener("bench");
  const std::string forged = forger.seal(Keyring(generate_key()), payload(static_cast<std::size_t>(state.range(0))));
  std::string out;
  for (auto _ : state) {
    benchmark::DoNotOptimize(opener.open(receiver_keys, forged, &out));
  }
}
BENCHMARK(BM_OpenForged)->Arg(64)->Arg(512)->Arg(1400);

}  // namespace

BENCHMARK_MAIN();
