#include "agent/agent.h"

#include <malloc.h>

#include <chrono>
#include <csignal>
#include <random>

#include <spdlog/spdlog.h>

#include "agent/address.h"
#include "agent/gossip_driver.h"
#include "agent/event_handlers.h"
#include "agent/event_log.h"
#include "agent/http_server.h"
#include "agent/metrics_text.h"
#include "agent/resp_server.h"
#include "agent/ring_publisher.h"
#include "agent/service_check.h"
#include "agent/service_health.h"
#include "ring/big_array.h"

namespace ringd::agent {
namespace {

// How long membership must be quiet before the memory kept for the next
// ring rebuild is returned (only rings with arrays of 2 MB and up keep any:
// about 128 endpoints and more).
constexpr std::chrono::seconds kReleaseRingMemoryAfter{30};

std::vector<std::string> resolve_seeds(const std::vector<std::string>& join) {
  std::vector<std::string> seeds;
  for (const auto& text : join) {
    auto hp = split_host_port(text);
    auto addresses = resolve_all(*hp);
    if (addresses.empty()) spdlog::warn("seed {} does not resolve; skipping it", text);
    seeds.insert(seeds.end(), addresses.begin(), addresses.end());
  }
  if (!join.empty() && seeds.empty()) throw ConfigError("none of the --join seeds resolves");
  return seeds;
}

void log_event(const gossip::Event& e) {
  const auto& m = e.member;
  spdlog::info("member {} {} (address {}, service {}, incarnation {})", m.name, gossip::to_string(e.kind),
               m.address, m.service.empty() ? "none" : m.service, m.incarnation);
}

tcp::endpoint tcp_endpoint(const std::string& text) {
  auto ep = parse_endpoint(text);
  return tcp::endpoint(ep->address(), ep->port());
}

// Binds, turning a system error into a one-line ConfigError naming the flag.
template <typename F>
void bind_or_fail(const std::string& flag, const std::string& address, F&& bind) {
  try {
    bind();
  } catch (const boost::system::system_error& e) {
    throw ConfigError("--" + flag + " " + address + ": " + e.code().message());
  }
}

// Checks our service (service_check.h); a change of the checks' verdict is
// logged and gossiped (a drain, if any, still wins: ServiceHealth::state()).
std::unique_ptr<ServiceChecker> start_service_checks(asio::io_context& io, const AgentConfig& config,
                                                     ServiceHealth& health, GossipDriver& gossip) {
  auto checker = std::make_unique<ServiceChecker>(
      io, tcp_endpoint(config.service), config.service_check, [&](bool passed, const std::string& reason) {
        const gossip::ServiceState before = health.health();
        health.record(passed);
        if (!passed) SPDLOG_DEBUG("service {} check failed: {}", config.service, reason);
        if (health.health() == before) return;
        if (health.health() == gossip::ServiceState::kPassing) {
          spdlog::info("service {} is passing its checks; it takes keys", config.service);
        } else {
          spdlog::warn("service {} is failing its checks ({}); it leaves every ring", config.service, reason);
        }
        gossip.set_service_state(health.state());
      });
  checker->start();
  return checker;
}

}  // namespace

int run_agent(const AgentConfig& config) {
  // A write to a pipe whose reader is gone (an event handler that exits
  // without reading its stdin) must fail with EPIPE, not kill the agent.
  std::signal(SIGPIPE, SIG_IGN);
  asio::io_context io(1);
  // Caught from the start (handled once io runs): SIGTERM/SIGINT leave
  // gracefully, SIGHUP is logged and ignored.
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::signal_set hangups(io, SIGHUP);
  std::random_device entropy;
  std::uint64_t seed = (std::uint64_t{entropy()} << 32) ^ entropy();
  auto seeds = resolve_seeds(config.join);

  // Our service's health (agent/service_health.h): off the rings until its
  // first check passes, unless it is not checked at all.
  const bool checked = !config.service.empty() && config.service_check.kind != ServiceCheckSpec::Kind::kNone;
  ServiceHealth health(config.service_check.rise, config.service_check.fall);
  if (!checked) health.record(true);
  gossip::Config gossip_config = config.gossip;
  gossip_config.service_state = health.state();
  GossipDriver gossip(io, gossip_config, seed, config.security);
  RingPublisher publisher(ring_options(config));
  RespServerOptions resp_options;
  resp_options.unix_path = config.resp_unix;
  resp_options.max_clients = config.resp_max_clients;
  resp_options.timeout_s = config.resp_timeout_s;
  resp_options.threads = config.resp_threads;
  resp_options.max_output_buffer = config.resp_max_output_buffer;
  resp_options.busy_poll_us = config.resp_busy_poll_us;
  resp_options.password = config.requirepass;
  RespServer resp(io, publisher, std::move(resp_options));
  auto ready = [&] { return gossip.node().joined() && publisher.ready(); };
  // Every rebuild is timed for /metrics; true when a ring changed.
  LatencyHistogram rebuild_time;
  std::uint64_t rebuilds = 0;
  auto rebuild = [&] {
    const auto started = std::chrono::steady_clock::now();
    const bool changed = publisher.rebuild(gossip.node().members());
    rebuild_time.observe(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count()));
    rebuilds += changed ? 1 : 0;
    return changed;
  };

