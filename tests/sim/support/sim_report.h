// tests/sim/support/sim_report.h — how the simulator reports a broken run,
// without depending on a test framework.
//
// The simulator is used by GoogleTest executables (tests/sim) and by a plain
// benchmark program (bench/gossip_sim_bench). It reports problems (a stuck
// clock, an invariant violation) through two hooks. The defaults print to
// stderr and remember that something failed; sim_gtest.cc, compiled only
// into the test executables, points them at ADD_FAILURE and HasFailure.
#pragma once

#include <string>

namespace ringd::sim {

struct ReportHooks {
  void (*fail)(const std::string& message);
  bool (*failed)();
};

// Records a failure (gtest: a non-fatal test failure).
void report_failure(const std::string& message);
// Whether anything failed so far (gtest: in the current test).
bool failure_reported();
// Replaces the hooks; returns the previous ones.
ReportHooks set_report_hooks(ReportHooks hooks);

}  // namespace ringd::sim
