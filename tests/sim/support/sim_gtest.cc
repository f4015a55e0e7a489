// tests/sim/support/sim_gtest.cc — routes simulator failures into GoogleTest
// (only the test executables compile this file; the benchmark does not).
#include <gtest/gtest.h>

#include "support/sim_report.h"

namespace ringd::sim {
namespace {

void gtest_fail(const std::string& message) { ADD_FAILURE() << message; }
bool gtest_failed() { return ::testing::Test::HasFailure(); }

const ReportHooks g_previous = set_report_hooks({&gtest_fail, &gtest_failed});

}  // namespace
}  // namespace ringd::sim
