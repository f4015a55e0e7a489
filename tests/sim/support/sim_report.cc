// tests/sim/support/sim_report.cc — see sim_report.h.
#include "support/sim_report.h"

#include <iostream>

namespace ringd::sim {
namespace {

bool g_failed = false;

void default_fail(const std::string& message) {
  g_failed = true;
  std::cerr << "[sim] FAILURE: " << message << '\n';
}
bool default_failed() { return g_failed; }

// Constant-initialized, so hooks installed by another file's dynamic
// initializer are never overwritten.
constinit ReportHooks g_hooks{&default_fail, &default_failed};

}  // namespace

void report_failure(const std::string& message) { g_hooks.fail(message); }
bool failure_reported() { return g_hooks.failed(); }

ReportHooks set_report_hooks(ReportHooks hooks) {
  const ReportHooks old = g_hooks;
  g_hooks = hooks;
  return old;
}

}  // namespace ringd::sim
