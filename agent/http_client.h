// agent/http_client.h — one blocking request to the local agent's HTTP API,
// for the CLI subcommands (ringd members, drain, undrain).
#pragma once

#include <string>

#include "agent/asio.h"

namespace ringd::agent {

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// One request, 5 s at most; throws std::exception (connect, read) on failure.
HttpAnswer http_request(const tcp::endpoint& endpoint, const std::string& method, const std::string& target);

}  // namespace ringd::agent
