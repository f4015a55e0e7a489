#include "agent/config.h"

#include <charconv>
#include <climits>
#include <fstream>
#include <sstream>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "agent/address.h"
#include "gossip/node.h"
#include "gossip/profiles.h"

namespace ringd::agent {
namespace po = boost::program_options;
using Json = nlohmann::json;

namespace {

po::options_description agent_options() {
  po::options_description desc("ringd agent options");
  desc.add_options()
      ("help,h", "show this help")
      ("config", po::value<std::string>(), "JSON config file; flags override it")
      ("node", po::value<std::string>(), "member name, unique in the cluster (default: host name)")
      ("bind", po::value<std::string>(), "gossip address IP:PORT, UDP and TCP (default 127.0.0.1:7946)")
      ("advertise", po::value<std::string>(), "IP:PORT other members reach us at (default: --bind)")
      ("join", po::value<std::vector<std::string>>(), "seed HOST:PORT; repeat for more")
      ("service", po::value<std::string>(), "backend IP:PORT this host puts on the ring (omit for a router-only member)")
      ("service-check", po::value<std::string>(), "how to check --service: tcp (connect), http:/PATH (GET, 2xx), none (default tcp)")
      ("service-check-interval-ms", po::value<long long>(), "time between two checks (default 250)")
      ("service-check-timeout-ms", po::value<long long>(), "longest a check may take, at most the interval (default 200)")
      ("service-check-rise", po::value<long long>(), "passing checks in a row that put a failing service back (default 2)")
      ("service-check-fall", po::value<long long>(), "failing checks in a row that take the service off the rings (default 2)")
      ("resp", po::value<std::string>(), "RESP listener IP:PORT (default 127.0.0.1:6380)")
      ("http", po::value<std::string>(), "HTTP API listener IP:PORT (default 127.0.0.1:7948)")
      ("resp-unix", po::value<std::string>(), "also serve RESP on this Unix socket path")
      ("resp-max-clients", po::value<long long>(), "most RESP connections at once (default 10000)")
      ("resp-timeout", po::value<long long>(), "close RESP clients idle this many seconds; 0 = never (default 0)")
      ("resp-threads", po::value<long long>(), "RESP I/O threads, apart from the gossip thread (default 1)")
      ("resp-max-output-buffer", po::value<long long>(), "unsent reply bytes before a RESP client is dropped (default 33554432)")
      ("resp-busy-poll-us", po::value<long long>(), "poll up to this many microseconds before sleeping, for clients that wait for each reply; 0 = never (default 5)")
      ("requirepass-file", po::value<std::string>(), "file holding the RESP password (AUTH); none by default")
      ("log-level", po::value<std::string>(), "trace|debug|info|warn|error|off (default info)")
      ("ring", po::value<std::string>(), "ring scheme: default|multiprobe|maglev|nginx|ketama (default: default)")
      ("ring-points", po::value<long long>(), "virtual nodes per service endpoint, default ring (default 1024)")
      ("maglev-table-size", po::value<long long>(), "Maglev table size, a prime (default 65537)")
      ("ring-probes", po::value<long long>(), "probes per key, multiprobe ring, 1-64 (default 13)")
      ("tag", po::value<std::vector<std::string>>(), "member tag KEY=VALUE, repeatable (weight=N sets the ring weight)")
      ("profile", po::value<std::string>(), "gossip timings: lan|wan|local (default lan); the flags below override it")
      ("probe-interval-ms", po::value<long long>(), "SWIM probe period (lan: 300)")
      ("probe-timeout-ms", po::value<long long>(), "first direct probe timeout, before round trips are measured (lan: 80)")
      ("suspicion-mult", po::value<long long>(), "suspicion timeout multiplier (lan: 4)")
      ("gossip-interval-ms", po::value<long long>(), "gossip fan-out period (lan: 100)")
      ("push-pull-interval-ms", po::value<long long>(), "full-state sync period (lan: 30000)")
      ("leave-timeout-ms", po::value<long long>(), "longest wait for a graceful leave to spread (default 1000)")
      ("event-handler", po::value<std::vector<std::string>>(), "[EVENTS=]SCRIPT run by /bin/sh on membership events (member-join, member-leave, member-failed, member-update; comma list); repeatable")
      ("event-handler-timeout-ms", po::value<long long>(), "kill an event handler running longer than this (default 60000)")
      ("keyring", po::value<std::string>(), "encrypt gossip: a JSON array of base64 32-byte keys, the first the primary (mode 0600; see ringd keygen)")
      ("label", po::value<std::string>(), "cluster label, authenticated with every sealed message: clusters with other labels never merge (needs --keyring)")
      ("verify-incoming", po::value<std::string>(), "with --keyring, drop plaintext gossip: true|false (default true; false while moving a cluster to encryption)")
      ("verify-outgoing", po::value<std::string>(), "with --keyring, seal what we send: true|false (default true; false while moving a cluster to encryption)");
  return desc;
}

// The JSON file uses the flag names, with '-' or '_'.
const std::vector<std::string>& known_keys() {
  static const std::vector<std::string> keys = {
      "node", "bind", "advertise", "join", "service", "service-check", "service-check-interval-ms",
      "service-check-timeout-ms", "service-check-rise", "service-check-fall", "resp", "http", "resp-unix", "resp-max-clients",
      "resp-timeout", "resp-threads", "resp-max-output-buffer", "resp-busy-poll-us", "requirepass-file", "log-level", "ring", "ring-points", "maglev-table-size", "ring-probes",
      "tag", "profile", "probe-interval-ms", "probe-timeout-ms", "suspicion-mult", "gossip-interval-ms",
      "push-pull-interval-ms", "leave-timeout-ms", "event-handler", "event-handler-timeout-ms", "keyring", "label", "verify-incoming", "verify-outgoing"};
  return keys;
}

Json load_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read config file " + path);
  std::stringstream text;
  text << in.rdbuf();
  Json doc = Json::parse(text.str(), nullptr, false);
  if (doc.is_discarded()) throw ConfigError("config file " + path + " is not valid JSON");
  if (!doc.is_object()) throw ConfigError("config file " + path + " must hold a JSON object");
  Json normalized = Json::object();
  for (auto& [key, value] : doc.items()) {
    std::string name = key;
    std::replace(name.begin(), name.end(), '_', '-');
    if (std::find(known_keys().begin(), known_keys().end(), name) == known_keys().end()) {
      throw ConfigError("config file " + path + ": unknown key \"" + key + "\"");
    }
    normalized[name] = value;
  }
  return normalized;
}

// Reads one setting: the flag if given, else the file's key, else keeps `out`.
template <typename T>
void pick(const po::variables_map& vm, const Json& file, const std::string& name, T& out) {
  if (vm.count(name)) {
    out = vm[name].as<T>();
    return;
  }
  if (!file.contains(name)) return;
  const Json& v = file[name];
  if constexpr (std::is_same_v<T, std::string>) {
    if (!v.is_string()) throw ConfigError("config key \"" + name + "\" must be a string");
    out = v.get<std::string>();
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    if (v.is_string()) {
      out = {v.get<std::string>()};
      return;
    }
    if (!v.is_array()) throw ConfigError("config key \"" + name + "\" must be a list of strings");
    out.clear();
    for (const auto& item : v) {
      if (!item.is_string()) throw ConfigError("config key \"" + name + "\" must be a list of strings");
      out.push_back(item.get<std::string>());
    }
  } else {
    static_assert(std::is_same_v<T, long long>);
    if (!v.is_number_integer()) throw ConfigError("config key \"" + name + "\" must be an integer");
    if (v.is_number_unsigned() && v.get<unsigned long long>() > static_cast<unsigned long long>(LLONG_MAX)) {
      throw ConfigError("config key \"" + name + "\" is out of range");
    }
    out = v.get<long long>();
  }
}

// A true|false setting: a flag's word, or a JSON boolean in the file.
void pick_bool(const po::variables_map& vm, const Json& file, const std::string& name, bool& out) {
  std::string text;
  if (vm.count(name)) {
    text = vm[name].as<std::string>();
  } else if (file.contains(name)) {
    if (!file[name].is_boolean()) throw ConfigError("config key \"" + name + "\" must be true or false");
    out = file[name].get<bool>();
    return;
  } else {
    return;
  }
  if (text != "true" && text != "false") throw ConfigError("--" + name + " " + text + ": expected true or false");
  out = text == "true";
}

// Every numeric setting has a range, checked before anything starts (a
// negative --ring-points used to wrap around to four billion points).
struct IntRange {
  long long min;
  long long max;
};

// Reads a numeric setting into `out` (left alone when not given) after
// checking it against `range`.
template <typename T>
void pick_int(const po::variables_map& vm, const Json& file, const std::string& name, IntRange range, T& out) {
  long long value = 0;
  bool given = vm.count(name) > 0 || file.contains(name);
  if (!given) return;
  pick(vm, file, name, value);
  if (value < range.min || value > range.max) {
    throw ConfigError("--" + name + " must be " + std::to_string(range.min) + " to " + std::to_string(range.max) +
                      ", got " + std::to_string(value));
  }
  out = static_cast<T>(value);
}

void require_ip_endpoint(const std::string& flag, const std::string& value) {
  if (!parse_endpoint(value)) {
    throw ConfigError("--" + flag + " " + (value.empty() ? "\"\"" : value) +
                      ": expected IP:PORT (IPv6 as [addr]:port)");
  }
}

// The first line of the file, without its line end (like redis.conf's
// requirepass, the password cannot hold a newline). Empty: an error.
std::string read_password_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("--requirepass-file " + path + ": cannot read it");
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) throw ConfigError("--requirepass-file " + path + ": the first line (the password) is empty");
  if (line.size() > 4096) throw ConfigError("--requirepass-file " + path + ": password longer than 4096 bytes");
  return line;
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "ringd";
  return buf;
}

}  // namespace

