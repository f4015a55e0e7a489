// resp/commands.h — dispatch: one parsed command in, one reply out.
//
// Checks run in Redis 7's order: a first argument of "POST" or "Host:" (an
// HTTP request sent to the RESP port) closes the connection without a reply,
// as Redis does against cross-protocol attacks; then unknown command or
// subcommand; then arity; then authentication (NOAUTH); then the command.
// Names are case-insensitive. The commands and their replies are listed in
// command_table.cc and documented in the README ("RESP interface").
#pragma once

#include "resp/context.h"

namespace ringd::resp {

// Runs one non-empty command (args[0] is its name) and appends its reply.
// The caller counts it in Stats::commands (Session does, once per batch).
Outcome dispatch(Args args, Context& ctx);

// GET key from an authenticated client: what dispatch({"GET", key}) does,
// without its checks (a GET with one key passes them all).
void dispatch_get(std::string_view key, Context& ctx);
// GET's slot in Stats::calls; the caller of dispatch_get() counts it.
std::size_t get_command_index();

}  // namespace ringd::resp
