// gossip/node_output.cc — what a Node sends (see node_impl.h).
#include <algorithm>

#include "node_impl.h"

namespace ringd::gossip {

int Node::Impl::retransmit_limit() const {
  return BroadcastQueue::retransmit_limit(cfg.retransmit_mult, table.live_count());
}

void Node::Impl::broadcast(const std::string& name, msg::Message m) {
  const std::size_t size = codec::encoded_size(m);
  const std::uint64_t before = queue.dropped();
  queue.push(name, std::move(m), size);
  count(C::kBroadcastsDropped, queue.dropped() - before);
}

// Sends `primary` plus as many queued updates as fit in max_packet_size.
// With no primary and no updates nothing is sent.
void Node::Impl::send(const std::string& to, std::vector<msg::Message> primary) {
  if (to.empty() || to == cfg.advertise) return;
  std::size_t used = codec::packet_header_size();
  for (const auto& m : primary) used += codec::encoded_size(m);
  const std::size_t budget = cfg.max_packet_size > used ? cfg.max_packet_size - used : 0;
  // Never more messages than a receiver decodes (codec::DecodeLimits).
  const std::size_t room = packet_limits.max_messages > primary.size()
                               ? packet_limits.max_messages - primary.size()
                               : 0;
  std::vector<msg::Message> extra = queue.take(budget, retransmit_limit(), room);
  for (auto& m : extra) primary.push_back(std::move(m));
  send_exactly(to, std::move(primary));
}

void Node::Impl::send_exactly(const std::string& to, std::vector<msg::Message> messages) {
  if (to.empty() || to == cfg.advertise || messages.empty()) return;
  for (const auto& m : messages) sent_by_type.add(m);
  msg::Packet packet;
  packet.messages = std::move(messages);
  std::string bytes = codec::encode(packet);
  count(C::kPacketsSent);
  count(C::kBytesSent, bytes.size());
  out_datagrams.push_back(Datagram{to, std::move(bytes)});
}

// The gossip timer: one batch of pending updates, counted as one
// transmission, to gossip_nodes random live members. (Counting each target
// separately, as memberlist does, lets an update die out after reaching
// only ~retransmit_mult members; in small clusters that misses a member
// every few updates.)
void Node::Impl::gossip_round() {
  auto targets = table.random_members(
      rng, static_cast<std::size_t>(std::max(cfg.gossip_nodes, 0)), MemberTable::Pick::kLive);
  if (targets.empty()) return;
  const std::size_t header = codec::packet_header_size();
  const std::size_t budget = cfg.max_packet_size > header ? cfg.max_packet_size - header : 0;
  const std::vector<msg::Message> batch =
      queue.take(budget, retransmit_limit(), packet_limits.max_messages);
  for (const MemberRecord* t : targets) send_exactly(t->address(), batch);
}

namespace {
// An upper bound on a member entry's encoded size: its strings, and for
// every field and tag a key byte and a length of at most five bytes.
std::size_t entry_bytes_bound(const MemberRecord& m) {
  std::size_t bytes = m.name().size() + m.address().size() + m.service().size() + 7 * 6;
  for (const auto& [k, v] : m.tags()) bytes += k.size() + v.size() + 3 * 6;
  return bytes;
}
// Room kept in max_stream_size for the push-pull's own fields and framing.
constexpr std::size_t kPushPullHeaderRoom = 1024;
}  // namespace

// A full state is what memberlist sends, whatever its size (its users hit a
// 20 MB cap near 10,000 members). Here a push-pull carries at most
// push_pull_max_members entries and at most max_stream_size bytes: a
// larger table goes in pages, ourselves first, then the
// others in name order from where the last page stopped, wrapping, so
// successive syncs (with anyone) cover every member. merge() applies what a
// push-pull holds and reads nothing into what it leaves out.
msg::PushPull Node::Impl::local_state(bool join) {
  msg::PushPull pp;
  pp.join = join;
  pp.source = cfg.name;
  auto add = [&pp](const MemberRecord& m) {
    pp.members.push_back(
        msg::MemberEntry{m.name(), m.address(), m.service(), m.incarnation, m.state, m.tags(), m.service_state()});
  };
  const auto& all = table.all();
  const std::size_t page = std::max<std::size_t>(cfg.push_pull_max_members, 1);
  const std::size_t budget = cfg.max_stream_size > kPushPullHeaderRoom ? cfg.max_stream_size - kPushPullHeaderRoom : 0;
  bool whole = all.size() <= page;
  std::size_t whole_bytes = 0;
  for (auto it = all.begin(); whole && it != all.end(); ++it) {
    whole_bytes += entry_bytes_bound(*it);
    whole = whole_bytes <= budget;
  }
  if (whole) {
    for (const MemberRecord& rec : all) {
      if (!rec.local_verdict) add(rec);  // a local verdict is ours alone (expire_suspicions)
    }
    return pp;
  }
  count(C::kPushPullsPaged);
  add(self_rec());
  std::size_t bytes = entry_bytes_bound(self_rec());
  auto it = all.lower_bound(push_pull_cursor);
  for (std::size_t visited = 0; pp.members.size() < page && visited < all.size(); ++visited, ++it) {
    if (it == all.end()) it = all.begin();
    const MemberRecord& rec = *it;
    if (rec.name() == cfg.name || rec.local_verdict) continue;
    bytes += entry_bytes_bound(rec);
    if (bytes > budget) break;  // this one starts the next page
    add(rec);
  }
  push_pull_cursor = it == all.end() ? std::string() : it->name();
  return pp;
}

void Node::Impl::send_stream(const std::string& to, bool join) {
  if (to.empty() || to == cfg.advertise) return;
  const std::uint64_t id = pending_streams.open(PendingStream{join, to});
  if (id == 0) return;
  std::string bytes = codec::encode(local_state(join));
  count(C::kStreamsSent);
  count(C::kStreamBytesSent, bytes.size());
  out_streams.push_back(StreamRequest{id, to, std::move(bytes)});
}

}  // namespace ringd::gossip
