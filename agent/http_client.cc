#include "agent/http_client.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace ringd::agent {
namespace beast = boost::beast;
namespace http = beast::http;

HttpAnswer http_request(const tcp::endpoint& endpoint, const std::string& method, const std::string& target,
                        const std::string& json_body) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(5));
  stream.connect(endpoint);
  http::request<http::string_body> request{http::string_to_verb(method), target, 11};
  request.set(http::field::host, "ringd");
  if (!json_body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = json_body;
  }
  request.prepare_payload();
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return {static_cast<int>(response.result_int()), response.body()};
}

}  // namespace ringd::agent
