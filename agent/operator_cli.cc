#include "agent/operator_cli.h"

#include <chrono>
#include <iostream>
#include <set>
#include <thread>

#include "agent/address.h"
#include "agent/cli.h"

namespace ringd::agent {
namespace po = boost::program_options;
using Json = nlohmann::json;

int run_join(const std::vector<std::string>& args) {
  const CliArgs cli = parse_cli(args, {.name = "join", .usage = " HOST:PORT...", .about = "Asks the local agent to sync with other members (another cluster's, to\n"
                                                "merge them), as its --join seeds at start. Host names resolve to every\n"
                                                "address they have.\n\n", .min_words = 1, .max_words = 64, .words_name = "HOST:PORT"});
  if (!cli.ok) return cli.exit_code;
  std::vector<std::string> addresses;
  for (const auto& word : cli.words) {
    auto hp = split_host_port(word);
    if (!hp) {
      std::cerr << "ringd join: " << word << ": expected HOST:PORT\n";
      return 2;
    }
    auto resolved = resolve_all(*hp);
    if (resolved.empty()) {
      std::cerr << "ringd join: " << word << " does not resolve\n";
      return 1;
    }
    addresses.insert(addresses.end(), resolved.begin(), resolved.end());
  }
  const auto asked = call_agent(cli, "join", "POST", "/join", {{"addresses", addresses}});
  if (!asked) return 1;
  // The agent answers at once; the sync takes a round trip. Wait for the
  // addresses to show up as live members.
  const std::set<std::string> wanted(addresses.begin(), addresses.end());
  std::set<std::string> seen;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (seen.size() < wanted.size() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto doc = call_agent(cli, "join", "GET", "/members");
    if (!doc) return 1;
    for (const auto& m : doc->value("members", Json::array())) {
      const std::string address = m.value("address", "");
      const std::string state = m.value("state", "");
      if (wanted.count(address) && (state == "alive" || state == "suspect")) seen.insert(address);
    }
  }
  if (seen.empty()) {
    std::cerr << "ringd join: no member answered at " << Json(addresses).dump()
              << " within 5 s (is it running, reachable over TCP, with the same --keyring and --label?)\n";
    return 1;
  }
  std::cout << "Successfully joined cluster by contacting " << seen.size() << " node" << (seen.size() == 1 ? "" : "s")
            << ".\n";
  return seen.size() == wanted.size() ? 0 : 1;
}

int run_leave(const std::vector<std::string>& args) {
  const CliArgs cli = parse_cli(args, {.name = "leave", .usage = "", .about = "The local agent leaves the cluster gracefully (others record it as left,\n"
                                                "its service's keys move at once) and exits, as on SIGTERM.\n\n", .min_words = 0, .max_words = 0, .words_name = "argument"});
  if (!cli.ok) return cli.exit_code;
  if (!call_agent(cli, "leave", "POST", "/leave")) return 1;
  std::cout << "Graceful leave started; the agent exits once it has spread.\n";
  return 0;
}

int run_force_leave(const std::vector<std::string>& args) {
  const CliArgs cli = parse_cli(args, {.name = "force-leave", .usage = " NAME", .about = "Makes a failed (dead) member left on every member: its service stays off\n"
                                                "the rings and nobody tries its address again. A live member is refused.\n\n", .min_words = 1, .max_words = 1, .words_name = "member name"});
  if (!cli.ok) return cli.exit_code;
  const auto doc = call_agent(cli, "force-leave", "POST", "/force-leave", {{"name", cli.words[0]}});
  if (!doc) return 1;
  std::cout << "member " << cli.words[0] << ": left\n";
  return 0;
}

int run_tags(const std::vector<std::string>& args) {
  po::options_description own;
  own.add_options()("set", po::value<std::vector<std::string>>(), "KEY=VALUE to add or change; repeatable")(
      "delete", po::value<std::vector<std::string>>(), "KEY to remove; repeatable");
  const CliArgs cli = parse_cli(args, {.name = "tags", .usage = " [-set KEY=VALUE]... [-delete KEY]...", .about = "Shows or changes the local agent's tags at run time; every member sees the\n"
                                                "change at once. A reload (SIGHUP) goes back to the config's tags.\n\n", .min_words = 0, .max_words = 0, .words_name = "argument"},
                                own);
  if (!cli.ok) return cli.exit_code;
  Json set = Json::object();
  Json remove = Json::array();
  if (cli.vm.count("set")) {
    for (const auto& kv : cli.vm["set"].as<std::vector<std::string>>()) {
      const auto eq = kv.find('=');
      if (eq == 0 || eq == std::string::npos) {
        std::cerr << "ringd tags: -set " << kv << ": expected KEY=VALUE\n";
        return 2;
      }
      set[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  if (cli.vm.count("delete")) {
    for (const auto& k : cli.vm["delete"].as<std::vector<std::string>>()) remove.push_back(k);
  }
  std::optional<Json> doc;
  if (set.empty() && remove.empty()) {
    doc = call_agent(cli, "tags", "GET", "/members");
    if (!doc) return 1;
    const std::string self = doc->value("self", "");
    Json tags = Json::object();
    for (const auto& m : doc->value("members", Json::array())) {
      if (m.value("name", "") == self) tags = m.value("tags", Json::object());
    }
    doc = Json{{"tags", tags}};
  } else {
    doc = call_agent(cli, "tags", "POST", "/tags", {{"set", set}, {"delete", remove}});
    if (!doc) return 1;
  }
  const Json tags = doc->value("tags", Json::object());  // items() must not outlive it
  for (const auto& [k, v] : tags.items()) {
    std::cout << k << "=" << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
  }
  return 0;
}

int run_reload(const std::vector<std::string>& args) {
  const CliArgs cli = parse_cli(args, {.name = "reload", .usage = "", .about = "The local agent re-reads its config file, as on SIGHUP: the log level and\n"
                                                "tags apply at once; other changed settings wait for a restart.\n\n", .min_words = 0, .max_words = 0, .words_name = "argument"});
  if (!cli.ok) return cli.exit_code;
  const auto doc = call_agent(cli, "reload", "POST", "/reload");
  if (!doc) return 1;
  std::cout << "applied: " << doc->value("applied", Json::array()).dump()
            << "; needs a restart: " << doc->value("restart_needed", Json::array()).dump() << "\n";
  return 0;
}

}  // namespace ringd::agent
