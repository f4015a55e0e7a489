// gossip/awareness.h — Lifeguard's local health awareness (LHA).
//
// A member that misses acks may be the one at fault: its CPU is starved, its
// socket buffers overflow, its own network is lossy. Lifeguard (Dadgar,
// Phillips, Currey 2018, §4.1) keeps a small saturating score of how much
// this member distrusts itself and stretches its own probe interval and probe
// timeout by (score + 1), so a sick member probes less often, waits longer for
// answers, and so raises fewer false suspicions about healthy peers.
//
//   event                                            delta
//   probe acked (directly, via a relay, or over TCP)   -1
//   probe failed and some asked relay sent no nack     +1
//     (relays that nack could reach us but not the target: evidence against
//      the target, not against us, so a probe whose every relay nacked
//      counts 0)
//   we had to refute a suspicion or death about us     +1
//
// The score saturates in [0, max]. Pure value type: no clock, no I/O.
#pragma once

#include "node.h"

namespace ringd::gossip {

class Awareness {
 public:
  explicit Awareness(int max) : max_(max < 0 ? 0 : max) {}

  // Adds `delta` and clamps to [0, max].
  void apply(int delta);
  int score() const { return score_; }
  // d * (score + 1).
  Duration scale(Duration d) const { return d * (score_ + 1); }

  // The score change for a failed probe: +1 when fewer nacks came back
  // than relays were asked (including when no relay could be asked), else 0.
  static int failed_probe_delta(int relays_asked, int nacks_received);

 private:
  int max_;
  int score_ = 0;
};

}  // namespace ringd::gossip
