// agent/service_health.h — from check results to the state the agent gossips
// for its own service (gossip::ServiceState). Pure: no clock, no sockets;
// agent/service_check.cc feeds it.
//
//   unchecked --first pass--> passing --`fall` failures in a row--> failing
//       |                        ^                                     |
//       +--`fall` failures-------|------------------------------------>+
//                                +------`rise` passes in a row---------+
//
// A new service takes keys after its first passing check (no `rise` wait:
// it was never known good or bad), as Consul's checks start from nothing
// known. An operator's drain overrides every check until undrain; checks go
// on meanwhile, so undrain returns to what they last said.
#pragma once

#include "gossip/node.h"

namespace ringd::agent {

class ServiceHealth {
 public:
  ServiceHealth(int rise, int fall) : rise_(rise < 1 ? 1 : rise), fall_(fall < 1 ? 1 : fall) {}

  // One check result; returns state() after it.
  gossip::ServiceState record(bool passed) {
    using S = gossip::ServiceState;
    if (passed) {
      failures_ = 0;
      ++passes_;
      if (health_ == S::kUnchecked || (health_ == S::kFailing && passes_ >= rise_)) health_ = S::kPassing;
    } else {
      passes_ = 0;
      ++failures_;
      if (health_ != S::kFailing && failures_ >= fall_) health_ = S::kFailing;
    }
    return state();
  }

  void set_drained(bool drained) { drained_ = drained; }
  bool drained() const { return drained_; }

  // What to gossip: kDraining while drained, else the checks' verdict.
  gossip::ServiceState state() const { return drained_ ? gossip::ServiceState::kDraining : health_; }
  // The checks' verdict alone.
  gossip::ServiceState health() const { return health_; }

 private:
  int rise_;
  int fall_;
  int passes_ = 0;
  int failures_ = 0;
  gossip::ServiceState health_ = gossip::ServiceState::kUnchecked;
  bool drained_ = false;
};

}  // namespace ringd::agent
