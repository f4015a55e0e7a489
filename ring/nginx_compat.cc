#include "ring/nginx_compat.h"

#include <array>
#include <string>

#include "ring/hashes.h"

namespace ringd::ring {

namespace {

// nginx's split: a trailing ":digits" is the port.
void split_server(std::string_view server, std::string_view& host, std::string_view& port) {
  for (std::size_t j = 0; j < server.size(); ++j) {
    const char c = server[server.size() - j - 1];
    if (c == ':') {
      host = server.substr(0, server.size() - j - 1);
      port = server.substr(server.size() - j);
      return;
    }
    if (c < '0' || c > '9') break;
  }
  host = server;
  port = {};
}

}  // namespace

void add_nginx_points(std::string_view server, std::uint32_t weight, std::uint32_t node, PointList& out) {
  std::string_view host, port;
  split_server(server, host, port);
  std::string prefix(host);
  prefix.push_back('\0');
  prefix.append(port);
  const std::uint32_t base = crc32(prefix);

  std::uint32_t previous = 0;
  const std::uint64_t count = std::uint64_t{kNginxPointsPerWeight} * weight;
  for (std::uint64_t j = 0; j < count; ++j) {
    const std::array<char, 4> le = {static_cast<char>(previous & 0xff), static_cast<char>((previous >> 8) & 0xff),
                                    static_cast<char>((previous >> 16) & 0xff),
                                    static_cast<char>((previous >> 24) & 0xff)};
    const std::uint32_t point = crc32(std::string_view(le.data(), le.size()), base);
    out.add(std::uint64_t{point} << 32, node);
    previous = point;
  }
}

std::uint32_t nginx_key_hash(std::string_view key) { return crc32(key); }

}  // namespace ringd::ring
