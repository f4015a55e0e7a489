// gossip/rtt.h — round-trip estimates that set direct probe timeouts.
//
// SWIM waits a fixed probe timeout for a direct ack before asking k relays.
// A fixed value must fit the slowest network the cluster may run on, so on a
// LAN with 0.1 ms round trips it wastes most of the probe period waiting.
// We measure instead, per member, as TCP does (Jacobson/Karels, RFC 6298):
//
//   first sample r:  srtt = r,   rttvar = r / 2
//   later samples:   rttvar = 3/4 rttvar + 1/4 |srtt - r|
//                    srtt   = 7/8 srtt   + 1/8 r
//   timeout = clamp(srtt + 4 * rttvar, floor, ceiling)
//
// Samples come from direct ping -> ack round trips only (a relayed ack says
// nothing about our link to the member). With no sample yet the caller uses
// its configured initial timeout. The timeout only decides when the indirect
// phase starts; a late direct ack still counts until the probe period ends,
// so a timeout that is too short costs a few ping-reqs, never a suspicion.
#pragma once

#include "node.h"

namespace ringd::gossip {

class RttEstimator {
 public:
  void sample(Duration rtt);
  bool has_sample() const { return rttvar_ >= Duration::zero(); }
  Duration srtt() const { return srtt_; }
  Duration rttvar() const { return rttvar_; }
  // srtt + 4 * rttvar clamped to [floor, ceiling] (ceiling < floor counts as
  // floor); `initial` when there is no sample yet.
  Duration timeout(Duration initial, Duration floor, Duration ceiling) const;

 private:
  Duration srtt_{};
  Duration rttvar_ = Duration(-1);  // negative until the first sample
};

}  // namespace ringd::gossip
