// gossip/node_operator.cc — what an operator asks of a running node:
// join more addresses, force a failed member out (see node.h).
#include <algorithm>

#include "node_impl.h"

namespace ringd::gossip {

std::size_t Node::join(Time now, std::vector<std::string> addresses) {
  (void)now;  // the reply arrives through handle_stream_reply like any join
  Impl& s = *impl_;
  std::sort(addresses.begin(), addresses.end());
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
  std::size_t sent = 0;
  for (const auto& address : addresses) {
    if (address.empty() || address == s.cfg.advertise) continue;
    if (!s.pending_streams.join_to(address)) s.send_stream(address, true);
    ++sent;
  }
  return sent;
}

Node::ForceLeave Node::force_leave(Time now, std::string_view name) {
  Impl& s = *impl_;
  if (name == s.cfg.name) return ForceLeave::kSelf;
  const MemberRecord* rec = s.table.find(std::string(name));
  if (rec == nullptr) return ForceLeave::kUnknown;
  const MemberRecord& m = *rec;
  if (m.state == MemberState::kLeft) return ForceLeave::kAlreadyLeft;
  if (m.state != MemberState::kDead) return ForceLeave::kNotFailed;
  // As if it had said goodbye at the incarnation it died with: every member
  // takes it as left (final: no more healing towards its address), and if
  // it is in fact alive it refutes with a higher incarnation, as for a
  // false death.
  s.apply_dead(now, msg::Dead{m.name(), m.incarnation, s.cfg.name, true});
  return ForceLeave::kDone;
}

std::string_view to_string(Node::ForceLeave result) {
  switch (result) {
    case Node::ForceLeave::kDone: return "left";
    case Node::ForceLeave::kUnknown: return "no such member";
    case Node::ForceLeave::kSelf: return "that is this agent (use ringd leave)";
    case Node::ForceLeave::kNotFailed: return "the member is not failed (only a dead member can be forced to leave)";
    case Node::ForceLeave::kAlreadyLeft: return "the member has already left";
  }
  return "unknown";
}

}  // namespace ringd::gossip
