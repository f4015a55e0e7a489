#include "agent/ring_publisher.h"

#include <algorithm>
#include <charconv>
#include <map>

#include <spdlog/spdlog.h>

namespace ringd::agent {

std::uint32_t weight_from_tags(const gossip::Tags& tags, std::string* problem) {
  auto it = tags.find("weight");
  if (it == tags.end()) return 1;
  const std::string& text = it->second;
  std::uint64_t weight = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), weight);
  const bool number = !text.empty() && end == text.data() + text.size() &&
                      (ec == std::errc() || ec == std::errc::result_out_of_range);
  const bool too_big = ec == std::errc::result_out_of_range || weight > ring::kMaxWeight;
  if (!number || (weight == 0 && !too_big)) {
    if (problem != nullptr) *problem = "not a whole number 1.." + std::to_string(ring::kMaxWeight) + "; using 1";
    return 1;
  }
  if (too_big) {
    if (problem != nullptr) *problem = "over the maximum; using " + std::to_string(ring::kMaxWeight);
    return ring::kMaxWeight;
  }
  return static_cast<std::uint32_t>(weight);
}

std::string_view service_from_tags(const gossip::Tags& tags) {
  auto it = tags.find("service");
  return it == tags.end() ? std::string_view() : std::string_view(it->second);
}

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

namespace {
bool same_nodes(const std::vector<ring::WeightedNode>& a, const std::vector<ring::WeightedNode>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const ring::WeightedNode& x, const ring::WeightedNode& y) {
    return x.endpoint == y.endpoint && x.weight == y.weight;
  });
}

void sort_nodes(std::vector<ring::WeightedNode>& nodes) {
  std::sort(nodes.begin(), nodes.end(), [](const ring::WeightedNode& x, const ring::WeightedNode& y) {
    return x.endpoint != y.endpoint ? x.endpoint < y.endpoint : x.weight < y.weight;
  });
}
}  // namespace

bool RingPublisher::Input::operator==(const Input& other) const {
  return same_nodes(all, other.all) &&
         std::equal(by_service.begin(), by_service.end(), other.by_service.begin(), other.by_service.end(),
                    [](const auto& x, const auto& y) { return x.first == y.first && same_nodes(x.second, y.second); });
}

bool RingPublisher::rebuild(const std::vector<gossip::Member>& members) {
  Input input;
  std::vector<ring::WeightedNode>& endpoints = input.all;
  auto& by_service = input.by_service;
  for (const auto& m : members) {
    if (m.service.empty()) continue;
    const std::string_view service = service_from_tags(m.tags);
    auto* list = service.empty() ? nullptr : &by_service.try_emplace(std::string(service)).first->second;
    const bool live = m.state == gossip::MemberState::kAlive || m.state == gossip::MemberState::kSuspect;
    // A dead member, or one whose service fails its checks or is drained,
    // still keeps its service listed.
    if (!live || m.service_state != gossip::ServiceState::kPassing) continue;
    std::string problem;
    const ring::WeightedNode node{m.service, weight_from_tags(m.tags, &problem)};
    if (!problem.empty()) warn_weight_once(m, problem);
    endpoints.push_back(node);
    if (list != nullptr) list->push_back(node);
  }
  sort_nodes(endpoints);
  for (auto& [name, nodes] : by_service) sort_nodes(nodes);
  if (ready() && input == last_input_) return false;
  last_input_ = input;
  ++builds_;

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
