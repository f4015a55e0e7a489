#include "agent/http_api.h"
#include "agent/http_reply.h"
#include "agent/http_ui.h"

#include <charconv>

namespace ringd::agent {
using Json = nlohmann::json;

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Json nullable(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

}  // namespace

std::optional<std::string> url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::string> query_param(std::string_view target, std::string_view name) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    auto eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    if (key != name) continue;
    return url_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
  }
  return std::nullopt;
}

Json members_json(const gossip::Node& node) {
  Json members = Json::array();
  for (const auto& m : node.members()) {
    members.push_back({{"name", m.name},
                       {"address", m.address},
                       {"state", std::string(gossip::to_string(m.state))},
                       {"incarnation", m.incarnation},
                       {"service", nullable(m.service)},
                       {"service_health", m.service.empty() ? Json(nullptr)
                                                            : Json(std::string(gossip::to_string(m.service_state)))},
                       {"tags", m.tags}});
  }
  return {{"self", node.self().name}, {"members", members}};
}

Json ring_json(const ring::Ring& ring) {
  // Each node's fraction of the key space, and its weight where not 1.
  Json shares = Json::object();
  Json weights = Json::object();
  for (std::size_t i = 0; i < ring.nodes().size(); ++i) {
    shares[ring.nodes()[i]] = ring.shares()[i];
    if (ring.weights()[i] != 1) weights[ring.nodes()[i]] = ring.weights()[i];
  }
  Json out = {{"checksum", ring.checksum()},
              {"mode", std::string(ring::to_string(ring.mode()))},
              {"node_count", ring.nodes().size()},
              {"nodes", ring.nodes()},
              {"points", ring.point_count()},
              {"shares", shares}};
  if (ring.mode() == ring::Mode::kDefault) out["points_per_node"] = ring.options().points_per_node;
  if (ring.mode() == ring::Mode::kMaglev) out["table_size"] = ring.options().maglev_table_size;
  if (ring.mode() == ring::Mode::kMultiProbe) out["probes"] = ring.options().probes;
  out["weights"] = weights;  // only the nodes whose weight is not 1: {} when none
  return out;
}

// POST /drain and /undrain, from this host only.
HttpResponse handle_drain(const HttpRequest& request, const ApiSources& sources, bool local, bool drain) {
  if (request.method() != http::verb::post) {
    auto response = error_response(request, http::status::method_not_allowed, "method not allowed; use POST");
    response.set(http::field::allow, "POST");
    return response;
  }
  if (!local) return error_response(request, http::status::forbidden, "drain and undrain are for this host only");
  if (!sources.drain || sources.node->self().service.empty()) {
    return error_response(request, http::status::conflict, "this agent has no --service to drain");
  }
  const gossip::ServiceState state = sources.drain(drain);
  return json_response(request, http::status::ok,
                       {{"service", sources.node->self().service},
                        {"service_health", std::string(gossip::to_string(state))}});
}

Json keyring_json(const KeyringStatus& status) {
  Json keys = Json::array();
  for (const auto& k : status.keys) {
    keys.push_back({{"key", k.key},
                    {"fingerprint", k.fingerprint},
                    {"primary", k.primary},
                    {"installed_on", k.installed_on},
                    {"primary_on", k.primary_on},
                    {"peers_sealing", k.peers}});
  }
  return {{"keys", keys},
          {"members", status.members},
          {"plaintext_peers", status.plaintext_peers},
          {"peers_seen_within_seconds", GossipSecurity::kRecentSenders.count()},
          {"label", status.label},
          {"verify_incoming", status.verify_incoming},
          {"verify_outgoing", status.verify_outgoing}};
}

