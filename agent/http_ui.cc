#include "agent/http_ui.h"

namespace ringd::agent {

std::optional<HttpResponse> handle_ui(const HttpRequest& request, std::string_view path) {
  if (path != "/ui" && path != "/ui/" && path != "/") return std::nullopt;
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    return method_not_allowed(request, "GET, HEAD");
  }
  HttpResponse response{path == "/" ? http::status::found : http::status::ok, request.version()};
  response.set(http::field::server, "ringd");
  response.keep_alive(request.keep_alive());
  if (path == "/") {
    response.set(http::field::location, "/ui");
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.body() = "see /ui\n";
  } else {
    response.set(http::field::content_type, "text/html; charset=utf-8");
    // The page loads nothing from elsewhere and talks only to this agent.
    response.set("Content-Security-Policy",
                 "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
                 "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    response.set(http::field::cache_control, "no-cache");
    response.set("X-Content-Type-Options", "nosniff");
    response.body() = std::string(ui_page());
  }
  response.prepare_payload();
  return response;
}

}  // namespace ringd::agent
