// tests/sim/support/sim_network.cc — see sim_network.h.
#include "support/sim_network.h"

namespace ringd::sim {

const LinkParams& Network::link(std::size_t from, std::size_t to) const {
  auto it = links_.find({from, to});
  return it == links_.end() ? defaults_ : it->second;
}

bool Network::any_cut_touching(std::size_t i) const {
  for (const auto& [a, b] : cuts_) {
    if (a == i || b == i) return true;
  }
  return false;
}

void Network::partition(const std::vector<std::vector<std::size_t>>& groups) {
  for (std::size_t k = 0; k < groups.size(); ++k) {
    for (std::size_t i : groups[k]) group_.at(i) = static_cast<int>(k + 1);
  }
}

void Network::heal_partitions() {
  for (auto& g : group_) g = 0;
}

Duration Network::draw_delay(const LinkParams& p) {
  if (p.delay_max <= p.delay_min) return p.delay_min;
  std::uniform_int_distribution<Duration::rep> d(p.delay_min.count(), p.delay_max.count());
  return Duration(d(rng_));
}

std::vector<Duration> Network::datagram_fate(std::size_t from, std::size_t to) {
  const LinkParams& p = link(from, to);
  std::vector<Duration> copies;
  // Draw in a fixed order whatever the outcome, so one link's settings do
  // not shift the random stream differently depending on earlier results.
  const bool lost_extra = extra_loss_ > 0.0 && coin() < extra_loss_;
  const bool lost_link = p.loss > 0.0 && coin() < p.loss;
  if (lost_extra || lost_link) return copies;
  copies.push_back(draw_delay(p));
  if (p.duplicate > 0.0 && coin() < p.duplicate) copies.push_back(draw_delay(p));
  return copies;
}

std::optional<Duration> Network::stream_leg(std::size_t from, std::size_t to, Duration limit,
                                            Duration rto) {
  const LinkParams& p = link(from, to);
  const double loss = 1.0 - (1.0 - p.loss) * (1.0 - extra_loss_);
  Duration total = draw_delay(p);
  Duration backoff = rto;
  while (loss > 0.0 && coin() < loss) {
    total += backoff;
    backoff *= 2;
    if (total > limit) return std::nullopt;
  }
  return total;
}

}  // namespace ringd::sim
