#include "agent/keyring_cli.h"

#include <iostream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "agent/cli.h"
#include "agent/keyring.h"

namespace ringd::agent {
namespace po = boost::program_options;

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

int run_keyring(const std::vector<std::string>& args) {
  po::options_description own;
  own.add_options()("force", "do a use or remove the other members are not ready for");
  const CliArgs cli = parse_cli(args, {.name = "keyring", .usage = " list|install KEY|use KEY|remove KEY [--force]", .about = kKeyringAbout, .min_words = 1, .max_words = 2, .words_name = "action: list, install KEY, use KEY or remove KEY"},
                                own);
  if (!cli.ok) return cli.exit_code;
  const std::string& action = cli.words[0];
  const bool list = action == "list";
  if (!list && action != "install" && action != "use" && action != "remove") {
    std::cerr << "ringd keyring: unknown action '" << action << "' (expected list, install, use or remove)\n";
    return 2;
  }
  if (list != (cli.words.size() == 1)) {
    std::cerr << "ringd keyring " << action << ": "
              << (list ? "takes no key" : "expected a key (base64, as ringd keygen prints)") << "\n";
    return 2;
  }
  const std::string key = list ? std::string() : cli.words[1];
  if (!list) {
    try {
      decode_key(key);
    } catch (const KeyringError& e) {
      std::cerr << "ringd keyring " << action << ": " << e.what() << "\n";
      return 2;
    }
  }
  const std::string name = "keyring " + action;
  const auto doc = list ? call_agent(cli, name, "GET", "/keyring")
                        : call_agent(cli, name, "POST", "/keyring/" + action,
                                     {{"key", key}, {"force", cli.vm.count("force") > 0}});
  if (!doc) return 1;
  if (!list) {
    const bool changed = doc->value("changed", false);
    if (action == "install") std::cout << (changed ? "installed " : "already installed: ") << key << "\n";
    if (action == "use") std::cout << (changed ? "now the primary: " : "already the primary: ") << key << "\n";
    if (action == "remove") std::cout << (changed ? "removed " : "was not installed: ") << key << "\n";
  }
  print_keyring(*doc);
  return 0;
}

}  // namespace ringd::agent
