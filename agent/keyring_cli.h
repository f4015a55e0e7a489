// agent/keyring_cli.h — `ringd keygen` and `ringd keyring`: gossip keys.
#pragma once

#include <string>
#include <vector>

namespace ringd::agent {

// Prints a new random key (base64, as a keyring file holds it).
int run_keygen(const std::vector<std::string>& args);
// `ringd keyring list|install KEY|use KEY|remove KEY [--http IP:PORT]`:
// the local agent's keyring through its HTTP API (GET /keyring, POST
// /keyring/ACTION). Rotation without downtime, on every agent in turn:
// install the new key everywhere, then use it everywhere, then remove the
// old one once `list` shows no peer sealing with it.
int run_keyring(const std::vector<std::string>& args);

}  // namespace ringd::agent
