// agent/http_client.h — one blocking request to the local agent's HTTP API,
// for the CLI subcommands (ringd members, drain, undrain, keyring).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/asio.h"

namespace ringd::agent {

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// One request, 5 s at most; throws std::exception (connect, read) on failure.
// A non-empty `json_body` is sent as application/json.
HttpAnswer http_request(const tcp::endpoint& endpoint, const std::string& method, const std::string& target,
                        const std::string& json_body = {});

// The flags every CLI subcommand takes: --help and --http. Returns the
// agent's HTTP endpoint, or an exit code (0 after --help, 2 on a bad flag).
// `usage_args` follows "usage: ringd NAME" in the help text.
struct AgentAddress {
  std::optional<tcp::endpoint> endpoint;
  std::string text;
  int exit_code = 0;
};
AgentAddress parse_agent_address(const std::vector<std::string>& args, const std::string& name,
                                 const std::string& about, const std::string& usage_args = {});

}  // namespace ringd::agent
