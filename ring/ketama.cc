#include "ring/ketama.h"

#include <charconv>
#include <string>

#include "ring/hashes.h"

namespace ringd::ring {

namespace {

std::uint32_t le32(const Md5Digest& d, std::size_t at) {
  return static_cast<std::uint32_t>(d[at]) | static_cast<std::uint32_t>(d[at + 1]) << 8 |
         static_cast<std::uint32_t>(d[at + 2]) << 16 | static_cast<std::uint32_t>(d[at + 3]) << 24;
}

}  // namespace

void add_ketama_points(std::string_view server, std::uint32_t weight, std::size_t server_count,
                       std::uint64_t total_weight, std::uint32_t node, PointList& out) {
  const std::uint64_t groups = std::uint64_t{kKetamaGroupsPerServer} * server_count * weight / total_weight;
  std::string name(server);
  name.push_back('-');
  const std::size_t prefix = name.size();
  for (std::uint64_t g = 0; g < groups; ++g) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, g).ptr;
    name.resize(prefix);
    name.append(digits, end);
    const Md5Digest d = md5(name);
    for (std::size_t part = 0; part < 4; ++part) out.add(std::uint64_t{le32(d, part * 4)} << 32, node);
  }
}

std::uint32_t ketama_key_hash(std::string_view key) { return le32(md5(key), 0); }

}  // namespace ringd::ring
