// agent/http_api.h — the JSON HTTP API as a function: request in, response
// out, no I/O (http_server.cc does the sockets).
#pragma once

#include <functional>

#include <nlohmann/json.hpp>

#include "agent/event_log.h"
#include "agent/gossip_security.h"
#include "agent/http_reply.h"
#include "agent/ring_publisher.h"
#include "gossip/node.h"

namespace ringd::agent {


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
  // Operator requests (http_operator.cc), POST from this host only:
  // /join {"addresses": ["IP:PORT", ...]}, /force-leave {"name": N},
  // /tags {"set": {K: V}, "delete": [K]}, /leave, /reload. Empty: 404.
  std::function<std::size_t(std::vector<std::string>)> join;
  std::function<gossip::Node::ForceLeave(const std::string&)> force_leave;
  std::function<std::optional<std::string>(gossip::Tags)> set_tags;  // the refusal, or nullopt
  std::function<void()> leave;                                          // leaves, then the agent exits
  std::function<nlohmann::json()> reload;                               // throws std::exception when refused
  const EventLog* events = nullptr;                                     // GET /events?since=N
};

// The operator endpoints (http_operator.cc); nullopt when `path` is none of
// them.
std::optional<HttpResponse> handle_operator(const HttpRequest& request, const ApiSources& sources, bool local,
                                            std::string_view path);

// `local`: the request came from a loopback address (POSTs need it).
HttpResponse handle_api(const HttpRequest& request, const ApiSources& sources, bool local = true);

// "%41b+c" -> "Ab c"; nullopt on a bad escape.
std::optional<std::string> url_decode(std::string_view text);
// The decoded value of `name` in a query string, nullopt when absent.
std::optional<std::string> query_param(std::string_view target, std::string_view name);

nlohmann::json members_json(const gossip::Node& node);
nlohmann::json ring_json(const ring::Ring& ring);

}  // namespace ringd::agent
