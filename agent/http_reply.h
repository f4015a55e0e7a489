// agent/http_reply.h — JSON responses for the HTTP API's handlers.
#pragma once

#include <string>

#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace ringd::agent {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

inline HttpResponse json_response(const HttpRequest& request, http::status status, const nlohmann::json& body) {
  HttpResponse response{status, request.version()};
  response.set(http::field::server, "ringd");
  response.set(http::field::content_type, "application/json");
  response.keep_alive(request.keep_alive());
  // Keys and member names are bytes, not always UTF-8 (a lookup of
  // "%FF", a name from the network): invalid sequences become U+FFFD
  // rather than an exception.
  response.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  response.prepare_payload();
  return response;
}

inline HttpResponse error_response(const HttpRequest& request, http::status status, const std::string& message) {
  return json_response(request, status, nlohmann::json{{"error", message}});
}

// 405 with the Allow header.
inline HttpResponse method_not_allowed(const HttpRequest& request, const char* allow) {
  const std::string use = std::string(allow) == "POST" ? "POST" : "GET";
  auto response = error_response(request, http::status::method_not_allowed, "method not allowed; use " + use);
  response.set(http::field::allow, allow);
  return response;
}

}  // namespace ringd::agent
