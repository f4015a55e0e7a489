// agent/http_client.h — one blocking request to the local agent's HTTP API,
// for the CLI subcommands (ringd members, drain, undrain, keyring).
#pragma once

#include <string>

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

}  // namespace ringd::agent
