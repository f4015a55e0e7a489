#include "agent/ring_publisher.h"

namespace ringd::agent {

RingPublisher::RingPublisher(ring::Options options)
    : options_(options), ring_(ring::Ring::build({}, options)) {}

bool RingPublisher::rebuild(const std::vector<gossip::Member>& members) {
  std::vector<std::string> endpoints;
  for (const auto& m : members) {
    bool live = m.state == gossip::MemberState::kAlive || m.state == gossip::MemberState::kSuspect;
    if (live && !m.service.empty()) endpoints.push_back(m.service);
  }
  auto next = ring::Ring::build(std::move(endpoints), options_);
  auto previous = current();
  bool changed = previous->checksum() != next->checksum();
  if (changed || !ready()) ring_.store(std::move(next), std::memory_order_release);
  ready_.store(true, std::memory_order_release);
  return changed;
}

}  // namespace ringd::agent
