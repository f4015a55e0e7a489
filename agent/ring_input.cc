// agent/ring_input.cc — see ring_input.h.
#include "agent/ring_input.h"

#include <algorithm>
#include <charconv>

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

bool RingInput::operator==(const RingInput& other) const {
  return same_nodes(all, other.all) &&
         std::equal(by_service.begin(), by_service.end(), other.by_service.begin(), other.by_service.end(),
                    [](const auto& x, const auto& y) { return x.first == y.first && same_nodes(x.second, y.second); });
}

RingInput ring_input(const std::vector<gossip::Member>& members, std::vector<WeightProblem>* problems) {
  RingInput input;
  for (std::size_t i = 0; i < members.size(); ++i) {
    const gossip::Member& m = members[i];
    if (m.service.empty()) continue;
    const std::string_view service = service_from_tags(m.tags);
    auto* list = service.empty() ? nullptr : &input.by_service.try_emplace(std::string(service)).first->second;
    const bool live = m.state == gossip::MemberState::kAlive || m.state == gossip::MemberState::kSuspect;
    // A dead member, or one whose service fails its checks or is drained,
    // still keeps its service listed.
    if (!live || m.service_state != gossip::ServiceState::kPassing) continue;
    std::string problem;
    const ring::WeightedNode node{m.service, weight_from_tags(m.tags, &problem)};
    if (!problem.empty() && problems != nullptr) problems->push_back({i, std::move(problem)});
    input.all.push_back(node);
    if (list != nullptr) list->push_back(node);
  }
  sort_nodes(input.all);
  for (auto& [name, nodes] : input.by_service) sort_nodes(nodes);
  return input;
}

}  // namespace ringd::agent
