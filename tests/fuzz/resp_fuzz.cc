// libFuzzer target for resp::Session: the parser and every command handler.
// Built by tests/fuzz/CMakeLists.txt (clang, -fsanitize=fuzzer,address,undefined)
// and run by ctest as resp_fuzz for a fixed time on tests/fuzz/corpus/resp.
// By hand:
//
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. \
//     resp/*.cc tests/fuzz/resp_fuzz.cc -o resp_fuzz
//   ./resp_fuzz -max_len=4096 tests/fuzz/corpus/resp
//
// Input: one byte of split seed (its low bit also turns requirepass on),
// then the client's bytes. Checks, besides "no crash, no sanitizer report":
//  * the replies and the open/closed outcome are the same whether the bytes
//    arrive in one read or in reads of pseudo-random sizes, with the
//    output-batch pause (a small max_output_batch) in play;
//  * the session never buffers more than max_query_buffer bytes between
//    reads once it is not paused;
//  * after a false return, feed() keeps returning false and appends nothing.
// Small limits make the limit paths reachable with short inputs.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "resp/session.h"

namespace {

class FakeBackend : public ringd::resp::Backend {
 public:
  void begin_batch() override {}
  std::string_view owner(std::string_view key) override {
    if (key.empty()) return {};
    return nodes_[static_cast<unsigned char>(key[0]) % nodes_.size()];
  }
  void owners(std::string_view key, std::size_t n, std::vector<std::string_view>& out) override {
    const std::size_t start = key.empty() ? 0 : static_cast<unsigned char>(key[0]) % nodes_.size();
    for (std::size_t i = 0; i < n && i < nodes_.size(); ++i) out.emplace_back(nodes_[(start + i) % nodes_.size()]);
  }
  std::span<const std::string> nodes() override { return nodes_; }
  std::string_view checksum() override { return "00000000deadbeef"; }
  bool info_section(std::string_view name, std::string& out) override {
    if (name != "ring") return false;
    out.append("# Ring\r\nring_nodes:3\r\n");
    return true;
  }

 private:
  std::vector<std::string> nodes_ = {"10.0.0.1:8000", "10.0.0.2:8000", "10.0.0.3:8000"};
};

ringd::resp::SessionOptions small_options(bool password) {
  static const std::string kPassword = "pw";
  ringd::resp::SessionOptions o;
  o.limits.max_multibulk_len = 64;
  o.limits.max_bulk_len = 256;
  o.limits.max_inline_len = 128;
  o.limits.max_query_buffer = 512;
  o.limits.max_output_batch = 256;
  if (password) o.password = &kPassword;
  return o;
}

// Feeds, then resumes until the session is no longer paused.
bool feed_all(ringd::resp::Session& s, std::string_view in, std::string& out) {
  bool open = s.feed(in, out);
  while (open && s.paused()) open = s.resume(out);
  return open;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const unsigned seed = data[0];
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  FakeBackend backend;
  const ringd::resp::SessionOptions options = small_options((seed & 1) != 0);

  ringd::resp::Stats stats_whole;
  ringd::resp::Session whole(backend, stats_whole, options);
  std::string out_whole;
  const bool open_whole = feed_all(whole, in, out_whole);

  ringd::resp::Stats stats_split;
  ringd::resp::Session split(backend, stats_split, options);
  std::string out_split;
  bool open_split = true;
  unsigned state = seed * 2654435761u + 1;
  for (std::size_t pos = 0; pos < in.size() && open_split;) {
    state = state * 1103515245u + 12345u;
    const std::size_t n = 1 + (state >> 16) % 17;
    open_split = feed_all(split, in.substr(pos, n), out_split);
    if (split.buffered() > options.limits.max_query_buffer) std::abort();
    pos += n;
  }
  if (open_split != open_whole || out_split != out_whole) std::abort();
  if (!open_split) {
    const std::size_t before = out_split.size();
    if (split.feed("PING\r\n", out_split) || out_split.size() != before) std::abort();
  }
  return 0;
}
