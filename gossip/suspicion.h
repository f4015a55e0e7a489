// gossip/suspicion.h — suspicion timeouts as pure functions.
//
// A member that misses a probe becomes suspect; if nobody refutes the
// suspicion before its timeout, it is declared dead. The timeout grows with
// the cluster size, but only half as fast as SWIM's log10(n): of the two
// things a refutation needs, only one depends on n. The suspect hears of the
// suspicion from the next member that probes it (the buddy rule: the ping
// carries the Suspect), about one probe period later whatever n is; its
// Alive then spreads in about log(n) gossip rounds. So
//
//   min_timeout = suspicion_mult * max(1, (1 + log10(n)) / 2) * probe_interval
//
// (1x at n = 10, 1.5x at 100, 2x at 1000, where SWIM's scale gives 1, 2, 3).
//
// Lifeguard (Dadgar et al., 2018) makes the timeout start higher and shrink
// as other members independently confirm the suspicion, so a lone member
// with a slow network cannot kill a healthy peer quickly, while a really
// dead member is declared dead about as fast as plain SWIM would:
//
//   max_timeout = max_mult * min_timeout
//   timeout(c)  = max(min, max - (max - min) * log(c + 1) / log(k + 1))
//
// where c is the number of independent confirmations received so far and k
// the number expected. With k == 0 the timeout is min_timeout at once.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "node.h"

namespace ringd::gossip {

// suspicion_mult * max(1, (1 + log10(n)) / 2) * probe_interval; n = known live members
// (including self). n < 1 counts as 1; mult < 1 counts as 1.
Duration suspicion_timeout(int suspicion_mult, std::size_t n, Duration probe_interval);

// How many independent confirmations a suspicion waits for before its
// timeout reaches the minimum: k = indirect_checks (the paper's K; each
// confirmation is another member whose own probe, direct and indirect,
// failed), but 0 when the cluster is too small to supply them (n - 2 < k:
// besides the suspect and the first accuser nobody else could confirm).
int expected_confirmations(int indirect_checks, std::size_t n);

// Total suspicion timeout after `confirmations` of `expected` confirmations.
// Never below `min`, never above `max` (max < min counts as min).
Duration suspicion_timeout_after(int confirmations, int expected, Duration min, Duration max);

// Time left until the suspicion fires, given the time `elapsed` since it
// started; negative or zero means it is due.
Duration remaining_suspicion_time(int confirmations, int expected, Duration elapsed,
                                  Duration min, Duration max);

// One member's suspicion, from the first accusation until the member is
// alive, dead or gone again (the table then drops it). It owns the
// Lifeguard bookkeeping; the SWIM rules (node_rules.cc, node_timers.cc)
// decide when to start, confirm, hold or end one.
class Suspicion {
 public:
  // Accused at `now` by `accuser` (a member name; may be empty), with n live
  // members known (self included): the timeout bounds and the confirmations
  // to wait for are fixed here, from cfg.
  Suspicion(Time now, std::string accuser, std::size_t n, const Config& cfg);

  // When the member is declared dead unless refuted, held or confirmed.
  Time deadline() const { return deadline_; }
  Duration max_timeout() const { return max_; }
  int expected_confirmations() const { return expected_; }
  // Distinct confirmers besides the accuser.
  int confirmations() const { return static_cast<int>(confirmers_.size()) - 1; }
  // Somebody besides the accuser confirmed it, or nobody could (expected 0).
  bool confirmed() const { return expected_ == 0 || confirmers_.size() > 1; }
  // Whether another confirmation by `from` would count: not empty, not a
  // member already counted, and fewer than expected so far.
  bool wants(const std::string& from) const;
  // Counts `from` (wants(from) must hold) and shrinks the deadline.
  void confirm(std::string from);
  // Contact came back after we were cut off: the clock restarts, and the
  // deadline never moves earlier.
  void restart(Time now);
  // Held instead of ending (cut off, or unconfirmed): the longest timeout
  // again from now. The suspicion's origin stays.
  void hold(Time now);
  // Held for `factor` times the longest timeout since the first accusation.
  bool held_too_long(Time now, int factor) const { return now - origin_ >= max_ * factor; }

 private:
  Time start_{};
  Time origin_{};  // the first accusation; kept across holds and restarts
  Time deadline_{};
  Duration min_{};
  Duration max_{};
  int expected_ = 0;
  // The accuser (first entry), then distinct confirmers; at most
  // expected_ + 1 entries.
  std::vector<std::string> confirmers_;
};

}  // namespace ringd::gossip
