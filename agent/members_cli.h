// agent/members_cli.h — `ringd members`: the cluster as a running agent sees it.
#pragma once

#include <string>
#include <vector>

namespace ringd::agent {

// Fetches /members from the agent's HTTP API and prints a table like
// `serf members`. Returns the process exit code.
int run_members(const std::vector<std::string>& args);
// `ringd drain` (drain = true) and `ringd undrain`: POST /drain or /undrain
// on the local agent; prints the service's state after.
int run_drain(const std::vector<std::string>& args, bool drain);

}  // namespace ringd::agent