  EventLog event_log;  // for ringd monitor (GET /events)
  // --event-handler scripts (event_handlers.h), run off this thread.
  EventHandlers handlers(io, config.event_handlers, std::chrono::milliseconds(config.event_handler_timeout_ms));
  bool leaving = false;
  asio::steady_timer ready_timer(io);
  auto start_leave = [&] {
    if (leaving) return;
    leaving = true;
    ready_timer.cancel();
    gossip.leave(std::chrono::milliseconds(config.leave_timeout_ms), [&] {
      spdlog::info("left the cluster; exiting");
      io.stop();
    });
  };
  std::string log_level = config.log_level;
  // Re-reads the config file (same flags): applies the log level and tags,
  // names the settings that differ and wait for a restart. Throws
  // ConfigError, and then nothing changes.
  auto reload = [&]() -> nlohmann::json {
    bool help = false;
    const AgentConfig next = parse_agent_args(config.args, &help);
    nlohmann::json applied = nlohmann::json::array();
    if (next.log_level != log_level) {
      spdlog::set_level(spdlog::level::from_str(next.log_level));
      log_level = next.log_level;
      applied.push_back("log-level");
    }
    gossip::Tags tags = next.gossip.tags;
    gossip::Tags ours = gossip.node().self().tags;
    tags.erase(GossipSecurity::kKeyringTag);
    ours.erase(GossipSecurity::kKeyringTag);
    if (tags != ours) {
      if (!gossip.set_tags(tags)) throw ConfigError("the tags do not fit in the member metadata");
      applied.push_back("tags");
    }
    nlohmann::json restart = nlohmann::json::array();
    auto differs = [&](const char* name, bool changed) {
      if (changed) restart.push_back(name);
    };
    differs("node", next.node != config.node);
    differs("bind", next.bind != config.bind);
    differs("advertise", next.advertise != config.advertise);
    differs("service", next.service != config.service);
    differs("resp", next.resp != config.resp);
    differs("http", next.http != config.http);
    differs("ring", next.ring_mode != config.ring_mode || next.ring_points != config.ring_points ||
                        next.ring_probes != config.ring_probes);
    differs("keyring", next.security.keyring_file != config.security.keyring_file ||
                           next.security.label != config.security.label ||
                           next.security.verify_incoming != config.security.verify_incoming ||
                           next.security.verify_outgoing != config.security.verify_outgoing);
    spdlog::info("configuration reloaded: applied {}; needs a restart: {}", applied.dump(), restart.dump());
    return {{"applied", applied}, {"restart_needed", restart}};
  };

  ApiSources sources;
  sources.events = &event_log;
  sources.join = [&](std::vector<std::string> addresses) { return gossip.join(std::move(addresses)); };
  sources.force_leave = [&](const std::string& name) {
    const auto result = gossip.force_leave(name);
    spdlog::info("force-leave {} asked by the operator: {}", name, gossip::to_string(result));
    return result;
  };
  sources.set_tags = [&](gossip::Tags tags) -> std::optional<std::string> {
    if (auto problem = tags_problem(tags)) return problem;
    if (!gossip.set_tags(std::move(tags))) return std::string("the tags do not fit in the member metadata (512 bytes)");
    return std::nullopt;
  };
  sources.leave = [&] {
    spdlog::info("leave asked by the operator: leaving the cluster");
    // After the reply is written: post, so the HTTP answer goes out first.
    asio::post(io, start_leave);
  };
  sources.reload = reload;
  sources.node = &gossip.node();
  sources.ring = &publisher;
  sources.ready = ready;
  sources.security = &gossip.security();
  sources.drain = [&](bool drain) {
    if (health.drained() != drain) {
      health.set_drained(drain);
      spdlog::info("service {} {} by the operator; now {}", config.service, drain ? "drained" : "undrained",
                   gossip::to_string(health.state()));
      gossip.set_service_state(health.state());
    }
    return health.state();
  };
  std::unique_ptr<HttpServer> http;  // built below, once its metrics source exists
  sources.metrics = [&] {
    nlohmann::json gossip_counters = nlohmann::json::object();
    for (const auto& [name, value] : gossip.counters()) gossip_counters[name] = value;
    for (const auto& [name, value] : handlers.counters()) gossip_counters[name] = value;
    const auto& s = resp.stats();
    return nlohmann::json{
        {"gossip", gossip_counters},
        {"resp", {{"commands", s.commands.load()}, {"protocol_errors", s.protocol_errors.load()},
                  {"unknown_commands", s.unknown_commands.load()}, {"wrong_arity", s.wrong_arity.load()},
                  {"connections_accepted", resp.connections_accepted()},
                  {"connections_open", resp.connections_open()}}},
        {"http", {{"requests", http->requests()}, {"bad_requests", http->bad_requests()}}},
        {"ring", {{"nodes", publisher.current()->nodes().size()}, {"checksum", publisher.current()->checksum()}}}};
  };
  sources.prometheus = [&] {
    MetricsInputs in;
    in.counters = sources.metrics();
    in.counters["http"] = http->metrics();
    in.members = gossip.node().members();
    in.commands = resp.command_metrics();
    in.rings = publisher.rings();
    in.ring_rebuilds = rebuilds;
    in.ring_builds = publisher.builds();
    in.ring_rebuild_time = rebuild_time.snapshot();
    in.service = config.service;
    in.service_state = health.state();
    in.version = RINGD_VERSION;
    return prometheus_metrics(in);
  };
  http = std::make_unique<HttpServer>(io, sources);

