// agent/address.h — "ip:port" / "[v6]:port" / "host:port" parsing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/asio.h"

namespace ringd::agent {

struct HostPort {
  std::string host;  // without brackets
  std::uint16_t port = 0;
};

// Splits "host:port" or "[v6]:port". Returns nullopt when malformed or the
// port is not 1..65535.
std::optional<HostPort> split_host_port(std::string_view text);

// Parses an IP literal with a port; nullopt when not an IP literal.
std::optional<asio::ip::address> parse_ip(std::string_view host);
std::optional<asio::ip::basic_endpoint<asio::ip::udp>> parse_endpoint(std::string_view text);

// "ip:port" for IPv4, "[ip]:port" for IPv6 — the canonical form gossip uses.
std::string format_endpoint(const asio::ip::address& ip, std::uint16_t port);
template <typename Endpoint>
std::string format_endpoint(const Endpoint& ep) {
  return format_endpoint(ep.address(), ep.port());
}

// Resolves "host:port" (blocking getaddrinfo) to every address it names, in
// canonical form. Empty when it does not resolve.
std::vector<std::string> resolve_all(const HostPort& hp);

}  // namespace ringd::agent
