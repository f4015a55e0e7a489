// resp/handlers.h — command handlers (internal to resp/). Each runs after
// dispatch checked existence, arity and authentication, and appends exactly
// one reply to ctx.out.
#pragma once

#include "resp/context.h"

namespace ringd::resp {

// cmd_ring.cc — lookups on the ring.
Outcome cmd_get(Args args, Context& ctx);
Outcome cmd_mget(Args args, Context& ctx);
Outcome cmd_dbsize(Args args, Context& ctx);
Outcome cmd_ring_owners(Args args, Context& ctx);
Outcome cmd_ring_checksum(Args args, Context& ctx);
Outcome cmd_ring_dump(Args args, Context& ctx);
Outcome cmd_ring_nodes(Args args, Context& ctx);
Outcome cmd_ring_services(Args args, Context& ctx);

// cmd_connection.cc — connection state.
Outcome cmd_ping(Args args, Context& ctx);
Outcome cmd_echo(Args args, Context& ctx);
Outcome cmd_quit(Args args, Context& ctx);
Outcome cmd_select(Args args, Context& ctx);
Outcome cmd_hello(Args args, Context& ctx);
Outcome cmd_auth(Args args, Context& ctx);

// cmd_client.cc — CLIENT subcommands.
Outcome cmd_client_id(Args args, Context& ctx);
Outcome cmd_client_setname(Args args, Context& ctx);
Outcome cmd_client_getname(Args args, Context& ctx);
Outcome cmd_client_info(Args args, Context& ctx);
Outcome cmd_client_help(Args args, Context& ctx);

// cmd_server.cc — introspection.
Outcome cmd_info(Args args, Context& ctx);
Outcome cmd_command(Args args, Context& ctx);
Outcome cmd_command_count(Args args, Context& ctx);
Outcome cmd_command_list(Args args, Context& ctx);
Outcome cmd_command_info(Args args, Context& ctx);
Outcome cmd_command_docs(Args args, Context& ctx);
Outcome cmd_command_help(Args args, Context& ctx);
Outcome cmd_config_get(Args args, Context& ctx);
Outcome cmd_config_help(Args args, Context& ctx);

// Shared helpers (cmd_connection.cc).
// What printf("%.*s") prints of a Redis argument: up to the first NUL, at
// most `max` bytes.
std::string_view c_prefix(std::string_view s, std::size_t max);
// Redis's validateClientName(): printable ASCII without spaces.
bool valid_client_name(std::string_view name);
// Constant-time comparison of a candidate password with the configured one.
bool password_matches(std::string_view candidate, std::string_view password);
// "*<n>" help lines as simple strings, Redis's addReplyHelp() layout.
void append_help(std::string& out, std::string_view container, std::span<const std::string_view> lines);

}  // namespace ringd::resp
