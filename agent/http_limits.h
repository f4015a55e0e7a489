// agent/http_limits.h — how much an HTTP API client may send, how slowly,
// and how many at once; and which status a request over a limit gets.
//
// The API answers small GETs (and bodiless POSTs) from people and tools on
// this host, so the limits are tight: nothing a real client sends comes
// near them, and 256 connections that each send as much and as slowly as
// allowed hold a few MB at most. The answers follow nginx and Go's
// net/http (what Consul serves with):
//
//   request line over header_bytes, or target over target_bytes  414
//   request line + fields over header_bytes                       431
//   body over body_bytes (Content-Length or chunked)              413
//   anything else the parser refuses                              400
//   a request not whole within request_timeout                    closed
//   a connection over max_connections                             503, closed
//
// Every rejection closes the connection (after the answer), as nginx does.
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

#include <boost/beast/http.hpp>

namespace ringd::agent {

struct HttpLimits {
  // Request line plus header fields, in bytes (Beast counts the request
  // line and the fields each against it, so a header is at most twice it).
  std::size_t header_bytes = 8 * 1024;
  // The request target (path and query); nginx and Go allow more, but
  // the longest real target here is /lookup with one key.
  std::size_t target_bytes = 2 * 1024;
  // The API takes no request bodies; 4 KiB leaves room for a client that
  // sends a small one anyway.
  std::size_t body_bytes = 4 * 1024;
  // What the read buffer of one connection may hold: a whole header and
  // body plus the start of a pipelined request.
  std::size_t read_buffer_bytes = 16 * 1024;
  // From a connection's accept, or from the first byte of a later request,
  // the whole request must arrive within this (Go's ReadHeaderTimeout,
  // nginx's client_header_timeout): a slowloris client that dribbles a
  // byte at a time is closed after it. A real client sends a request in
  // one packet.
  std::chrono::milliseconds request_timeout{5'000};
  // How long a keep-alive connection may wait, idle, for its next request.
  std::chrono::milliseconds idle_timeout{30'000};
  // How long a response may take to leave (a client that stops reading).
  std::chrono::milliseconds write_timeout{10'000};
  // After a rejection: how long, and how many bytes, the server keeps
  // reading (and discarding) so the client sees the answer instead of a
  // reset (nginx's lingering close).
  std::chrono::milliseconds linger_timeout{2'000};
  std::size_t linger_bytes = 64 * 1024;
  // Concurrent HTTP connections; one more is answered 503 and closed.
  std::size_t max_connections = 256;
};

// Why a request was refused before it reached the API: a status, its
// message and its /metrics counter.
struct HttpRejection {
  boost::beast::http::status status;
  std::string_view message;
  std::string_view counter;
};

// Where the parser was when it stopped.
struct HttpParseState {
  bool start_line_read = false;  // method, target and version known
  bool header_done = false;      // fields too
  std::size_t target_size = 0;
};

// The rejection for a parser error `ec` (an http::error). Transport errors
// and a peer that closes are not rejections: callers filter them.
inline HttpRejection http_rejection(boost::system::error_code ec, const HttpParseState& state,
                                    const HttpLimits& limits) {
  namespace http = boost::beast::http;
  // A full read buffer while the header is incomplete is a header over
  // the limit too (it cannot happen while read_buffer_bytes > header_bytes).
  const bool header_over =
      ec == http::error::header_limit || (ec == http::error::buffer_overflow && !state.header_done);
  if (header_over && (!state.start_line_read || state.target_size > limits.target_bytes)) {
    return {http::status::uri_too_long, "request line or target too long", "rejected_uri_too_long"};
  }
  if (header_over) {
    return {http::status::request_header_fields_too_large, "request header too large", "rejected_header_too_large"};
  }
  if (ec == http::error::body_limit || ec == http::error::buffer_overflow) {
    return {http::status::payload_too_large, "request body too large", "rejected_body_too_large"};
  }
  return {http::status::bad_request, "malformed HTTP request", "rejected_malformed"};
}

// The rejection of a request that parsed but whose target is too long.
inline HttpRejection http_target_too_long() {
  return {boost::beast::http::status::uri_too_long, "request line or target too long", "rejected_uri_too_long"};
}

}  // namespace ringd::agent