  // Every listener is bound before we join: a port in use must stop us
  // before the cluster puts our service on its rings.
  auto bind = parse_endpoint(config.bind);
  bind_or_fail("bind", config.bind, [&] { gossip.bind(*bind); });
  bind_or_fail("http", config.http, [&] { http->start(tcp_endpoint(config.http)); });
  bind_or_fail("resp", config.resp, [&] { resp.bind(tcp_endpoint(config.resp)); });
  if (!config.resp_unix.empty()) bind_or_fail("resp-unix", config.resp_unix, [&] { resp.bind_unix(); });

  // The RESP port opens once we are joined and hold a ring, so nginx never
  // sees "no node" from an agent that simply has not heard the others yet.
  auto open_resp_if_ready = [&] {
    if (resp.listening() || !gossip.node().joined()) return;
    rebuild();
    resp.publish_members(gossip.node().members());
    bind_or_fail("resp", config.resp, [&] { resp.start(); });
    spdlog::info("joined; ring has {} nodes (checksum {}); RESP listening on {}",
                 publisher.current()->nodes().size(), publisher.current()->checksum(), config.resp);
  };

  // Rebuilds reuse the memory of the rings they replace (ring/big_array.h);
  // once membership has been quiet for a while it goes back to the kernel,
  // and so do the heap pages a join's burst of messages and state syncs
  // left free (malloc_trim: at N = 100 an idle agent's RSS fell by ~0.2 MB).
  asio::steady_timer release_timer(io);
  auto release_memory_when_quiet = [&] {
    release_timer.expires_after(kReleaseRingMemoryAfter);
    release_timer.async_wait([](boost::system::error_code ec) {
      if (ec) return;
      ring::release_cached_big_arrays();
      malloc_trim(0);
    });
  };

  auto on_events = [&](const std::vector<gossip::Event>& events) {
    handlers.on_events(events, gossip.node().self());
    for (const auto& e : events) {
      log_event(e);
      event_log.add({{"kind", "member"},
                     {"event", gossip::to_string(e.kind)},
                     {"member", e.member.name},
                     {"address", e.member.address},
                     {"service", e.member.service},
                     {"incarnation", e.member.incarnation}});
    }
    if (!publisher.ready()) return;
    resp.publish_members(gossip.node().members());
    if (rebuild()) {
      auto ring = publisher.current();
      spdlog::info("ring rebuilt: {} nodes, checksum {}", ring->nodes().size(), ring->checksum());
      event_log.add({{"kind", "ring"}, {"checksum", ring->checksum()}, {"nodes", ring->nodes().size()}});
      release_memory_when_quiet();
    }
  };

  gossip.start(seeds, on_events);

  std::unique_ptr<ServiceChecker> checker;
  if (checked) checker = start_service_checks(io, config, health, gossip);
  spdlog::info("ringd agent {} gossiping on {} (advertise {}), service {}, HTTP on {}", config.node, config.bind,
               config.advertise, config.service.empty() ? "none (router only)" : config.service, config.http);

  // Joining is driven by gossip; check readiness on a short timer until then.
  std::function<void()> wait_ready = [&] {
    open_resp_if_ready();
    if (resp.listening()) return;
    ready_timer.expires_after(std::chrono::milliseconds(10));
    ready_timer.async_wait([&](boost::system::error_code ec) {
      if (!ec) wait_ready();
    });
  };
  wait_ready();

  std::function<void()> wait_signal = [&] {
    signals.async_wait([&](boost::system::error_code ec, int signo) {
      if (ec) return;
      if (leaving) {
        spdlog::warn("second signal; exiting without waiting for the leave to spread");
        io.stop();
        return;
      }
      spdlog::info("signal {}: leaving the cluster", signo);
      start_leave();
      wait_signal();
    });
  };
  wait_signal();

  // SIGHUP (or ringd reload) re-reads the config file: the log level and
  // tags apply at once, the rest at the next restart.
  std::function<void()> wait_hangup = [&] {
    hangups.async_wait([&](boost::system::error_code ec, int) {
      if (ec) return;
      spdlog::info("SIGHUP: re-reading the configuration");
      try {
        reload();
      } catch (const std::exception& e) {
        spdlog::error("SIGHUP: the configuration was not reloaded: {}", e.what());
      }
      wait_hangup();
    });
  };
  wait_hangup();

  io.run();
  return 0;
}

}  // namespace ringd::agent
