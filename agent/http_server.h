// agent/http_server.h — Beast HTTP/1.1 listener serving handle_api().
//
// One coroutine per connection on the agent's io_context. Untrusted input
// meets the limits of agent/http_limits.h: oversized or malformed requests
// get their 4xx and a close, slow clients are closed, connections over the
// cap are answered 503 and closed. Each refusal is counted by reason and
// added to the "http" object of the /metrics this server serves.
#pragma once

#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/asio.h"
#include "agent/http_api.h"
#include "agent/http_limits.h"

namespace ringd::agent {

class HttpServer {
 public:
  HttpServer(asio::io_context& io, ApiSources sources, HttpLimits limits = {});
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void start(const tcp::endpoint& endpoint);  // throws boost::system::system_error
  void stop();

  std::uint64_t requests() const { return counters_->requests; }
  // Requests answered 400, 413, 414 or 431 (the rejected_* counters but
  // slow clients and the connection cap).
  std::uint64_t bad_requests() const { return counters_->bad_requests; }
  // Every counter, for /metrics: requests, bad_requests, rejected_<reason>,
  // internal_errors (the API threw: answered 500), connections_accepted,
  // connections_open.
  nlohmann::json metrics() const;

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(tcp::socket socket);
  void refuse(tcp::socket& socket);  // over max_connections

  // Shared with every connection's coroutine, whose frame may outlive the
  // server when the io_context is torn down after it.
  struct Counters {
    std::uint64_t requests = 0;
    std::uint64_t bad_requests = 0;
    std::uint64_t internal_errors = 0;
    std::uint64_t connections_accepted = 0;
    std::uint64_t connections_open = 0;
    std::map<std::string, std::uint64_t, std::less<>> rejected;  // "rejected_<reason>" -> count
  };

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  ApiSources sources_;
  HttpLimits limits_;
  std::shared_ptr<Counters> counters_;
  std::chrono::steady_clock::time_point last_cap_log_{};    // rate limits of the two logs
  std::chrono::steady_clock::time_point last_error_log_{};  // a client can cause
};

}  // namespace ringd::agent
