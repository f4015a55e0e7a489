// agent/config.h — the agent's settings: flags over an optional JSON file.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/event_handlers.h"
#include "agent/gossip_security.h"
#include "agent/service_check.h"
#include "gossip/node.h"
#include "ring/ring.h"

namespace ringd::agent {

// Bad flags or configuration; main prints what() on one line and exits 2.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct AgentConfig {
  std::string node;                // member name (default: host name)
  std::string bind = "127.0.0.1:7946";  // gossip UDP + TCP
  std::string advertise;           // defaults to bind
  std::vector<std::string> join;   // seeds, "host:port"
  std::string service;             // backend endpoint advertised on the ring
  ServiceCheckSpec service_check;  // how the agent checks it (service_check.h)
  std::string resp = "127.0.0.1:6380";
  std::string http = "127.0.0.1:7948";
  // RESP server (agent/resp_server.h).
  std::string resp_unix;               // --resp-unix PATH: also listen on a Unix socket
  std::size_t resp_max_clients = 10000;
  int resp_timeout_s = 0;              // idle clients closed after this; 0 = never
  int resp_threads = 1;                // I/O threads for RESP
  std::size_t resp_max_output_buffer = 32u << 20;
  int resp_busy_poll_us = 5;           // agent/busy_poll.h; 0 = never poll
  std::optional<std::string> requirepass;  // read from --requirepass-file
  std::string log_level = "info";
  std::uint32_t ring_points = ring::kDefaultPointsPerNode;  // --ring-points (default mode)
  ring::Mode ring_mode = ring::Mode::kDefault;                // --ring
  std::uint32_t maglev_table_size = ring::kDefaultMaglevTableSize;  // --maglev-table-size
  std::uint32_t ring_probes = ring::kDefaultMultiProbeProbes;       // --ring-probes (multiprobe mode)
  int leave_timeout_ms = 1000;     // longest graceful-leave wait
  gossip::Config gossip;           // timings; name/advertise/service filled in
  SecurityConfig security;         // --keyring (loaded and checked), --label, --verify-*
  std::vector<EventHandlerSpec> event_handlers;  // --event-handler
  int event_handler_timeout_ms = 60000;
  std::vector<std::string> args;   // the arguments parsed, for a reload (SIGHUP) to parse again
};

// Parses `ringd agent` arguments (argv after the subcommand). Throws
// ConfigError with a one-line message naming the problem. Sets *help when
// --help was asked for (the caller prints agent_usage()).
AgentConfig parse_agent_args(const std::vector<std::string>& args, bool* help);
std::string agent_usage();

// Why these tags (--tag, or set at run time) cannot be ours, e.g.
// "weight=0: the weight must be ..."; nullopt when they can.
std::optional<std::string> tags_problem(const gossip::Tags& tags);

// The ring options the flags describe (for RingPublisher).
ring::Options ring_options(const AgentConfig& config);

}  // namespace ringd::agent
