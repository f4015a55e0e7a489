// ringd — consistent-hash routing for nginx pools over SWIM membership.
#include <malloc.h>

#include <iostream>
#include <string>
#include <vector>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "agent/agent.h"
#include "agent/config.h"
#include "agent/keyring_cli.h"
#include "agent/members_cli.h"
#include "agent/operator_cli.h"

namespace {

constexpr const char* kUsage =
    "usage: ringd <command> [options]\n\n"
    "commands:\n"
    "  agent        run the membership agent (see ringd agent --help)\n"
    "  members      list the cluster's members as the local agent sees them\n"
    "  lookup       the endpoint(s) that own a key\n"
    "  ring         every endpoint's share of the keys\n"
    "  monitor      stream membership and ring events\n"
    "  join         sync with more members (merge clusters)\n"
    "  leave        leave the cluster gracefully and stop the agent\n"
    "  force-leave  make a failed member left everywhere\n"
    "  tags         show or change this agent's tags\n"
    "  reload       re-read the config file (as SIGHUP)\n"
    "  drain        take this host's service off every ring (maintenance)\n"
    "  undrain      put it back\n"
    "  keygen       print a new gossip encryption key\n"
    "  keyring      list, install, use or remove the local agent's gossip keys\n"
    "  version      print the version\n";

// One line per event on stderr, e.g. "2026-11-27T10:00:00.123 info member n2 dead ...".
void setup_logging(const std::string& level) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("ringd"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(level));
}

// Every ring rebuild allocates the new ring's arrays (hundreds of KB) while
// the old ring is still being read, then frees the old one. With glibc's
// adaptive mmap threshold those arrays soon land on the heap, and the freed
// ones stay resident as holes. A fixed threshold keeps them in their own
// mappings, returned to the kernel the moment a ring is dropped.
void tune_malloc() {
  mallopt(M_MMAP_THRESHOLD, 64 * 1024);
  mallopt(M_TRIM_THRESHOLD, 128 * 1024);
}

}  // namespace

int main(int argc, char** argv) {
  tune_malloc();
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  std::string command = args.front();
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "version" || command == "--version") {
    std::cout << "ringd " << RINGD_VERSION << "\n";
    return 0;
  }
  if (command == "members") return ringd::agent::run_members(rest);
  if (command == "lookup") return ringd::agent::run_lookup(rest);
  if (command == "ring") return ringd::agent::run_ring(rest);
  if (command == "monitor") return ringd::agent::run_monitor(rest);
  if (command == "join") return ringd::agent::run_join(rest);
  if (command == "leave") return ringd::agent::run_leave(rest);
  if (command == "force-leave") return ringd::agent::run_force_leave(rest);
  if (command == "tags") return ringd::agent::run_tags(rest);
  if (command == "reload") return ringd::agent::run_reload(rest);
  if (command == "keygen") return ringd::agent::run_keygen(rest);
  if (command == "keyring") return ringd::agent::run_keyring(rest);
  if (command == "drain" || command == "undrain") return ringd::agent::run_drain(rest, command == "drain");
  if (command != "agent") {
    std::cerr << "ringd: unknown command '" << command << "' (try ringd --help)\n";
    return 2;
  }
  try {
    bool help = false;
    auto config = ringd::agent::parse_agent_args(rest, &help);
    if (help) {
      std::cout << ringd::agent::agent_usage();
      return 0;
    }
    setup_logging(config.log_level);
    return ringd::agent::run_agent(config);
  } catch (const ringd::agent::ConfigError& e) {
    std::cerr << "ringd agent: " << e.what() << "\n";
    return 2;
  }
}