std::optional<std::string> tags_problem(const gossip::Tags& tags) {
  if (tags.count(GossipSecurity::kKeyringTag)) {
    return std::string("keyring=...: the tag keyring is ringd's own (the fingerprints of the --keyring keys)");
  }
  if (auto weight = tags.find("weight"); weight != tags.end()) {
    // Others clamp what they receive (weight_from_tags); our own must be right.
    const std::string& text = weight->second;
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 1 ||
        value > ring::kMaxWeight) {
      return "weight=" + text + ": the weight must be a whole number 1 to " + std::to_string(ring::kMaxWeight) +
             " (to take a service off the ring, run without --service)";
    }
  }
  return std::nullopt;
}

ring::Options ring_options(const AgentConfig& config) {
  return ring::Options{.points_per_node = config.ring_points,
                       .mode = config.ring_mode,
                       .maglev_table_size = config.maglev_table_size,
                       .probes = config.ring_probes};
}

std::string agent_usage() {
  std::ostringstream out;
  out << "usage: ringd agent [--node NAME] [--bind IP:PORT] [--join HOST:PORT ...] [--advertise IP:PORT]\n"
         "                   [--service IP:PORT] [--tag KEY=VALUE ...] [--resp IP:PORT] [--http IP:PORT]\n"
         "                   [--config FILE] [--log-level LEVEL] [more flags below]\n\n"
         "Every flag is optional. The first agent starts alone (no --join); the others\n"
         "--join any running member. Names must be unique in the cluster.\n\n"
      << agent_options();
  return out.str();
}

