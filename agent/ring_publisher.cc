#include "agent/ring_publisher.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace ringd::agent {

std::size_t RingSet::database_of(std::string_view name) const {
  auto it = std::lower_bound(services.begin(), services.end(), name);
  if (it == services.end() || *it != name) return 0;
  return static_cast<std::size_t>(it - services.begin()) + 1;
}

const ring::Ring* RingSet::find(std::string_view name) const {
  const std::size_t d = database_of(name);
  return d == 0 ? nullptr : rings[d - 1].get();
}

const ring::Ring* RingSet::db(std::size_t db) const {
  if (db == 0) return all.get();
  return db <= rings.size() ? rings[db - 1].get() : nullptr;
}

void RingPublisher::warn_weight_once(const gossip::Member& m, const std::string& problem) {
  std::string key = m.name + '\n' + m.tags.at("weight");
  if (weight_warned_.contains(key)) return;
  if (weight_warned_.size() >= kMaxWeightWarnings) weight_warned_.clear();  // bounded; a reset costs a line
  weight_warned_.insert(std::move(key));
  spdlog::warn("member {} has tag weight={}: {}", m.name, m.tags.at("weight"), problem);
}

RingPublisher::RingPublisher(ring::Options options) : options_(options) {
  auto set = std::make_shared<RingSet>();
  set->all = ring::Ring::build({}, options);
  rings_.store(std::move(set));
}

bool RingPublisher::rebuild(const std::vector<gossip::Member>& members) {
  std::vector<WeightProblem> problems;
  RingInput input = ring_input(members, &problems);
  for (const auto& p : problems) warn_weight_once(members[p.member], p.problem);
  if (ready() && input == last_input_) return false;
  last_input_ = input;
  ++builds_;
  std::vector<ring::WeightedNode>& endpoints = input.all;
  auto& by_service = input.by_service;

  // Built from the current rings: unchanged endpoints' points are reused.
  const auto previous = rings();
  auto next = std::make_shared<RingSet>();
  next->all = ring::Ring::build_weighted_from(*previous->all, std::move(endpoints), options_);
  // Past its point budget the default ring lowers its points per endpoint:
  // balance suffers, and every change of that count moves many keys. Say so
  // once per crossing; multiprobe keeps a point per endpoint at any size.
  const bool lowered = options_.mode == ring::Mode::kDefault &&
                       next->all->options().points_per_node < std::max<std::uint32_t>(1, options_.points_per_node);
  if (lowered && !lowered_warned_) {
    spdlog::warn("ring: {} endpoints exceed the default ring's point budget; points per endpoint lowered from {} to {} "
                 "(worse balance, and keys move whenever that number changes): consider --ring multiprobe",
                 next->all->nodes().size(), options_.points_per_node, next->all->options().points_per_node);
  }
  lowered_warned_ = lowered;
  bool changed = previous->all->checksum() != next->all->checksum() || previous->services.size() != by_service.size();
  for (auto& [name, nodes] : by_service) {
    const ring::Ring* before = previous->find(name);
    auto ring = before != nullptr ? ring::Ring::build_weighted_from(*before, std::move(nodes), options_)
                                  : ring::Ring::build_weighted(std::move(nodes), options_);
    changed = changed || before == nullptr || before->checksum() != ring->checksum();
    next->services.push_back(name);
    next->rings.push_back(std::move(ring));
  }
  if (changed || !ready()) {
    rings_.store(std::move(next), std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_release);
  }
  ready_.store(true, std::memory_order_release);
  return changed;
}

}  // namespace ringd::agent
