// bench/gossip_calm_run.h — false deaths over a long simulated run: N
// members, loss on every link, and optionally one member paused once a
// minute (a different one each time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "gossip_sim_common.h"

namespace ringd::simbench {

struct CalmRun {
  // False deaths: dead events about members that were running and not
  // paused, and about a paused member when the verdict came too soon (see
  // run_calm) or at a later incarnation (after it had refuted).
  std::uint64_t dead_events = 0;
  std::uint64_t members_killed = 0;  // distinct (member, incarnation) wrongly declared dead
  std::uint64_t suspect_events = 0;
  std::uint64_t pauses = 0;
  // The paused member itself: pauses after which it was declared dead (by
  // at least one member, after it had been paused long enough), the dead
  // events that made up, and from its resume until every other member had it
  // alive again (only pauses where it was declared dead).
  std::uint64_t paused_declared_dead = 0;
  std::uint64_t paused_dead_events = 0;
  std::vector<double> back_alive_s;
  std::uint64_t not_back = 0;  // not alive everywhere again within the minute
  double wall_s = 0;
};

// Simulates `length` of an N-member cluster (seeded) at drop rate `loss`;
// with pause > 0, once a minute a random member stops for `pause`.
CalmRun run_calm(std::size_t n, std::uint64_t seed, Duration length, double loss, Duration pause);

}  // namespace ringd::simbench
