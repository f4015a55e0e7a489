// gossip/awareness.cc — see awareness.h.
#include "awareness.h"

#include <algorithm>

namespace ringd::gossip {

void Awareness::apply(int delta) { score_ = std::clamp(score_ + delta, 0, max_); }

int Awareness::failed_probe_delta(int relays_asked, int nacks_received) {
  if (relays_asked <= 0) return 1;
  return nacks_received < relays_asked ? 1 : 0;
}

}  // namespace ringd::gossip
