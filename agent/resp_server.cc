#include "agent/resp_server.h"

#include <spdlog/spdlog.h>

namespace ringd::agent {

std::optional<std::string> RingBackend::owner(std::string_view key) const {
  auto ring = publisher_.current();
  const std::string* node = ring->owner(key);
  if (node == nullptr) return std::nullopt;
  return *node;
}

RespServer::RespServer(asio::io_context& io, const RingPublisher& publisher)
    : io_(io), acceptor_(io), backend_(publisher) {}

void RespServer::start(const tcp::endpoint& endpoint) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(io_, accept_loop(), asio::detached);
}

void RespServer::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

asio::awaitable<void> RespServer::accept_loop() {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (!acceptor_.is_open()) co_return;
    if (ec) continue;  // e.g. EMFILE: drop this one, keep serving
    ++accepted_;
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> RespServer::serve(tcp::socket socket) {
  ++open_;
  resp::Session session(backend_, stats_);
  std::vector<char> in(16 * 1024);
  std::string out;
  for (;;) {
    boost::system::error_code ec;
    std::size_t n = co_await socket.async_read_some(asio::buffer(in), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    out.clear();
    bool keep = session.feed(std::string_view(in.data(), n), out);
    if (!out.empty()) {
      co_await asio::async_write(socket, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    if (!keep) break;
  }
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  --open_;
}

}  // namespace ringd::agent
