// gossip/node_fallback.cc — TCP fallback probes, stream dispatch and notices
// (see node_impl.h).
//
// A firewall that drops UDP but passes TCP (or a NAT that forgets UDP
// mappings) makes a healthy member miss every UDP probe. When a direct probe
// times out we therefore also ping the target over a stream, next to the
// indirect UDP probes. If only the stream answers, the member is reachable:
// we do not suspect it, count it (udp_blocked) and leave one notice for the
// operator, at most once per member per udp_blocked_notice_interval.
#include "node_impl.h"

namespace ringd::gossip {

void Node::Impl::notice(std::string line) {
  if (notices.size() >= kMaxNotices) {
    count(C::kNoticesDropped);
    return;
  }
  notices.push_back(std::move(line));
}

void Node::Impl::send_tcp_ping(const MemberRecord& target) {
  const std::uint64_t id = send_tcp_ping_to(target.address(), probe.target(), probe.seq());
  if (id != 0) probe.tcp_ping_sent(id);
}

std::uint64_t Node::Impl::send_tcp_ping_to(const std::string& to, const std::string& target, std::uint64_t seq) {
  if (to.empty() || to == cfg.advertise) return 0;
  const std::uint64_t id = pending_streams.open(PendingStream{false, to, seq});
  if (id == 0) return 0;
  std::string bytes = codec::encode(msg::Stream{msg::Ping{seq, target, cfg.name, self_rec().address()}});
  count(C::kTcpPingsSent);
  count(C::kStreamsSent);
  count(C::kStreamBytesSent, bytes.size());
  out_streams.push_back(StreamRequest{id, to, std::move(bytes)});
  return id;
}

std::string Node::Impl::answer_stream(Time now, const msg::Stream& request) {
  if (const auto* pp = std::get_if<msg::PushPull>(&request)) {
    merge(now, *pp);
    if (started && !holding_back()) joined_ = true;
    return codec::encode(local_state(false));
  }
  if (const auto* ping = std::get_if<msg::Ping>(&request)) {
    count(C::kTcpPingsReceived);
    if (ping->target != cfg.name) {
      count(C::kWrongTarget);
      return {};
    }
    pinged_by_our_name(now, *ping);
    if (holding_back()) return {};  // the name is another agent's (node_conflict.cc)
    return codec::encode(msg::Stream{msg::Ack{ping->seq, cfg.name, live_digest()}});
  }
  return {};  // an Ack is a reply, never a request
}

void Node::Impl::on_tcp_ping_reply(Time now, const PendingStream& ps, const msg::Stream& reply) {
  const auto* ack = std::get_if<msg::Ack>(&reply);
  if (ack != nullptr && ack->seq == ps.probe_seq && answer_address_check(now, ack->seq, ack->source)) return;
  if (ack == nullptr || ack->seq != ps.probe_seq || !probe.tcp_ack(ack->seq, ack->source)) {
    count(C::kStaleAcks);
  }
}

void Node::Impl::udp_blocked(Time now, const MemberRecord& rec) {
  count(C::kUdpBlocked);
  auto [last, first] = udp_blocked_notices.try_emplace(rec.name(), now);
  if (!first) {
    if (now - last->second < cfg.udp_blocked_notice_interval) return;
    last->second = now;
  }
  notice("UDP to " + rec.name() + " (" + rec.address() +
         ") looks blocked; TCP probe succeeded");
}

}  // namespace ringd::gossip
