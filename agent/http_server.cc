#include "agent/http_server.h"

#include <boost/beast/core.hpp>

namespace ringd::agent {
namespace beast = boost::beast;

namespace {
constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr std::size_t kHeaderLimit = 8 * 1024;
constexpr std::size_t kBodyLimit = 4 * 1024;
}  // namespace

HttpServer::HttpServer(asio::io_context& io, ApiSources sources)
    : io_(io), acceptor_(io), sources_(std::move(sources)) {}

void HttpServer::start(const tcp::endpoint& endpoint) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen();
  asio::co_spawn(io_, accept_loop(), asio::detached);
}

void HttpServer::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

asio::awaitable<void> HttpServer::accept_loop() {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (!acceptor_.is_open()) co_return;
    if (ec) continue;
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> HttpServer::serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(kBodyLimit);
    stream.expires_after(kIdleTimeout);
    boost::system::error_code ec;
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof) break;
    if (ec) {
      ++bad_requests_;
      HttpResponse bad{http::status::bad_request, 11};
      bad.set(http::field::content_type, "application/json");
      bad.body() = "{\"error\":\"malformed HTTP request\"}\n";
      bad.keep_alive(false);
      bad.prepare_payload();
      co_await http::async_write(stream, bad, asio::redirect_error(asio::use_awaitable, ec));
      break;
    }
    ++requests_;
    boost::system::error_code peer_ec;
    const auto peer = stream.socket().remote_endpoint(peer_ec);
    const bool local = !peer_ec && peer.address().is_loopback();
    HttpResponse response = handle_api(parser.get(), sources_, local);
    bool keep = response.keep_alive();
    co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace ringd::agent
