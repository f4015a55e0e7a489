// gossip/rtt.cc — see rtt.h.
#include "rtt.h"

#include <algorithm>

namespace ringd::gossip {

void RttEstimator::sample(Duration rtt) {
  if (rtt < Duration::zero()) rtt = Duration::zero();
  if (!has_sample()) {
    srtt_ = rtt;
    rttvar_ = rtt / 2;
    return;
  }
  const Duration err = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
  rttvar_ = (rttvar_ * 3 + err) / 4;
  srtt_ = (srtt_ * 7 + rtt) / 8;
}

Duration RttEstimator::timeout(Duration initial, Duration floor, Duration ceiling) const {
  if (!has_sample()) return initial;
  if (ceiling < floor) ceiling = floor;
  return std::clamp(srtt_ + rttvar_ * 4, floor, ceiling);
}

}  // namespace ringd::gossip
