// agent/members_cli.h — `ringd members`: the cluster as a running agent sees it.
#pragma once

#include <string>
#include <vector>

namespace ringd::agent {

// Fetches /members from the agent's HTTP API and prints a table like
// `serf members`. Returns the process exit code.
int run_members(const std::vector<std::string>& args);

}  // namespace ringd::agent
