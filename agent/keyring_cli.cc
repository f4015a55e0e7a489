#include "agent/keyring_cli.h"

#include <iostream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "agent/http_client.h"
#include "agent/keyring.h"

namespace ringd::agent {
namespace {

constexpr const char* kKeyringAbout =
    "Shows or changes the local agent's gossip keyring. Each change is saved to the\n"
    "agent's --keyring file. Rotate without downtime, running each step on every\n"
    "agent before the next: install NEW; use NEW; remove OLD.\n\n"
    "  list          the keys, primary first: on how many live members each is\n"
    "                installed and the primary (from their gossiped fingerprints)\n"
    "  install KEY   add a key (it opens messages; the primary still seals)\n"
    "  use KEY       make an installed key the primary (it seals from now on);\n"
    "                refused while a live member has not installed it\n"
    "  remove KEY    remove a key; refused while it is a live member's primary\n"
    "  --force       do a refused use or remove anyway\n\n";

// Key                                           Fingerprint  Installed  Primary  Sealing
// hd19N9v1ZNe5VlVpZ/2Kp2MNSOdNXvxsa+t2xfmONFM=  1a2b3c4d     3/3        3/3 *    2 peers
void print_keyring(const nlohmann::json& doc) {
  const auto members = std::to_string(doc.value("members", 0));
  std::cout << fmt::format("{:<46}{:<13}{:<11}{:<9}{}\n", "Key", "Fingerprint", "Installed", "Primary", "Sealing");
  for (const auto& k : doc.value("keys", nlohmann::json::array())) {
    const std::string primary = std::to_string(k.value("primary_on", 0)) + "/" + members +
                                (k.value("primary", false) ? " *" : "");
    std::cout << fmt::format("{:<46}{:<13}{:<11}{:<9}{} peers\n", k.value("key", "?"), k.value("fingerprint", "?"),
                             std::to_string(k.value("installed_on", 0)) + "/" + members, primary,
                             k.value("peers_sealing", 0));
  }
  std::cout << "* this agent's primary. Installed, Primary: live members, by their gossiped fingerprints;\n"
            << "Sealing: peers whose datagrams in the last " << doc.value("peers_seen_within_seconds", 0)
            << " s were sealed with the key";
  const auto plaintext = doc.value("plaintext_peers", 0);
  if (plaintext > 0) std::cout << " (" << plaintext << " sent plaintext)";
  std::cout << ".\nlabel \"" << doc.value("label", "") << "\", verify_incoming "
            << (doc.value("verify_incoming", false) ? "true" : "false") << ", verify_outgoing "
            << (doc.value("verify_outgoing", false) ? "true" : "false") << "\n";
}

}  // namespace

int run_keygen(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "usage: ringd keygen\n\nPrints a new random 32-byte gossip key in base64; put it in a keyring file\n"
                 "(a JSON array of keys, mode 0600), e.g.  [\"KEY\"]\n";
    return 0;
  }
  if (!args.empty()) {
    std::cerr << "ringd keygen: takes no arguments (got '" << args[0] << "')\n";
    return 2;
  }
  try {
    std::cout << encode_key(generate_key()) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "ringd keygen: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int run_keyring(const std::vector<std::string>& all_args) {
  const std::string usage = " list|install KEY|use KEY|remove KEY [--force]";
  std::vector<std::string> args;
  bool force = false;
  for (const auto& a : all_args) {
    if (a == "--force") {
      force = true;
    } else {
      args.push_back(a);
    }
  }
  std::string action = args.empty() ? std::string() : args[0];
  if (action.empty() || action.starts_with("-")) {
    // Only flags: --help is fine, anything else lacks the action.
    const AgentAddress help = parse_agent_address(args, "keyring", kKeyringAbout, usage);
    if (!help.endpoint) return help.exit_code;
    std::cerr << "ringd keyring: expected an action: list, install KEY, use KEY or remove KEY\n";
    return 2;
  }
  const bool list = action == "list";
  if (!list && action != "install" && action != "use" && action != "remove") {
    std::cerr << "ringd keyring: unknown action '" << action << "' (expected list, install, use or remove)\n";
    return 2;
  }
  std::size_t rest_from = 1;
  std::string key;
  if (!list) {
    if (args.size() < 2 || args[1].starts_with("-")) {
      std::cerr << "ringd keyring " << action << ": expected a key (base64, as ringd keygen prints)\n";
      return 2;
    }
    key = args[1];
    try {
      decode_key(key);
    } catch (const KeyringError& e) {
      std::cerr << "ringd keyring " << action << ": " << e.what() << "\n";
      return 2;
    }
    rest_from = 2;
  }
  const AgentAddress agent = parse_agent_address({args.begin() + static_cast<std::ptrdiff_t>(rest_from), args.end()},
                                                 "keyring", kKeyringAbout, usage);
  if (!agent.endpoint) return agent.exit_code;
  try {
    const HttpAnswer answer =
        list ? http_request(*agent.endpoint, "GET", "/keyring")
             : http_request(*agent.endpoint, "POST", "/keyring/" + action,
                            nlohmann::json{{"key", key}, {"force", force}}.dump());
    const auto doc = nlohmann::json::parse(answer.body, nullptr, false);
    if (answer.status != 200 || !doc.is_object()) {
      std::cerr << "ringd keyring " << action << ": "
                << (doc.is_object() ? doc.value("error", answer.body) : answer.body) << "\n";
      return 1;
    }
    if (!list) {
      const bool changed = doc.value("changed", false);
      if (action == "install") std::cout << (changed ? "installed " : "already installed: ") << key << "\n";
      if (action == "use") std::cout << (changed ? "now the primary: " : "already the primary: ") << key << "\n";
      if (action == "remove") std::cout << (changed ? "removed " : "was not installed: ") << key << "\n";
    }
    print_keyring(doc);
  } catch (const std::exception& e) {
    std::cerr << "ringd keyring: cannot reach the agent at " << agent.text << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace ringd::agent
