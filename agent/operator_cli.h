// agent/operator_cli.h — CLI subcommands that change the cluster through
// the local agent, in serf's shape: join, leave, force-leave, tags, reload.
#pragma once

#include <string>
#include <vector>

namespace ringd::agent {

// `ringd join ADDR...`: the agent syncs with each address (host names
// resolved here) and the command waits up to 5 s to see them as members.
int run_join(const std::vector<std::string>& args);
// `ringd leave`: the agent leaves the cluster gracefully and exits.
int run_leave(const std::vector<std::string>& args);
// `ringd force-leave NAME`: a failed member becomes left everywhere.
int run_force_leave(const std::vector<std::string>& args);
// `ringd tags [-set K=V]... [-delete K]...`: our tags, changed at run time.
int run_tags(const std::vector<std::string>& args);
// `ringd reload`: the agent re-reads its config file (as on SIGHUP).
int run_reload(const std::vector<std::string>& args);

}  // namespace ringd::agent
