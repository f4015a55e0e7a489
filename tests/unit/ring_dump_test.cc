// tests/unit/ring_dump_test.cc — RING.DUMP's image (ring/dump.h), read back
// by an independent reader that follows only the header's description, must
// give the owners and failover orders of Ring itself in every mode.
#include <gtest/gtest.h>
#include <md5.h>  // libmd
#include <xxhash.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "ring/dump.h"
#include "ring/ring.h"

namespace ringd::ring {
namespace {

std::uint32_t u32(const std::string& b, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}
std::uint64_t u64(const std::string& b, std::size_t at) {
  return (std::uint64_t{u32(b, at + 4)} << 32) | u32(b, at);
}

struct Image {
  int mode = 0;
  std::string checksum;
  std::vector<std::string> names;
  std::vector<std::uint64_t> positions;
  std::vector<std::uint32_t> node;
  std::uint32_t probes = 0;  // multiprobe

  explicit Image(const std::string& b) {
    EXPECT_EQ(b.substr(0, 8), "RINGDMP1");
    mode = static_cast<unsigned char>(b[8]);
    checksum = b.substr(16, 16);
    const std::uint32_t n = u32(b, 32), e = u32(b, 36), names_bytes = u32(b, 40);
    probes = mode == 4 ? u32(b, 44) : 0;
    std::size_t at = 48;
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::size_t len = static_cast<unsigned char>(b[at]) | (static_cast<unsigned char>(b[at + 1]) << 8);
      names.push_back(b.substr(at + 2, len));
      at += 2 + len;
    }
    EXPECT_LE(at, 48 + names_bytes);
    EXPECT_EQ(names_bytes % 8, 0u);
    at = 48 + names_bytes;
    if (mode != 1) {
      for (std::uint32_t i = 0; i < e; ++i) positions.push_back(u64(b, at + 8 * i));
      at += 8 * std::size_t{e};
    }
    for (std::uint32_t i = 0; i < e; ++i) node.push_back(u32(b, at + 4 * i));
    EXPECT_EQ(at + 4 * std::size_t{e}, b.size());
  }

  std::size_t start(const std::string& key) const {
    if (mode == 1) {  // maglev
      // The high 64 bits of h * E from 32-bit halves (E < 2^32), as a
      // reader without 128-bit integers (LuaJIT) computes them.
      const std::uint64_t h = XXH3_64bits(key.data(), key.size()), e = node.size();
      return static_cast<std::size_t>(((h >> 32) * e + (((h & 0xffffffffu) * e) >> 32)) >> 32);
    }
    std::uint64_t pos = 0;
    if (mode == 0) {
      pos = XXH3_64bits(key.data(), key.size());
    } else if (mode == 2) {
      pos = std::uint64_t{static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(key.data()), key.size()))} << 32;
    } else {
      unsigned char d[16];
      MD5_CTX ctx;
      MD5Init(&ctx);
      MD5Update(&ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size());
      MD5Final(d, &ctx);
      pos = std::uint64_t{d[0] | (d[1] << 8) | (d[2] << 16) | (std::uint32_t{d[3]} << 24)} << 32;
    }
    const std::size_t i = std::lower_bound(positions.begin(), positions.end(), pos) - positions.begin();
    return i == positions.size() ? 0 : i;
  }

  // Multiprobe, straight from dump.h: every probe's nearest point of a node
  // not yet chosen, by a linear walk; the nearest of all probes (lowest probe
  // on a tie) is the next owner.
  std::vector<std::string> multiprobe_owners(const std::string& key, std::size_t n) const {
    const std::uint64_t h = XXH3_64bits(key.data(), key.size());
    std::vector<std::string> out;
    while (out.size() < n) {
      bool found = false;
      std::uint64_t best = 0;
      std::string winner;
      for (std::uint32_t i = 0; i < probes; ++i) {
        std::uint64_t q = h ^ (i * 0x9e3779b97f4a7c15ULL);
        q ^= q >> 32;
        q *= 0xd6e8feb86659fd93ULL;
        q ^= q >> 32;
        std::size_t at = std::lower_bound(positions.begin(), positions.end(), q) - positions.begin();
        for (std::size_t walked = 0; walked < positions.size(); ++walked, ++at) {
          const std::size_t p = at % positions.size();
          const std::string& name = names[node[p]];
          if (std::find(out.begin(), out.end(), name) != out.end()) continue;
          const std::uint64_t d = positions[p] - q;
          if (!found || d < best) {
            found = true;
            best = d;
            winner = name;
          }
          break;
        }
      }
      if (!found) break;
      out.push_back(winner);
    }
    return out;
  }

  std::vector<std::string> owners(const std::string& key, std::size_t n) const {
    std::vector<std::string> out;
    if (node.empty()) return out;
    n = std::min(n, names.size());
    if (mode == 4) return multiprobe_owners(key, n);
    for (std::size_t i = start(key), steps = 0; out.size() < n && steps < node.size(); ++steps) {
      const std::string& name = names[node[i]];
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
      if (++i == node.size()) i = 0;
    }
    return out;
  }
};

std::vector<WeightedNode> endpoints(int count) {
  std::vector<WeightedNode> out;
  for (int i = 0; i < count; ++i) out.push_back({"10.1.0." + std::to_string(i + 1) + ":8080", static_cast<std::uint32_t>(1 + i % 3)});
  return out;
}

class RingDumpTest : public ::testing::TestWithParam<Mode> {};

TEST_P(RingDumpTest, AReaderOfTheImageFindsTheRingsOwners) {
  Options o{.points_per_node = 64, .mode = GetParam(), .maglev_table_size = 1021};
  auto ring = Ring::build_weighted(endpoints(7), o);
  const Image image(ring->dump());
  EXPECT_EQ(image.mode, static_cast<int>(GetParam()));
  EXPECT_EQ(image.checksum, ring->checksum());
  EXPECT_EQ(image.names, ring->nodes());
  for (int k = 0; k < 20000; ++k) {
    const std::string key = "/documents/" + std::to_string(k * 7919);
    std::vector<std::string> want;
    for (const std::string* s : ring->owners(key, 3)) want.push_back(*s);
    ASSERT_EQ(image.owners(key, 3), want) << key;
    ASSERT_EQ(image.owners(key, 1).front(), *ring->owner(key)) << key;
  }
  EXPECT_EQ(&ring->dump(), &ring->dump());  // built once
}

TEST_P(RingDumpTest, AnEmptyRingHasNoEntries) {
  auto ring = Ring::build({}, Options{.mode = GetParam()});
  const Image image(ring->dump());
  EXPECT_TRUE(image.names.empty());
  EXPECT_TRUE(image.node.empty());
  EXPECT_EQ(image.owners("/x", 1), std::vector<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(Modes, RingDumpTest,
                         ::testing::Values(Mode::kDefault, Mode::kMaglev, Mode::kNginx, Mode::kKetama, Mode::kMultiProbe),
                         [](const auto& info) { return std::string(to_string(info.param)); });

}  // namespace
}  // namespace ringd::ring
