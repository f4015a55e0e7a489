// gossip/node_meta.cc — member metadata and configuration checks.
#include <sstream>

#include "node_impl.h"

namespace ringd::gossip {

std::optional<std::string> Node::validate(const Config& c) {
  std::ostringstream why;
  auto positive = [&](std::string_view field, Duration d) {
    if (d <= Duration::zero() && why.tellp() == 0) why << field << " must be positive";
  };
  if (c.name.empty()) {
    why << "member name must not be empty";
  } else if (c.name.size() > kMaxNameBytes) {
    why << "member name is longer than " << kMaxNameBytes << " bytes";
  } else if (c.advertise.empty()) {
    why << "advertise address must not be empty";
  }
  positive("probe_interval", c.probe_interval);
  positive("probe_timeout", c.probe_timeout);
  positive("gossip_interval", c.gossip_interval);
  positive("push_pull_interval", c.push_pull_interval);
  positive("join_retry_interval", c.join_retry_interval);
  if (why.tellp() == 0 && c.probe_timeout >= c.probe_interval) {
    why << "probe_timeout must be less than probe_interval";
  }
  if (why.tellp() == 0 && c.probe_timeout_floor > c.probe_timeout_ceiling) {
    why << "probe_timeout_floor must not exceed probe_timeout_ceiling";
  }
  if (why.tellp() == 0 && c.probe_timeout_ceiling >= c.probe_interval) {
    why << "probe_timeout_ceiling must be less than probe_interval";
  }
  if (why.tellp() == 0 && (c.indirect_checks < 0 || c.suspicion_mult < 1 ||
                           c.suspicion_max_timeout_mult < 1 || c.retransmit_mult < 1 ||
                           c.gossip_nodes < 1 || c.awareness_max < 0)) {
    why << "indirect_checks and awareness_max must be >= 0; suspicion_mult, "
           "suspicion_max_timeout_mult, retransmit_mult and gossip_nodes >= 1";
  }
  if (why.tellp() == 0 && c.max_packet_size < 512) why << "max_packet_size must be >= 512";
  if (why.tellp() == 0) {
    for (const auto& [k, v] : c.tags) {
      if (k.empty() || k.size() > 255 || v.size() > 255) {
        why << "tag keys must be 1..255 bytes and values at most 255 bytes";
        break;
      }
    }
  }
  if (why.tellp() == 0) {
    const std::size_t size = codec::metadata_size(c.service, c.tags);
    if (size > c.max_metadata_size) {
      why << "metadata (service + tags) is " << size << " bytes encoded, over the limit of "
          << c.max_metadata_size;
    }
  }
  if (why.tellp() == 0) return std::nullopt;
  return why.str();
}

// Our service, tags or service state changed (already stored): a new
// incarnation, an update event, and the news spread at once. Not while
// leaving: the goodbye has the last word.
void Node::Impl::announce_self_change(Time now) {
  if (leaving) return;
  {
    auto rec = table.edit(self_rec());
    rec->incarnation += 1;
    rec->state_since = now;
  }
  const MemberRecord& self = self_rec();
  count(C::kMetadataUpdates);
  emit(Event::Kind::kUpdated, self.member());
  if (started) {
    broadcast(self.name(), self_alive());
    next_gossip_at = std::min(next_gossip_at, now);  // spread it at once
  }
}

void Node::set_service_state(Time now, ServiceState state) {
  Impl& s = *impl_;
  s.cfg.service_state = state;
  if (s.self_rec().service_state() == state) return;
  {
    const MemberRecord& self = s.self_rec();
    s.table.edit(self).set_details(self.address(), self.service(), self.tags(), state);
  }
  s.announce_self_change(now);
}

bool Node::set_metadata(Time now, std::string service, Tags tags) {
  Impl& s = *impl_;
  for (const auto& [k, v] : tags) {
    if (k.empty() || k.size() > 255 || v.size() > 255) return false;
  }
  if (service.size() > 255 || codec::metadata_size(service, tags) > s.cfg.max_metadata_size) {
    return false;
  }
  const MemberRecord& self = s.self_rec();
  if (self.service() == service && self.tags() == tags) return true;
  s.cfg.service = service;
  s.cfg.tags = tags;
  s.table.edit(self).set_details(self.address(), service, tags, self.service_state());
  s.announce_self_change(now);
  return true;
}

}  // namespace ringd::gossip
