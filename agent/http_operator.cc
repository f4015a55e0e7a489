// agent/http_operator.cc — what `ringd join|leave|force-leave|tags|reload|
// monitor` ask of the local agent (see ApiSources in http_api.h).
#include <charconv>

#include "agent/address.h"
#include "agent/http_api.h"

namespace ringd::agent {
namespace {

using Json = nlohmann::json;

// The request's JSON object body; an empty body is {}.
std::optional<Json> body_object(const HttpRequest& request) {
  if (request.body().empty()) return Json::object();
  Json body = Json::parse(request.body(), nullptr, false);
  if (!body.is_object()) return std::nullopt;
  return body;
}

HttpResponse join(const HttpRequest& request, const ApiSources& sources, const Json& body) {
  if (!body.contains("addresses") || !body["addresses"].is_array() || body["addresses"].empty()) {
    return error_response(request, http::status::bad_request, R"(expected {"addresses": ["IP:PORT", ...]})");
  }
  std::vector<std::string> addresses;
  for (const auto& a : body["addresses"]) {
    // Names are resolved by the caller (ringd join): DNS would block the
    // thread that runs gossip.
    auto ep = a.is_string() ? parse_endpoint(a.get<std::string>()) : std::nullopt;
    if (!ep) return error_response(request, http::status::bad_request, "not an IP:PORT address: " + a.dump());
    addresses.push_back(format_endpoint(*ep));
    if (addresses.size() > 64) return error_response(request, http::status::bad_request, "at most 64 addresses");
  }
  const std::size_t asked = sources.join(addresses);
  return json_response(request, http::status::ok, {{"asked", asked}, {"addresses", addresses}});
}

HttpResponse force_leave(const HttpRequest& request, const ApiSources& sources, const Json& body) {
  if (!body.contains("name") || !body["name"].is_string()) {
    return error_response(request, http::status::bad_request, R"(expected {"name": "<member>"})");
  }
  const std::string name = body["name"].get<std::string>();
  const auto result = sources.force_leave(name);
  const auto status = result == gossip::Node::ForceLeave::kDone     ? http::status::ok
                      : result == gossip::Node::ForceLeave::kUnknown ? http::status::not_found
                                                                     : http::status::conflict;
  if (status != http::status::ok) return error_response(request, status, name + ": " + std::string(to_string(result)));
  return json_response(request, status, {{"name", name}, {"state", "left"}});
}

HttpResponse tags(const HttpRequest& request, const ApiSources& sources, const Json& body) {
  gossip::Tags next = sources.node->self().tags;
  next.erase(GossipSecurity::kKeyringTag);  // ringd's own; kept by the driver
  if (body.contains("set")) {
    if (!body["set"].is_object()) return error_response(request, http::status::bad_request, "\"set\" must be an object");
    for (const auto& [k, v] : body["set"].items()) {
      if (!v.is_string() || k.empty()) {
        return error_response(request, http::status::bad_request, "tags are non-empty keys with string values");
      }
      next[k] = v.get<std::string>();
    }
  }
  if (body.contains("delete")) {
    if (!body["delete"].is_array()) return error_response(request, http::status::bad_request, "\"delete\" must be a list");
    for (const auto& k : body["delete"]) {
      if (!k.is_string()) return error_response(request, http::status::bad_request, "\"delete\" lists tag names");
      next.erase(k.get<std::string>());
    }
  }
  if (auto refused = sources.set_tags(next)) return error_response(request, http::status::bad_request, *refused);
  return json_response(request, http::status::ok, {{"tags", sources.node->self().tags}});
}

HttpResponse events(const HttpRequest& request, const ApiSources& sources) {
  std::string_view target(request.target().data(), request.target().size());
  std::uint64_t since = 0;
  if (auto text = query_param(target, "since")) {
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), since);
    if (ec != std::errc() || end != text->data() + text->size()) {
      return error_response(request, http::status::bad_request, "query parameter since must be a whole number");
    }
  } else {
    since = sources.events->last();  // from now on
  }
  return json_response(request, http::status::ok, sources.events->since(since));
}

}  // namespace

std::optional<HttpResponse> handle_operator(const HttpRequest& request, const ApiSources& sources, bool local,
                                            std::string_view path) {
  if (path == "/events") {
    if (sources.events == nullptr) return std::nullopt;
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      return method_not_allowed(request, "GET, HEAD");
    }
    return events(request, sources);
  }
  const bool known = (path == "/join" && sources.join) || (path == "/force-leave" && sources.force_leave) ||
                     (path == "/tags" && sources.set_tags) || (path == "/leave" && sources.leave) ||
                     (path == "/reload" && sources.reload);
  if (!known) return std::nullopt;
  if (request.method() != http::verb::post) return method_not_allowed(request, "POST");
  if (!local) return error_response(request, http::status::forbidden, std::string(path.substr(1)) + " is for this host only");
  const auto body = body_object(request);
  if (!body) return error_response(request, http::status::bad_request, "the body must be a JSON object");
  if (path == "/join") return join(request, sources, *body);
  if (path == "/force-leave") return force_leave(request, sources, *body);
  if (path == "/tags") return tags(request, sources, *body);
  if (path == "/leave") {
    sources.leave();
    return json_response(request, http::status::ok, {{"leaving", true}});
  }
  try {
    return json_response(request, http::status::ok, sources.reload());
  } catch (const std::exception& e) {
    return error_response(request, http::status::bad_request, e.what());
  }
}

}  // namespace ringd::agent