AgentConfig parse_agent_args(const std::vector<std::string>& args, bool* help) {
  po::variables_map vm;
  try {
    const auto desc = agent_options();  // `parsed` points into it
    auto parsed = po::command_line_parser(args).options(desc).run();
    for (const auto& option : parsed.options) {
      // Without declared positional options these are words that belong to
      // no flag, e.g. a value given to a flag that takes none.
      if (option.position_key >= 0 || option.string_key.empty()) {
        throw ConfigError("unexpected argument '" + (option.value.empty() ? std::string() : option.value.front()) +
                          "' (every setting is a --flag VALUE pair; see ringd agent --help)");
      }
    }
    po::store(parsed, vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw ConfigError(e.what());
  }
  *help = vm.count("help") > 0;
  if (*help) return {};

  Json file = Json::object();
  if (vm.count("config")) file = load_json(vm["config"].as<std::string>());

  AgentConfig c;
  c.args = args;
  c.node = host_name();
  // Timings: the profile's, each overridable (-1 = not given).
  std::string profile = "lan";
  long long probe_interval = -1, probe_timeout = -1, gossip_interval = -1, push_pull = -1, suspicion_mult = -1;
  std::vector<std::string> tags;
  pick(vm, file, "node", c.node);
  pick(vm, file, "bind", c.bind);
  pick(vm, file, "advertise", c.advertise);
  pick(vm, file, "join", c.join);
  pick(vm, file, "service", c.service);
  std::string service_check = "tcp";
  pick(vm, file, "service-check", service_check);
  std::string why;
  if (auto spec = parse_service_check(service_check, &why)) {
    c.service_check = *spec;
  } else {
    throw ConfigError("--service-check " + service_check + ": " + why);
  }
  long long check_interval = 250, check_timeout = 200;
  pick_int(vm, file, "service-check-interval-ms", {10, 60000}, check_interval);
  pick_int(vm, file, "service-check-timeout-ms", {1, 60000}, check_timeout);
  pick_int(vm, file, "service-check-rise", {1, 100}, c.service_check.rise);
  pick_int(vm, file, "service-check-fall", {1, 100}, c.service_check.fall);
  if (check_timeout > check_interval) {
    throw ConfigError("--service-check-timeout-ms " + std::to_string(check_timeout) +
                      " must not exceed --service-check-interval-ms " + std::to_string(check_interval));
  }
  c.service_check.interval = std::chrono::milliseconds(check_interval);
  c.service_check.timeout = std::chrono::milliseconds(check_timeout);
  pick(vm, file, "resp", c.resp);
  pick(vm, file, "http", c.http);
  pick(vm, file, "resp-unix", c.resp_unix);
  pick_int(vm, file, "resp-max-clients", {1, 1000000}, c.resp_max_clients);
  pick_int(vm, file, "resp-timeout", {0, 31536000}, c.resp_timeout_s);
  pick_int(vm, file, "resp-threads", {1, 64}, c.resp_threads);
  pick_int(vm, file, "resp-max-output-buffer", {1024, 4LL << 30}, c.resp_max_output_buffer);
  pick_int(vm, file, "resp-busy-poll-us", {0, 1000}, c.resp_busy_poll_us);
  std::string requirepass_file;
  pick(vm, file, "requirepass-file", requirepass_file);
  if (!requirepass_file.empty()) c.requirepass = read_password_file(requirepass_file);
  pick(vm, file, "log-level", c.log_level);
  std::string ring_mode = std::string(ring::to_string(c.ring_mode));
  pick(vm, file, "ring", ring_mode);
  pick_int(vm, file, "ring-points", {1, 65536}, c.ring_points);
  pick_int(vm, file, "maglev-table-size", {3, 16777213}, c.maglev_table_size);
  pick_int(vm, file, "ring-probes", {1, ring::kMaxMultiProbeProbes}, c.ring_probes);
  pick(vm, file, "tag", tags);
  pick(vm, file, "profile", profile);
  pick_int(vm, file, "probe-interval-ms", {10, 60000}, probe_interval);
  pick_int(vm, file, "probe-timeout-ms", {1, 30000}, probe_timeout);
  pick_int(vm, file, "suspicion-mult", {1, 100}, suspicion_mult);
  pick_int(vm, file, "gossip-interval-ms", {10, 60000}, gossip_interval);
  pick_int(vm, file, "push-pull-interval-ms", {1000, 3600000}, push_pull);
  pick_int(vm, file, "leave-timeout-ms", {1, 60000}, c.leave_timeout_ms);
  std::vector<std::string> handlers;
  pick(vm, file, "event-handler", handlers);
  for (const auto& text : handlers) {
    std::string why;
    auto spec = parse_event_handler(text, &why);
    if (!spec) throw ConfigError("--event-handler " + text + ": " + why);
    c.event_handlers.push_back(std::move(*spec));
  }
  pick_int(vm, file, "event-handler-timeout-ms", {100, 3600000}, c.event_handler_timeout_ms);
  pick(vm, file, "keyring", c.security.keyring_file);
  pick(vm, file, "label", c.security.label);
  const bool verify_given = vm.count("verify-incoming") || file.contains("verify-incoming") ||
                            vm.count("verify-outgoing") || file.contains("verify-outgoing");
  pick_bool(vm, file, "verify-incoming", c.security.verify_incoming);
  pick_bool(vm, file, "verify-outgoing", c.security.verify_outgoing);
  if (!c.security.keyring_file.empty()) {
    try {
      c.security.keyring = load_keyring_file(c.security.keyring_file);
    } catch (const KeyringError& e) {
      throw ConfigError(std::string("--keyring: ") + e.what());
    }
  } else if (!c.security.label.empty()) {
    throw ConfigError("--label needs --keyring (the label is authenticated with the key)");
  } else if (verify_given) {
    throw ConfigError("--verify-incoming and --verify-outgoing need --keyring");
  }
  if (c.security.label.size() > 255) throw ConfigError("--label must be at most 255 bytes");

  if (c.node.empty() || c.node.size() > gossip::kMaxNameBytes) {
    throw ConfigError("--node must be 1 to " + std::to_string(gossip::kMaxNameBytes) + " bytes");
  }
  require_ip_endpoint("bind", c.bind);
  if (c.advertise.empty()) {
    auto bind = parse_endpoint(c.bind);
    if (bind->address().is_unspecified()) {
      throw ConfigError("--advertise is required when --bind is a wildcard address (" + c.bind + ")");
    }
    c.advertise = format_endpoint(*bind);
  }
  require_ip_endpoint("advertise", c.advertise);
  if (!c.service.empty()) require_ip_endpoint("service", c.service);
  require_ip_endpoint("resp", c.resp);
  require_ip_endpoint("http", c.http);
  for (const auto& seed : c.join) {
    if (!split_host_port(seed)) throw ConfigError("--join " + seed + ": expected HOST:PORT");
  }
  static const std::vector<std::string> levels = {"trace", "debug", "info", "warn", "error", "off"};
  if (std::find(levels.begin(), levels.end(), c.log_level) == levels.end()) {
    throw ConfigError("--log-level " + c.log_level + ": expected one of trace, debug, info, warn, error, off");
  }
  if (auto mode = ring::parse_mode(ring_mode)) {
    c.ring_mode = *mode;
  } else {
    throw ConfigError("--ring " + ring_mode + ": expected one of default, multiprobe, maglev, nginx, ketama");
  }
  if (c.maglev_table_size <= 2 || !ring::is_prime(c.maglev_table_size)) {
    throw ConfigError("--maglev-table-size " + std::to_string(c.maglev_table_size) + ": must be a prime above 2");
  }
  auto base = gossip::profile_config(profile);
  if (!base) throw ConfigError("--profile " + profile + ": expected one of lan, wan, local");
  c.gossip = *base;
  using std::chrono::milliseconds;
  auto override_ms = [](long long value, gossip::Duration& out) {
    if (value != -1) out = milliseconds(value);
  };
  override_ms(probe_interval, c.gossip.probe_interval);
  override_ms(probe_timeout, c.gossip.probe_timeout);
  override_ms(gossip_interval, c.gossip.gossip_interval);
  override_ms(push_pull, c.gossip.push_pull_interval);
  if (suspicion_mult != -1) c.gossip.suspicion_mult = static_cast<int>(suspicion_mult);
  if (c.gossip.probe_timeout >= c.gossip.probe_interval) {
    throw ConfigError("--probe-timeout-ms must be less than --probe-interval-ms");
  }
  for (const auto& tag : tags) {
    auto eq = tag.find('=');
    if (eq == 0 || eq == std::string::npos) throw ConfigError("--tag " + tag + ": expected KEY=VALUE");
    c.gossip.tags[tag.substr(0, eq)] = tag.substr(eq + 1);
  }
  if (auto problem = tags_problem(c.gossip.tags)) throw ConfigError("--tag " + *problem);
  if (c.security.keyring) {
    c.gossip.tags[GossipSecurity::kKeyringTag] = c.security.keyring->fingerprints(GossipSecurity::kTagKeys);
  }

  // Canonical forms, so "::1" and "[0:0::1]" compare equal everywhere.
  c.advertise = format_endpoint(*parse_endpoint(c.advertise));
  if (!c.service.empty()) c.service = format_endpoint(*parse_endpoint(c.service));

  c.gossip.name = c.node;
  c.gossip.advertise = c.advertise;
  c.gossip.service = c.service;
  if (auto problem = gossip::Node::validate(c.gossip)) throw ConfigError(*problem);
  return c;
}

}  // namespace ringd::agent
