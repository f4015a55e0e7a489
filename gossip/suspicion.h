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

}  // namespace ringd::gossip
