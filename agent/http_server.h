// agent/http_server.h — Beast HTTP/1.1 listener serving handle_api().
#pragma once

#include "agent/asio.h"
#include "agent/http_api.h"

namespace ringd::agent {

class HttpServer {
 public:
  HttpServer(asio::io_context& io, ApiSources sources);
  void start(const tcp::endpoint& endpoint);  // throws boost::system::system_error
  void stop();

  std::uint64_t requests() const { return requests_; }
  std::uint64_t bad_requests() const { return bad_requests_; }

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(tcp::socket socket);

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  ApiSources sources_;
  std::uint64_t requests_ = 0;
  std::uint64_t bad_requests_ = 0;
};

}  // namespace ringd::agent