// GET /keyring; POST /keyring/install, /keyring/use, /keyring/remove with a
// body {"key": "<base64>", "force": false}. From this host only: the answer
// holds the keys. A change the other members are not ready for is a 409.
HttpResponse handle_keyring(const HttpRequest& request, const ApiSources& sources, bool local,
                            std::string_view path) {
  const bool list = path == "/keyring";
  const auto method = list ? http::verb::get : http::verb::post;
  if (request.method() != method && !(list && request.method() == http::verb::head)) {
    auto response = error_response(request, http::status::method_not_allowed,
                                   list ? "method not allowed; use GET" : "method not allowed; use POST");
    response.set(http::field::allow, list ? "GET, HEAD" : "POST");
    return response;
  }
  if (!local) return error_response(request, http::status::forbidden, "the keyring is for this host only");
  GossipSecurity* security = sources.security;
  if (security == nullptr || !security->has_keyring()) {
    return error_response(request, http::status::conflict,
                          "this agent gossips in plaintext: it was started without --keyring");
  }
  const auto now = GossipSecurity::Clock::now();
  const auto members = sources.node->members();
  if (list) return json_response(request, http::status::ok, keyring_json(security->status(now, members)));
  const Json body = Json::parse(request.body(), nullptr, false);
  if (!body.is_object() || !body.contains("key") || !body["key"].is_string()) {
    return error_response(request, http::status::bad_request, "expected a JSON body {\"key\": \"<base64 key>\"}");
  }
  const std::string key = body["key"].get<std::string>();
  if (body.contains("force") && !body["force"].is_boolean()) {
    return error_response(request, http::status::bad_request, "\"force\" must be true or false");
  }
  const bool force = body.value("force", false);
  bool changed = false;
  try {
    if (path == "/keyring/install") {
      changed = security->install(key);
    } else if (path == "/keyring/use") {
      changed = security->use(key, members, force);
    } else {
      changed = security->remove(key, members, force);
    }
  } catch (const KeyringConflict& e) {
    return error_response(request, http::status::conflict, e.what());
  } catch (const KeyringError& e) {
    return error_response(request, http::status::bad_request, e.what());
  } catch (const std::exception& e) {
    return error_response(request, http::status::internal_server_error, e.what());
  }
  Json out = keyring_json(security->status(now, sources.node->members()));
  out["changed"] = changed;
  return json_response(request, http::status::ok, out);
}

HttpResponse handle_api(const HttpRequest& request, const ApiSources& sources, bool local) {
  std::string_view target(request.target().data(), request.target().size());
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/drain" || path == "/undrain") return handle_drain(request, sources, local, path == "/drain");
  if (auto response = handle_operator(request, sources, local, path)) return std::move(*response);
  if (auto response = handle_ui(request, path)) return std::move(*response);
  if (path == "/keyring" || path == "/keyring/install" || path == "/keyring/use" || path == "/keyring/remove") {
    return handle_keyring(request, sources, local, path);
  }
  static const std::vector<std::string_view> paths = {"/members", "/ring",    "/lookup",
                                                      "/health",  "/metrics", "/metrics.json"};
  if (std::find(paths.begin(), paths.end(), path) == paths.end()) {
    return error_response(request, http::status::not_found, "no such path: " + std::string(path));
  }
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    auto response = error_response(request, http::status::method_not_allowed, "method not allowed; use GET");
    response.set(http::field::allow, "GET, HEAD");
    return response;
  }
  if (path == "/members") return json_response(request, http::status::ok, members_json(*sources.node));
  if (path == "/ring") {
    // The ring of every endpoint, and the service rings with their RESP
    // database numbers (SELECT n).
    const auto set = sources.ring->rings();
    Json body = ring_json(*set->all);
    Json services = Json::array();
    for (std::size_t i = 0; i < set->services.size(); ++i) {
      const ring::Ring& ring = *set->rings[i];
      services.push_back({{"db", i + 1}, {"name", set->services[i]}, {"checksum", ring.checksum()},
                          {"nodes", ring.nodes()}});
    }
    body["services"] = services;
    return json_response(request, http::status::ok, body);
  }
  if (path == "/health") {
    bool ready = sources.ready();
    return json_response(request, ready ? http::status::ok : http::status::service_unavailable,
                         {{"status", ready ? "ok" : "joining"}, {"self", sources.node->self().name}});
  }
  if (path == "/metrics.json" || (path == "/metrics" && !sources.prometheus)) {
    return json_response(request, http::status::ok, sources.metrics());
  }
  if (path == "/metrics") {
    HttpResponse response{http::status::ok, request.version()};
    response.set(http::field::server, "ringd");
    response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    response.keep_alive(request.keep_alive());
    response.body() = sources.prometheus();
    response.prepare_payload();
    return response;
  }
  // /lookup
  auto key = query_param(target, "key");
  if (!key) return error_response(request, http::status::bad_request, "missing or malformed query parameter: key");
  // Optional n: the failover list of up to n distinct nodes, owner first.
  std::size_t n = 0;
  if (auto text = query_param(target, "n")) {
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
    if (ec != std::errc() || end != text->data() + text->size() || n == 0) {
      return error_response(request, http::status::bad_request, "query parameter n must be a positive integer");
    }
  }
  auto ring = sources.ring->current();
  const std::string* node = ring->owner(*key);
  Json body = {{"key", *key}, {"node", node ? Json(*node) : Json(nullptr)}};
  if (n > 0) {
    Json nodes = Json::array();
    for (const std::string* owner : ring->owners(*key, n)) nodes.push_back(*owner);
    body["nodes"] = nodes;
  }
  return json_response(request, http::status::ok, body);
}

}  // namespace ringd::agent
