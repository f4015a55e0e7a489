// agent/http_ui.h — GET /ui: the live dashboard (agent/ui/index.html,
// compiled into the binary), self-contained: no request leaves the agent.
#pragma once

#include <optional>
#include <string_view>

#include "agent/http_reply.h"

namespace ringd::agent {

// The page for /ui (and /ui/, and / which redirects there); nullopt for any
// other path.
std::optional<HttpResponse> handle_ui(const HttpRequest& request, std::string_view path);

// The page itself (generated from agent/ui/index.html at configure time).
std::string_view ui_page();

}  // namespace ringd::agent
