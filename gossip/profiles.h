// gossip/profiles.h — named sets of protocol timings.
//
//   "lan"   (the Config defaults) one data centre / loopback development
//   "wan"   members spread over high-latency, lossy links
//   "local" every member on one host (tests, demos)
//
// Like memberlist's DefaultLANConfig / DefaultWANConfig / DefaultLocalConfig,
// but with shorter probe periods: our direct probe timeout follows measured
// round trips (rtt.h), so a fast network does not need a long fixed timeout
// to stay calm. profiles.cc explains each choice. Identity fields (name,
// advertise, service, tags, incarnation) are left empty/zero.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "node.h"

namespace ringd::gossip {

// The named profile, or nullopt for an unknown name.
std::optional<Config> profile_config(std::string_view name);
// {"lan", "wan", "local"}.
std::vector<std::string_view> profile_names();

}  // namespace ringd::gossip
