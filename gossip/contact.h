// gossip/contact.h — whether our own network seems to work.
#pragma once

#include "node.h"

namespace ringd::gossip {

// Proof that our own network works both ways, for the "cut off" judgement
// (Node::Impl::expire_suspicions): when we last heard an ack or nack to one
// of our probes, or a stream reply, and how many probes in a row got no
// answer at all.
class Contact {
 public:
  void start(Time now) { last_ = now; }
  void heard(Time now) {
    last_ = now;
    silent_probes_ = 0;
  }
  void silent_probe() { ++silent_probes_; }
  // Three silent probes in a row, or nothing heard for three probe periods.
  bool cut_off(Time now, Duration probe_period) const {
    return silent_probes_ >= 3 || now - last_ > probe_period * 3;
  }

 private:
  Time last_{};
  int silent_probes_ = 0;
};

}  // namespace ringd::gossip
