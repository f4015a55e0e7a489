// agent/http_api.h — the JSON HTTP API as a function: request in, response
// out, no I/O (http_server.cc does the sockets).
#pragma once

#include <functional>

#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "agent/gossip_security.h"
#include "agent/ring_publisher.h"
#include "gossip/node.h"

namespace ringd::agent {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// What the API reads. All pointers outlive the server.
struct ApiSources {
  const gossip::Node* node = nullptr;
  const RingPublisher* ring = nullptr;
  std::function<bool()> ready;                  // joined and ring built
  std::function<nlohmann::json()> metrics;      // GET /metrics.json: counters by component and reason
  std::function<std::string()> prometheus;      // GET /metrics: the Prometheus text format
  // POST /drain (true), /undrain (false): takes our service off the rings
  // or puts it back; returns its state after. Empty: no --service.
  std::function<gossip::ServiceState(bool drained)> drain;
  // GET /keyring, POST /keyring/install|use|remove with {"key": BASE64}:
  // the gossip keyring, from this host only (it shows the keys).
  GossipSecurity* security = nullptr;
};

// `local`: the request came from a loopback address (POSTs need it).
HttpResponse handle_api(const HttpRequest& request, const ApiSources& sources, bool local = true);

// "%41b+c" -> "Ab c"; nullopt on a bad escape.
std::optional<std::string> url_decode(std::string_view text);
// The decoded value of `name` in a query string, nullopt when absent.
std::optional<std::string> query_param(std::string_view target, std::string_view name);

nlohmann::json members_json(const gossip::Node& node);
nlohmann::json ring_json(const ring::Ring& ring);

}  // namespace ringd::agent
