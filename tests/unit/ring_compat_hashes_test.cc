// tests/unit/ring_compat_hashes_test.cc — the hash functions and point
// generators of the nginx and ketama modes, pinned to values computed
// independently (Python's zlib.crc32 and hashlib.md5 over the byte strings
// the schemes describe). tests/compat checks whole rings against real nginx
// and python3-uhashring.
#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "ring/hashes.h"
#include "ring/ketama.h"
#include "ring/nginx_compat.h"

namespace ringd::ring {
namespace {

TEST(RingCompatHashesTest, Crc32IsZlibsAndContinues) {
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);  // the standard check value
  EXPECT_EQ(crc32(""), 0u);
  EXPECT_EQ(crc32("456789", crc32("123")), crc32("123456789"));
}

TEST(RingCompatHashesTest, Md5KnownVectors) {
  auto hex = [](const Md5Digest& d) {
    std::string out;
    for (unsigned char c : d) {
      static constexpr char kDigits[] = "0123456789abcdef";
      out += kDigits[c >> 4];
      out += kDigits[c & 15];
    }
    return out;
  };
  EXPECT_EQ(hex(md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(hex(md5("abc")), "900150983cd24fb0d6963f7d28e17f72");
}

// crc32("127.0.0.1\0" "8001" + previous point as 4 little-endian bytes),
// starting from 4 zero bytes.
TEST(RingCompatHashesTest, NginxPointsArePinned) {
  PointList points;
  add_nginx_points("127.0.0.1:8001", 1, 7, points);
  ASSERT_EQ(points.hashes.size(), 160u);
  EXPECT_EQ(points.hashes[0] >> 32, 0xbcf93e9au);
  EXPECT_EQ(points.hashes[1] >> 32, 0x47585293u);
  EXPECT_EQ(points.hashes[2] >> 32, 0xe6ee8961u);
  EXPECT_EQ(points.hashes[0] & 0xffffffffu, 0u) << "32-bit points sit in the top half";
  EXPECT_EQ(points.nodes[0], 7u);
  EXPECT_EQ(nginx_key_hash("/documents/abc"), 0xf5ca4559u);

  // The same points from scratch over the whole byte string, each time.
  std::string bytes("127.0.0.1\0" "8001", 14);
  unsigned char prev[4] = {0, 0, 0, 0};
  for (std::size_t j = 0; j < 160; ++j) {
    std::string in = bytes + std::string(reinterpret_cast<char*>(prev), 4);
    const auto h = static_cast<std::uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(in.data()), in.size()));
    ASSERT_EQ(points.hashes[j] >> 32, h) << j;
    for (int b = 0; b < 4; ++b) prev[b] = static_cast<unsigned char>(h >> (8 * b));
  }

  PointList heavy;
  add_nginx_points("127.0.0.1:8001", 3, 0, heavy);
  EXPECT_EQ(heavy.hashes.size(), 480u);
}

// nginx's split: only a trailing ":digits" is a port.
TEST(RingCompatHashesTest, NginxServerSplit) {
  auto first_point = [](std::string_view server) {
    PointList p;
    add_nginx_points(server, 1, 0, p);
    return static_cast<std::uint32_t>(p.hashes[0] >> 32);
  };
  auto expected = [](std::string host_nul_port) {
    host_nul_port += std::string(4, '\0');
    return crc32(host_nul_port);
  };
  EXPECT_EQ(first_point("[::1]:8000"), expected(std::string("[::1]\0" "8000", 10)));
  EXPECT_EQ(first_point("backend"), expected(std::string("backend\0", 8)));
  EXPECT_EQ(first_point("[::1]"), expected(std::string("[::1]\0", 6)));
}

// Group g: md5("127.0.0.1:8001-g"), four little-endian words.
TEST(RingCompatHashesTest, KetamaPointsArePinned) {
  PointList points;
  add_ketama_points("127.0.0.1:8001", 1, 3, 3, 2, points);
  ASSERT_EQ(points.hashes.size(), 160u);
  const std::uint32_t group0[] = {0x29152911u, 0xb7f03d46u, 0xda7d60a3u, 0xfc98044cu};
  const std::uint32_t group39[] = {0x54f7a93du, 0xe9ae69d7u, 0xf4aa1f59u, 0x6d24a637u};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(points.hashes[static_cast<std::size_t>(i)] >> 32, group0[i]);
    EXPECT_EQ(points.hashes[static_cast<std::size_t>(156 + i)] >> 32, group39[i]);
  }
  EXPECT_EQ(points.nodes[0], 2u);
  EXPECT_EQ(ketama_key_hash("/documents/abc"), 0xef0bd513u);
}

// floor(40 * servers * weight / total weight) groups of 4 points.
TEST(RingCompatHashesTest, KetamaWeightScaling) {
  auto count = [](std::uint32_t weight, std::size_t servers, std::uint64_t total) {
    PointList p;
    add_ketama_points("s", weight, servers, total, 0, p);
    return p.hashes.size();
  };
  EXPECT_EQ(count(1, 1, 1), 160u);
  EXPECT_EQ(count(2, 3, 4), 4u * 60u);  // 40 * 3 * 2 / 4
  EXPECT_EQ(count(1, 3, 4), 4u * 30u);
  EXPECT_EQ(count(1, 3, 7), 4u * 17u);  // 120 / 7 = 17.1
}

}  // namespace
}  // namespace ringd::ring
