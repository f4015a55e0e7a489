// libFuzzer target for resp::Session (not wired into CMake). Build and run:
//
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. \
//     resp/*.cc tests/fuzz/resp_fuzz.cc -o resp_fuzz
//   ./resp_fuzz -max_len=4096 tests/fuzz/corpus/resp
//
// Input: one byte of split seed, then the client's bytes. Checks, besides
// "no crash, no sanitizer report":
//  * the replies and the open/closed outcome are the same whether the bytes
//    arrive in one read or in reads of pseudo-random sizes;
//  * the session never buffers more than max_query_buffer bytes;
//  * after a false return, feed() keeps returning false and appends nothing.
// Small limits make the limit paths reachable with short inputs.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "resp/session.h"

namespace {

class FakeBackend : public ringd::resp::Backend {
 public:
  std::optional<std::string> owner(std::string_view key) const override {
    if (key.empty()) return std::nullopt;
    return "10.0.0." + std::to_string(static_cast<unsigned char>(key[0])) + ":8000";
  }
};

ringd::resp::Limits small_limits() {
  ringd::resp::Limits l;
  l.max_multibulk_len = 64;
  l.max_bulk_len = 256;
  l.max_inline_len = 128;
  l.max_query_buffer = 512;
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const unsigned seed = data[0];
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  const FakeBackend backend;
  const ringd::resp::Limits limits = small_limits();

  ringd::resp::Stats stats_whole;
  ringd::resp::Session whole(backend, stats_whole, limits);
  std::string out_whole;
  const bool open_whole = whole.feed(in, out_whole);

  ringd::resp::Stats stats_split;
  ringd::resp::Session split(backend, stats_split, limits);
  std::string out_split;
  bool open_split = true;
  unsigned state = seed * 2654435761u + 1;
  for (std::size_t pos = 0; pos < in.size() && open_split;) {
    state = state * 1103515245u + 12345u;
    const std::size_t n = 1 + (state >> 16) % 17;
    open_split = split.feed(in.substr(pos, n), out_split);
    if (split.buffered() > limits.max_query_buffer) std::abort();
    pos += n;
  }
  if (open_split != open_whole || out_split != out_whole) std::abort();
  if (!open_split) {
    const std::size_t before = out_split.size();
    if (split.feed("PING\r\n", out_split) || out_split.size() != before) std::abort();
  }
  return 0;
}
