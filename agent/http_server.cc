#include "agent/http_server.h"

#include <array>
#include <sstream>

#include <boost/beast/core.hpp>
#include <spdlog/spdlog.h>

namespace ringd::agent {
namespace beast = boost::beast;

namespace {

// What the read of a keep-alive connection's next request asks for first.
constexpr std::size_t kFirstRead = 1024;
// At most one log line of a kind a client can cause per this.
constexpr auto kLogInterval = std::chrono::seconds(10);

// Every reason a request or connection is refused, each a /metrics counter.
constexpr std::array<std::string_view, 6> kReasons = {
    "rejected_malformed",      "rejected_header_too_large", "rejected_uri_too_long",
    "rejected_body_too_large", "rejected_slow_client",      "rejected_connection_limit"};

HttpResponse error_reply(http::status status, std::string_view message) {
  HttpResponse response{status, 11};
  response.set(http::field::server, "ringd");
  response.set(http::field::content_type, "application/json");
  response.keep_alive(false);
  response.body() = nlohmann::json{{"error", message}}.dump() + "\n";
  response.prepare_payload();
  return response;
}

// The 503 a connection over the cap gets, whole, written without waiting.
const std::string& over_capacity_reply() {
  static const std::string text = [] {
    HttpResponse response = error_reply(http::status::service_unavailable, "too many connections");
    response.set(http::field::retry_after, "1");
    std::ostringstream out;
    out << response;
    return out.str();
  }();
  return text;
}

// A transport error or a peer that went away, before or within a request:
// nothing to answer. Everything else from the parser is a bad request.
bool peer_gone(boost::system::error_code ec) {
  return ec.category() != make_error_code(http::error::end_of_stream).category() ||
         ec == http::error::end_of_stream || ec == http::error::partial_message;
}

HttpParseState parse_state(const http::request_parser<http::string_body>& parser) {
  const auto& request = parser.get();
  // The method string is set once the whole request line has been read.
  return {.start_line_read = !request.method_string().empty(),
          .header_done = parser.is_header_done(),
          .target_size = request.target().size()};
}

// After a rejection: stop sending, then read and drop what the client still
// sends (a body we refused, the rest of a request), within a time and byte
// budget, so that closing does not reset the connection under the answer.
asio::awaitable<void> lingering_close(beast::tcp_stream& stream, const HttpLimits& limits) {
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.expires_after(limits.linger_timeout);
  std::array<char, 4096> sink;
  for (std::size_t drained = 0; !ec && drained < limits.linger_bytes;) {
    drained += co_await stream.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
  }
  stream.close();
}

// HEAD gets the header GET would get (its Content-Length too), no body.
asio::awaitable<void> write_response(beast::tcp_stream& stream, HttpResponse& response, bool head,
                                     boost::system::error_code& ec) {
  if (!head) {
    co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
    co_return;
  }
  http::response_serializer<http::string_body> serializer{response};
  co_await http::async_write_header(stream, serializer, asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io, ApiSources sources, HttpLimits limits)
    : io_(io),
      acceptor_(io),
      sources_(std::move(sources)),
      limits_(limits),
      counters_(std::make_shared<Counters>()) {
  for (std::string_view reason : kReasons) counters_->rejected.emplace(reason, 0);
  // /metrics shows what the agent counts plus our counters in "http".
  if (sources_.metrics) {
    sources_.metrics = [inner = std::move(sources_.metrics), this] {
      nlohmann::json out = inner();
      if (out.is_object()) out["http"].update(metrics());
      return out;
    };
  }
}

nlohmann::json HttpServer::metrics() const {
  const Counters& c = *counters_;
  nlohmann::json out = {{"requests", c.requests},
                        {"bad_requests", c.bad_requests},
                        {"internal_errors", c.internal_errors},
                        {"connections_accepted", c.connections_accepted},
                        {"connections_open", c.connections_open},
                        {"max_connections", limits_.max_connections}};
  for (const auto& [reason, count] : c.rejected) out[reason] = count;
  return out;
}

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
  asio::steady_timer pause(io_);
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (!acceptor_.is_open()) co_return;
    if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory) {
      // Out of file descriptors or memory: the pending connection stays
      // queued, and accepting again at once would spin. Breathe first.
      pause.expires_after(std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (ec) continue;
    ++counters_->connections_accepted;
    if (counters_->connections_open >= limits_.max_connections) {
      refuse(socket);
      continue;
    }
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

// Over the cap: 503 and close, without waiting on the client, so a flood
// of connections costs the loop one accept and one write each.
void HttpServer::refuse(tcp::socket& socket) {
  ++counters_->rejected["rejected_connection_limit"];
  const auto now = std::chrono::steady_clock::now();
  if (now - last_cap_log_ >= kLogInterval) {
    last_cap_log_ = now;
    spdlog::warn("HTTP API: {} connections open, the limit; refusing new ones (503)", counters_->connections_open);
  }
  boost::system::error_code ignored;
  socket.non_blocking(true, ignored);
  // Whatever the client already sent is dropped first: closing a socket
  // with unread bytes resets it, and the client might miss the 503.
  std::array<char, 4096> sink;
  socket.read_some(asio::buffer(sink), ignored);
  socket.write_some(asio::buffer(over_capacity_reply()), ignored);
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

asio::awaitable<void> HttpServer::serve(tcp::socket socket) {
  const std::shared_ptr<Counters> counters = counters_;  // outlives `this` if need be
  ++counters->connections_open;
  struct OpenUntilReturn {
    Counters& c;
    ~OpenUntilReturn() { --c.connections_open; }
  } open{*counters};

  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer(limits_.read_buffer_bytes);
  for (bool first = true;; first = false) {
    boost::system::error_code ec;
    if (!first && buffer.size() == 0) {
      // Between requests a keep-alive connection may stay idle longer; the
      // request's own clock starts at its first byte.
      stream.expires_after(limits_.idle_timeout);
      const std::size_t n =
          co_await stream.async_read_some(buffer.prepare(kFirstRead), asio::redirect_error(asio::use_awaitable, ec));
      buffer.commit(n);
      if (ec) break;  // idle too long, or the client closed: a quiet close
    }
    stream.expires_after(limits_.request_timeout);
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits_.header_bytes));
    parser.body_limit(limits_.body_bytes);
    co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    std::optional<HttpRejection> rejection;
    if (!ec && parser.get().target().size() > limits_.target_bytes) {
      rejection = http_target_too_long();
    } else if (!ec) {
      co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec == beast::error::timeout) {
      // Too slow (slowloris), or a new connection that never spoke. The
      // socket is closed already; nobody would read an answer.
      ++counters->rejected["rejected_slow_client"];
      break;
    }
    if (ec && peer_gone(ec)) break;
    if (ec) rejection = http_rejection(ec, parse_state(parser), limits_);
    if (rejection) {
      ++counters->bad_requests;
      ++counters->rejected[std::string(rejection->counter)];
      HttpResponse reply = error_reply(rejection->status, rejection->message);
      stream.expires_after(limits_.write_timeout);
      co_await http::async_write(stream, reply, asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) co_await lingering_close(stream, limits_);
      break;
    }

    ++counters->requests;
    const HttpRequest& request = parser.get();
    boost::system::error_code peer_ec;
    const auto peer = stream.socket().remote_endpoint(peer_ec);
    const bool local = !peer_ec && peer.address().is_loopback();
    HttpResponse response;
    try {
      response = handle_api(request, sources_, local);
    } catch (const std::exception& e) {
      ++counters->internal_errors;
      const auto now = std::chrono::steady_clock::now();
      if (now - last_error_log_ >= kLogInterval) {
        last_error_log_ = now;
        const auto method = request.method_string();
        const auto target = request.target();
        spdlog::error("HTTP API: {} {} failed: {}", std::string_view(method.data(), method.size()),
                      std::string_view(target.data(), target.size()), e.what());
      }
      response = error_reply(http::status::internal_server_error, "internal error");
    }
    const bool keep = response.keep_alive();
    stream.expires_after(limits_.write_timeout);
    co_await write_response(stream, response, request.method() == http::verb::head, ec);
    if (ec || !keep) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace ringd::agent
