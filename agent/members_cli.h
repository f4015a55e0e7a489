// agent/members_cli.h — CLI subcommands that read the cluster as the local
// agent sees it (members, lookup, ring, monitor), and drain/undrain.
#pragma once

#include <string>
#include <vector>

namespace ringd::agent {

// Each returns the process exit code: 0, 1 (the agent failed or refused),
// 2 (bad usage).
// `ringd members [-status S] [-format json]`: a table like `serf members`.
int run_members(const std::vector<std::string>& args);
// `ringd drain` (drain = true) and `ringd undrain`: POST /drain or /undrain
// on the local agent; prints the service's state after.
int run_drain(const std::vector<std::string>& args, bool drain);
// `ringd lookup KEY [-n N]`: the owner (and failover owners) of KEY.
int run_lookup(const std::vector<std::string>& args);
// `ringd ring`: every endpoint's share, and the service rings.
int run_ring(const std::vector<std::string>& args);
// `ringd monitor`: membership and ring events as they happen.
int run_monitor(const std::vector<std::string>& args);

}  // namespace ringd::agent
