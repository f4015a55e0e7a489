// tests/sim/support/sim_checker.h — invariants checked at every step of a
// simulation, and the convergence test for the end of one.
//
// The Cluster calls the checker after every delivered event (a datagram, a
// stream request, reply or error, or a timer) with the events the node just
// emitted, then once more for the node that ran. Checks, each configurable:
//   * incarnations: no member's incarnation ever goes down in any member's
//     view (a view resets when its owner restarts; a member the owner forgot
//     may come back at any incarnation);
//   * false deaths: a member that is running, can reach a majority of the
//     running members, and has not been touched by a fault for `grace`, is
//     never declared dead by a member it is connected to. A "fault" is what
//     the scenario says it is: crash, restart, cut, isolation, partition and
//     (unless pauses_are_faults is false) pause mark the members they touch;
//     loss, duplication and jitter never do, so a scenario that claims the
//     detector survives some loss turns this on and keeps the loss below
//     that level.
// Violations go to violations() and, when fail_on_violation, to
// report_failure (a test failure under GoogleTest).
//
// converged() is the end-of-run property: every running member is joined
// and sees exactly the running members as alive (or suspect), and all of them
// build the same ring (ring_checksum: the agent's rule, agent::ring_input) —
// the checksum the agent serves on /ring.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gossip/node.h"
#include "support/sim_loop.h"

namespace ringd::sim {

class Cluster;

struct CheckOptions {
  bool incarnations = true;
  // Look at the whole view of the member that just ran (O(n) per step), not
  // only at its events. Off for very large clusters.
  bool scan_views = true;
  bool false_deaths = false;
  bool pauses_are_faults = true;
  Duration grace = std::chrono::seconds(15);
  bool fail_on_violation = true;
};

class Checker {
 public:
  explicit Checker(CheckOptions options = {}) : options_(options) {}
  const CheckOptions& options() const { return options_; }
  void set_options(CheckOptions options) { options_ = options; }

  // Called by the Cluster.
  void on_event(const Cluster& c, std::size_t observer, const gossip::Event& e);
  void after_step(const Cluster& c, std::size_t observer);
  void on_restart(std::size_t i);

  const std::vector<std::string>& violations() const { return violations_; }
  std::uint64_t false_deaths() const { return false_deaths_; }
  std::uint64_t steps() const { return steps_; }

  // See above. `why` says what differs.
  static bool converged(const Cluster& c, std::string* why);
  // The checksum of the ring (db 0) an agent with the default ring options
  // would serve for `members`: the production rule, agent::ring_input()
  // (endpoints of alive and suspect members whose service is passing,
  // weighted by their "weight" tags).
  static std::string ring_checksum(const std::vector<gossip::Member>& members);
  // The same for member i's view.
  static std::string ring_checksum(const Cluster& c, std::size_t i);

 private:
  void violation(const Cluster& c, std::string what);
  void check_incarnation(const Cluster& c, std::size_t observer, const gossip::Member& m);

  CheckOptions options_;
  // Per observer: member name -> highest incarnation seen.
  std::vector<std::map<std::string, std::uint64_t, std::less<>>> seen_;
  std::vector<std::string> violations_;
  std::uint64_t false_deaths_ = 0;
  std::uint64_t steps_ = 0;
};

}  // namespace ringd::sim
