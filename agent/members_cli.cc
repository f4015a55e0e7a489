#include "agent/members_cli.h"

#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "agent/cli.h"

namespace ringd::agent {
namespace po = boost::program_options;
using Json = nlohmann::json;

namespace {

std::string text_or_dash(const Json& v) { return v.is_string() && !v.get<std::string>().empty() ? v.get<std::string>() : "-"; }

std::string tags_text(const Json& tags) {
  std::string out;
  if (!tags.is_object()) return "-";
  for (const auto& [k, v] : tags.items()) {
    if (!out.empty()) out += ',';
    out += k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out.empty() ? "-" : out;
}

bool format_json(const CliArgs& cli, const char* command) {
  const std::string format = cli.vm["format"].as<std::string>();
  if (format != "json" && format != "text") {
    std::cerr << "ringd " << command << ": -format " << format << ": expected text or json\n";
    return false;
  }
  return true;
}

volatile std::sig_atomic_t stop_monitor = 0;

}  // namespace

int run_members(const std::vector<std::string>& args) {
  po::options_description own;
  own.add_options()("status", po::value<std::string>(), "only members in this state: alive, suspect, dead, left")(
      "format", po::value<std::string>()->default_value("text"), "text (a table) or json");
  const CliArgs cli = parse_cli(args, {.name = "members", .usage = " [-status STATE] [-format text|json]", .about = "The cluster's members as the local agent sees them.\n\n", .min_words = 0, .max_words = 0, .words_name = "argument"},
                                own);
  if (!cli.ok) return cli.exit_code;
  if (!format_json(cli, "members")) return 2;
  std::string status;
  if (cli.vm.count("status")) {
    status = cli.vm["status"].as<std::string>();
    if (status != "alive" && status != "suspect" && status != "dead" && status != "left") {
      std::cerr << "ringd members: -status " << status << ": expected alive, suspect, dead or left\n";
      return 2;
    }
  }
  const auto doc = call_agent(cli, "members", "GET", "/members");
  if (!doc) return 1;
  Json members = Json::array();
  for (const auto& m : doc->value("members", Json::array())) {
    if (status.empty() || m.value("state", "") == status) members.push_back(m);
  }
  if (cli.vm["format"].as<std::string>() == "json") {
    std::cout << Json{{"self", doc->value("self", "")}, {"members", members}}.dump(2) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows{{"Node", "Address", "State", "Incarnation", "Service", "Health", "Tags"}};
  for (const auto& m : members) {
    rows.push_back({text_or_dash(m["name"]), text_or_dash(m["address"]), text_or_dash(m["state"]),
                    std::to_string(m.value("incarnation", 0ULL)), text_or_dash(m["service"]),
                    text_or_dash(m["service_health"]), tags_text(m.value("tags", Json::object()))});
  }
  print_table(rows);
  return 0;
}

int run_drain(const std::vector<std::string>& args, bool drain) {
  const char* name = drain ? "drain" : "undrain";
  const CliArgs cli = parse_cli(args, {.name = name, .usage = "", .about = drain ? "Takes this host's service off every ring (its agent stays a member).\n\n"
                                                      : "Puts this host's drained service back on the rings once its checks pass.\n\n", .min_words = 0, .max_words = 0, .words_name = "argument"});
  if (!cli.ok) return cli.exit_code;
  const auto doc = call_agent(cli, name, "POST", std::string("/") + name);
  if (!doc) return 1;
  std::cout << "service " << doc->value("service", "?") << ": " << doc->value("service_health", "?") << "\n";
  return 0;
}

int run_lookup(const std::vector<std::string>& args) {
  po::options_description own;
  own.add_options()("n", po::value<int>()->default_value(1), "owners to list, in failover order (1 to 64)")(
      "format", po::value<std::string>()->default_value("text"), "text or json");
  const CliArgs cli = parse_cli(args, {.name = "lookup", .usage = " KEY [-n N] [-format text|json]", .about = "The endpoint that owns KEY on the local agent's ring (what nginx asks).\n\n", .min_words = 1, .max_words = 1, .words_name = "key"},
                                own);
  if (!cli.ok) return cli.exit_code;
  if (!format_json(cli, "lookup")) return 2;
  const int n = cli.vm["n"].as<int>();
  if (n < 1 || n > 64) {
    std::cerr << "ringd lookup: -n " << n << ": expected 1 to 64\n";
    return 2;
  }
  std::string key;
  for (unsigned char c : cli.words[0]) {  // percent-encode all but unreserved bytes
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                       c == '_' || c == '.' || c == '~' || c == '/';
    key += plain ? std::string(1, static_cast<char>(c)) : fmt::format("%{:02X}", c);
  }
  const auto doc = call_agent(cli, "lookup", "GET", "/lookup?key=" + key + "&n=" + std::to_string(n));
  if (!doc) return 1;
  if (cli.vm["format"].as<std::string>() == "json") {
    std::cout << doc->dump(2) << "\n";
    return 0;
  }
  const Json nodes = doc->value("nodes", Json::array());
  if (nodes.empty()) {
    std::cerr << "ringd lookup: the ring is empty (no passing service)\n";
    return 1;
  }
  for (const auto& node : nodes) std::cout << node.get<std::string>() << "\n";
  return 0;
}

int run_ring(const std::vector<std::string>& args) {
  po::options_description own;
  own.add_options()("format", po::value<std::string>()->default_value("text"), "text or json");
  const CliArgs cli =
      parse_cli(args, {.name = "ring", .usage = " [-format text|json]", .about = "The local agent's rings: every endpoint's share of the keys, and the service rings.\n\n", .min_words = 0, .max_words = 0, .words_name = "argument"},
                own);
  if (!cli.ok) return cli.exit_code;
  if (!format_json(cli, "ring")) return 2;
  const auto doc = call_agent(cli, "ring", "GET", "/ring");
  if (!doc) return 1;
  if (cli.vm["format"].as<std::string>() == "json") {
    std::cout << doc->dump(2) << "\n";
    return 0;
  }
  std::cout << "ring " << doc->value("checksum", "?") << " (" << doc->value("mode", "?") << "), "
            << doc->value("node_count", 0) << " endpoints\n";
  std::vector<std::vector<std::string>> rows{{"Endpoint", "Share", "Weight"}};
  const Json weights = doc->value("weights", Json::object());
  const Json shares = doc->value("shares", Json::object());  // items() must not outlive it
  for (const auto& [node, share] : shares.items()) {
    rows.push_back({node, fmt::format("{:.2f}%", share.get<double>() * 100),
                    weights.contains(node) ? weights[node].dump() : "1"});
  }
  print_table(rows);
  for (const auto& s : doc->value("services", Json::array())) {
    std::cout << "service " << s.value("name", "?") << " (SELECT " << s.value("db", 0) << "): ring "
              << s.value("checksum", "?") << ", " << s.value("nodes", Json::array()).size() << " endpoints\n";
  }
  return 0;
}

int run_monitor(const std::vector<std::string>& args) {
  po::options_description own;
  own.add_options()("format", po::value<std::string>()->default_value("text"), "text or json (one object a line)");
  const CliArgs cli = parse_cli(
      args, {.name = "monitor", .usage = " [-format text|json]", .about = "Streams membership and ring events from the local agent until interrupted (Ctrl-C).\n\n", .min_words = 0, .max_words = 0, .words_name = "argument"},
      own);
  if (!cli.ok) return cli.exit_code;
  if (!format_json(cli, "monitor")) return 2;
  const bool json = cli.vm["format"].as<std::string>() == "json";
  std::signal(SIGINT, [](int) { stop_monitor = 1; });
  std::signal(SIGTERM, [](int) { stop_monitor = 1; });
  auto first = call_agent(cli, "monitor", "GET", "/events");  // from now on
  if (!first) return 1;
  std::uint64_t next = first->value("next", 0ULL);
  std::cerr << "monitoring the agent at " << cli.agent_text << " (Ctrl-C to stop)\n";
  while (!stop_monitor) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto doc = call_agent(cli, "monitor", "GET", "/events?since=" + std::to_string(next));
    if (!doc) return 1;
    if (doc->value("missed", 0) > 0) std::cout << "(" << doc->value("missed", 0) << " events missed)\n";
    for (const auto& e : doc->value("events", Json::array())) {
      if (json) {
        std::cout << e.dump() << "\n";
        continue;
      }
      const auto ms = e.value("time_ms", 0LL);
      const std::time_t secs = static_cast<std::time_t>(ms / 1000);
      std::tm tm{};
      gmtime_r(&secs, &tm);
      std::cout << fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z ", tm.tm_year + 1900, tm.tm_mon + 1,
                               tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
      if (e.value("kind", "") == "ring") {
        std::cout << "ring rebuilt: " << e.value("nodes", 0) << " endpoints, checksum " << e.value("checksum", "?")
                  << "\n";
      } else {
        std::cout << "member " << e.value("member", "?") << " " << e.value("event", "?") << " (address "
                  << e.value("address", "?") << ", service " << text_or_dash(e.value("service", Json()))
                  << ", incarnation " << e.value("incarnation", 0ULL) << ")\n";
      }
    }
    std::cout.flush();
    next = doc->value("next", next);
  }
  return 0;
}

}  // namespace ringd::agent
