// resp/commands.h — the command table: what ringd answers, with Redis's replies.
//
//   GET key      -> bulk "ip:port" (Backend::owner) or nil ($-1) when the ring
//                   is empty
//   SELECT index -> +OK for 0..15 (Redis's default 16 databases; the ring is
//                   the same in all of them), else Redis's errors
//   PING [msg]   -> +PONG, or msg as a bulk string
//   ECHO msg     -> msg as a bulk string
//   QUIT [...]   -> +OK, then the connection closes
//
// Names are case-insensitive. Checks run in Redis 7's order: a first argument
// of "POST" or "Host:" (an HTTP request sent to the RESP port) closes the
// connection without a reply and is logged by Redis as a possible
// cross-protocol attack; then unknown command; then arity; then the command.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "resp/session.h"

namespace ringd::resp {

enum class Outcome {
  kContinue,  // reply appended; keep reading
  kClose,     // close the connection once `out` is written (QUIT, POST/Host:)
};

// Runs one non-empty command (args[0] is its name) and appends its reply.
Outcome dispatch(std::span<const std::string_view> args, const Backend& backend, Stats& stats,
                 std::string& out);

}  // namespace ringd::resp
