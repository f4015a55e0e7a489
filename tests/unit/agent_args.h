// tests/unit/agent_args.h — parse `ringd agent` flags in tests.
#pragma once

#include <string>
#include <vector>

#include "agent/config.h"

namespace ringd::agent::testing {

inline AgentConfig parse(std::vector<std::string> args) {
  bool help = false;
  return parse_agent_args(args, &help);
}

// The ConfigError text, or "" when the flags parse.
inline std::string error_of(std::vector<std::string> args) {
  try {
    parse(std::move(args));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace ringd::agent::testing
