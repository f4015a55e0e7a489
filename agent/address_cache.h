// agent/address_cache.h — memoised address conversions for the gossip
// driver. Every datagram names its peer as "ip:port" text on the node's side
// and as an endpoint on the socket's side; the same few dozen peers send
// every packet, so converting each time (inet_ntop, sprintf, parsing) was a
// tenth of an idle agent's CPU. Bounded: emptied when it reaches kMaxEntries,
// so spoofed source addresses cannot grow it.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "agent/address.h"
#include "agent/asio.h"

namespace ringd::agent {

class AddressCache {
 public:
  static constexpr std::size_t kMaxEntries = 4096;

  // format_endpoint(ep), memoised.
  const std::string& text(const udp::endpoint& ep) {
    auto it = texts_.find(ep);
    if (it != texts_.end()) return it->second;
    if (texts_.size() >= kMaxEntries) texts_.clear();
    return texts_.emplace(ep, format_endpoint(ep)).first->second;
  }

  // parse_endpoint(text), memoised (failures are not cached).
  std::optional<udp::endpoint> endpoint(std::string_view text) {
    auto it = endpoints_.find(text);
    if (it != endpoints_.end()) return it->second;
    auto ep = parse_endpoint(text);
    if (!ep) return std::nullopt;
    if (endpoints_.size() >= kMaxEntries) endpoints_.clear();
    endpoints_.emplace(std::string(text), *ep);
    return ep;
  }

 private:
  std::map<udp::endpoint, std::string> texts_;
  std::map<std::string, udp::endpoint, std::less<>> endpoints_;
};

}  // namespace ringd::agent
