#include "agent/address.h"

#include <charconv>

namespace ringd::agent {

std::optional<HostPort> split_host_port(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // v6 needs brackets
  }
  if (host.empty() || port.empty()) return std::nullopt;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return HostPort{std::string(host), static_cast<std::uint16_t>(value)};
}

std::optional<asio::ip::address> parse_ip(std::string_view host) {
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(std::string(host), ec);
  if (ec) return std::nullopt;
  return ip;
}

std::optional<asio::ip::basic_endpoint<asio::ip::udp>> parse_endpoint(std::string_view text) {
  auto hp = split_host_port(text);
  if (!hp) return std::nullopt;
  auto ip = parse_ip(hp->host);
  if (!ip) return std::nullopt;
  return asio::ip::basic_endpoint<asio::ip::udp>(*ip, hp->port);
}

std::string format_endpoint(const asio::ip::address& ip, std::uint16_t port) {
  std::string out;
  if (ip.is_v6()) {
    out.append("[").append(ip.to_string()).append("]");
  } else {
    out.append(ip.to_string());
  }
  out.append(":").append(std::to_string(port));
  return out;
}

std::vector<std::string> resolve_all(const HostPort& hp) {
  std::vector<std::string> out;
  if (auto ip = parse_ip(hp.host)) {
    out.push_back(format_endpoint(*ip, hp.port));
    return out;
  }
  asio::io_context io;
  udp::resolver resolver(io);
  boost::system::error_code ec;
  auto results = resolver.resolve(hp.host, std::to_string(hp.port), ec);
  if (ec) return out;
  for (const auto& entry : results) {
    auto text = format_endpoint(entry.endpoint());
    if (std::find(out.begin(), out.end(), text) == out.end()) out.push_back(text);
  }
  return out;
}

}  // namespace ringd::agent
