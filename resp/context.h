// resp/context.h — what a command handler gets: its client, the backend,
// the counters and the reply buffer. Internal to resp/.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "resp/backend.h"
#include "resp/client.h"
#include "resp/stats.h"

namespace ringd::resp {

using Args = std::span<const std::string_view>;

enum class Outcome {
  kContinue,  // reply appended; keep reading
  kClose,     // close the connection once `out` is written (QUIT, POST/Host:)
};

struct Context {
  Backend& backend;
  Stats& stats;
  ClientState& client;
  const std::string* password;        // requirepass; nullptr: none
  std::string& out;                   // replies, appended
  std::vector<std::string_view>& scratch;  // reused by RING.OWNERS
  // Commands of this batch so far (this one included), not yet added to
  // stats.commands: the session adds them once per batch.
  const std::uint64_t& batch_commands;
};

}  // namespace ringd::resp
