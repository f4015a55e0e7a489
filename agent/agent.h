// agent/agent.h — wires gossip, ring, RESP and HTTP together for `ringd agent`.
#pragma once

#include "agent/config.h"

namespace ringd::agent {

// Runs until SIGTERM/SIGINT (graceful leave, then returns 0). Throws
// ConfigError when an address cannot be bound or no seed resolves.
int run_agent(const AgentConfig& config);

}  // namespace ringd::agent
