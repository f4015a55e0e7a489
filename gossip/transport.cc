// gossip/transport.cc — drain(): a Node's outputs, in one order for every caller.
#include "gossip/transport.h"

#include <utility>

namespace ringd::gossip {

void drain(Node& node, Outputs& out) {
  for (auto& d : node.take_datagrams()) out.send_datagram(std::move(d));
  for (auto& r : node.take_stream_requests()) out.send_stream(std::move(r));
  for (auto& line : node.take_notices()) out.notice(std::move(line));
  auto events = node.take_events();
  if (!events.empty()) out.events(std::move(events));
}

}  // namespace ringd::gossip
