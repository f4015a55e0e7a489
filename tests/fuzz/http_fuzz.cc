// libFuzzer target for the HTTP API: Beast's request parser, with the limits
// agent/http_server.cc sets (agent/http_limits.h: header and body), then
// agent::handle_api() on every request that parses. Built by
// tests/fuzz/CMakeLists.txt (clang, -fsanitize=fuzzer,address,undefined)
// and run by ctest as http_fuzz for a fixed time on tests/fuzz/corpus/http.
// By hand:
//
//   ./build/tests/fuzz/http_fuzz -max_len=8192 tests/fuzz/corpus/http
//
// Input: the bytes a client sends on one connection (pipelined requests
// are served in order, as the server's keep-alive loop does; requests
// alternate between a loopback peer and a remote one). Checks, besides
// "no crash, no sanitizer report, no exception out of handle_api" (it
// found one: a target that is not UTF-8 made the JSON dump throw, fixed in
// 62b764e):
//  * every response has a status, a JSON Content-Type and a body whose
//    Content-Length matches, and parses as JSON;
//  * POST /drain is never served to a remote peer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <boost/beast/http.hpp>

#include "agent/http_api.h"
#include "agent/http_limits.h"

namespace {

namespace agent = ringd::agent;
namespace gossip = ringd::gossip;
namespace http = boost::beast::http;

void check(bool ok) {
  if (!ok) std::abort();
}

gossip::Config agent_config() {
  gossip::Config c;
  c.name = "n1";
  c.advertise = "127.0.0.1:7946";
  c.service = "127.0.0.1:9001";
  c.tags = {{"zone", "a"}, {"service", "api"}};
  return c;
}

agent::SecurityConfig keyed() {
  agent::SecurityConfig c;
  c.keyring = agent::Keyring(agent::Key{1, 2, 3});
  return c;
}

// One agent that knows three members, two with services, and its rings.
struct World {
  gossip::Node node{agent_config(), 1};
  agent::RingPublisher publisher{ringd::ring::Options{.points_per_node = 16}};
  // A keyring in memory only (no file), so /keyring can change it.
  agent::GossipSecurity security{keyed()};
  agent::EventLog events;
  agent::ApiSources sources;
  bool drained = false;
  int drains = 0;

  World() {
    node.start(gossip::Time{}, {});
    publisher.rebuild(node.members());
    sources.node = &node;
    sources.ring = &publisher;
    sources.ready = [] { return true; };
    sources.security = &security;
    // The operator requests, inert: the fuzzer reaches their parsing.
    events.add({{"kind", "ring"}});
    sources.events = &events;
    sources.join = [](std::vector<std::string> a) { return a.size(); };
    sources.force_leave = [](const std::string&) { return gossip::Node::ForceLeave::kNotFailed; };
    sources.set_tags = [](gossip::Tags) -> std::optional<std::string> { return std::nullopt; };
    sources.leave = [] {};
    sources.reload = [] { return nlohmann::json::object(); };
    sources.metrics = [] { return nlohmann::json{{"http", {{"requests", 1}}}}; };
    sources.drain = [this](bool d) {
      drained = d;
      ++drains;
      return d ? gossip::ServiceState::kDraining : gossip::ServiceState::kPassing;
    };
  }
};

void check_response(const agent::HttpResponse& r) {
  check(static_cast<unsigned>(r.result_int()) >= 200 && r.result_int() < 600);
  check(r[http::field::content_length] == std::to_string(r.body().size()));
  // JSON everywhere but the dashboard (/ui, and / redirecting there).
  const auto type = r[http::field::content_type];
  if (type == "text/html; charset=utf-8" || type == "text/plain; charset=utf-8") {
    check(r.result() == http::status::ok || r.result() == http::status::found);
    return;
  }
  check(type == "application/json");
  check(nlohmann::json::accept(r.body()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;  // built once: the rings take a while
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  for (int index = 0; !rest.empty() && index < 16; ++index) {
    http::request_parser<http::string_body> parser;
    const agent::HttpLimits limits;  // as the server sets them
    parser.header_limit(static_cast<std::uint32_t>(limits.header_bytes));
    parser.body_limit(limits.body_bytes);
    parser.eager(true);
    boost::system::error_code ec;
    while (!rest.empty() && !parser.is_done()) {
      const std::size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
      rest.remove_prefix(used);
      if (ec == http::error::need_more) {
        // Incomplete: the server would read more and put() the unconsumed
        // bytes again with the new ones. Here no more come (put() again
        // with nothing new breaks Beast's contract: it asserts).
        ec = {};
        break;
      }
      if (ec) break;
    }
    if (!parser.is_done()) {
      // The end of the bytes ends a body that runs until the connection closes.
      if (!ec && parser.is_header_done()) parser.put_eof(ec);
      if (ec || !parser.is_done()) return 0;  // the server answers 400 and closes
    }
    const bool local = index % 2 == 0;
    const int drains_before = world.drains;
    const agent::HttpResponse response = agent::handle_api(parser.get(), world.sources, local);
    check_response(response);
    if (!local) check(world.drains == drains_before);
    if (!response.keep_alive()) return 0;
  }
  return 0;
}
