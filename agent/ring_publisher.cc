#include "agent/ring_publisher.h"

#include <charconv>

namespace ringd::agent {

std::uint32_t weight_from_tags(const gossip::Tags& tags) {
  auto it = tags.find("weight");
  if (it == tags.end()) return 1;
  const std::string& text = it->second;
  std::uint32_t weight = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), weight);
  if (ec != std::errc() || end != text.data() + text.size() || weight < 1 || weight > ring::kMaxWeight) return 1;
  return weight;
}

RingPublisher::RingPublisher(ring::Options options)
    : options_(options), ring_(ring::Ring::build({}, options)) {}

bool RingPublisher::rebuild(const std::vector<gossip::Member>& members) {
  std::vector<ring::WeightedNode> endpoints;
  for (const auto& m : members) {
    bool live = m.state == gossip::MemberState::kAlive || m.state == gossip::MemberState::kSuspect;
    if (live && !m.service.empty()) endpoints.push_back({m.service, weight_from_tags(m.tags)});
  }
  // Built from the current ring: unchanged endpoints' points are reused.
  auto previous = current();
  auto next = ring::Ring::build_weighted_from(*previous, std::move(endpoints), options_);
  bool changed = previous->checksum() != next->checksum();
  if (changed || !ready()) ring_.store(std::move(next), std::memory_order_release);
  ready_.store(true, std::memory_order_release);
  return changed;
}

}  // namespace ringd::agent
