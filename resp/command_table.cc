#include "resp/command_table.h"

#include <array>

#include "resp/handlers.h"

namespace ringd::resp {
namespace {

constexpr std::string_view kConn = "connection";

constexpr std::array<CommandSpec, 5> kClientSubs{{
    {.name = "client|id", .arity = 2, .flags = "noscript loading stale", .acl = "@slow @connection",
     .group = kConn, .since = "5.0.0", .summary = "Returns the client ID for the current connection",
     .run = cmd_client_id},
    {.name = "client|setname", .arity = 3, .flags = "noscript loading stale", .acl = "@slow @connection",
     .group = kConn, .since = "2.6.9", .summary = "Set the current connection name", .run = cmd_client_setname},
    {.name = "client|getname", .arity = 2, .flags = "noscript loading stale", .acl = "@slow @connection",
     .group = kConn, .since = "2.6.9", .summary = "Get the current connection name", .run = cmd_client_getname},
    {.name = "client|info", .arity = 2, .flags = "noscript loading stale", .acl = "@slow @connection",
     .group = kConn, .since = "6.2.0", .summary = "Returns information about the current client connection.",
     .run = cmd_client_info},
    {.name = "client|help", .arity = 2, .flags = "loading stale", .acl = "@slow @connection", .group = kConn,
     .since = "5.0.0", .summary = "Show helpful text about the different subcommands", .run = cmd_client_help},
}};

constexpr std::array<CommandSpec, 5> kCommandSubs{{
    {.name = "command|count", .arity = 2, .flags = "loading stale", .acl = "@slow @connection", .group = "server",
     .since = "2.8.13", .summary = "Get total number of Redis commands", .run = cmd_command_count},
    {.name = "command|list", .arity = -2, .flags = "loading stale", .acl = "@slow @connection", .group = "server",
     .since = "7.0.0", .summary = "Get an array of Redis command names", .run = cmd_command_list},
    {.name = "command|info", .arity = -2, .flags = "loading stale", .acl = "@slow @connection", .group = "server",
     .since = "2.8.13", .summary = "Get array of specific Redis command details, or all when no argument is given.",
     .run = cmd_command_info},
    {.name = "command|docs", .arity = -2, .flags = "loading stale", .acl = "@slow @connection", .group = "server",
     .since = "7.0.0", .summary = "Get array of specific Redis command documentation", .run = cmd_command_docs},
    {.name = "command|help", .arity = 2, .flags = "loading stale", .acl = "@slow @connection", .group = "server",
     .since = "5.0.0", .summary = "Show helpful text about the different subcommands", .run = cmd_command_help},
}};

constexpr std::array<CommandSpec, 2> kConfigSubs{{
    {.name = "config|get", .arity = -3, .flags = "admin noscript loading stale", .acl = "@admin @slow @dangerous",
     .group = "server", .since = "2.0.0", .summary = "Get the values of configuration parameters",
     .run = cmd_config_get},
    {.name = "config|help", .arity = 2, .flags = "loading stale", .acl = "@slow", .group = "server",
     .since = "5.0.0", .summary = "Show helpful text about the different subcommands", .run = cmd_config_help},
}};

// GET first: it is nearly all of the traffic.
constexpr std::array<CommandSpec, 18> kCommands{{
    {.name = "get", .arity = 2, .flags = "readonly fast", .first_key = 1, .last_key = 1, .key_step = 1,
     .acl = "@read @string @fast", .group = "string", .since = "1.0.0",
     .summary = "Get the endpoint owning a key on the ring", .run = cmd_get},
    {.name = "mget", .arity = -2, .flags = "readonly fast", .first_key = 1, .last_key = -1, .key_step = 1,
     .acl = "@read @string @fast", .group = "string", .since = "1.0.0",
     .summary = "Get the endpoints owning each of the given keys", .run = cmd_mget},
    {.name = "ping", .arity = -1, .max_args = 2, .flags = "fast", .acl = "@fast @connection", .group = kConn,
     .since = "1.0.0", .summary = "Ping the server", .run = cmd_ping},
    {.name = "select", .arity = 2, .flags = "loading stale fast", .acl = "@keyspace @fast", .group = kConn,
     .since = "1.0.0", .summary = "Change the selected database for the current connection", .run = cmd_select},
    {.name = "echo", .arity = 2, .flags = "fast", .acl = "@fast @connection", .group = kConn, .since = "1.0.0",
     .summary = "Echo the given string", .run = cmd_echo},
    {.name = "quit", .arity = -1, .no_auth = true, .flags = "allow_busy noscript loading stale fast no_auth",
     .acl = "@fast @connection", .group = kConn, .since = "1.0.0", .summary = "Close the connection",
     .run = cmd_quit},
    {.name = "hello", .arity = -1, .no_auth = true, .flags = "noscript loading stale fast no_auth allow_busy",
     .acl = "@fast @connection", .group = kConn, .since = "6.0.0", .summary = "Handshake with Redis",
     .run = cmd_hello},
    {.name = "auth", .arity = -2, .no_auth = true, .flags = "noscript loading stale fast no_auth allow_busy",
     .acl = "@fast @connection", .group = kConn, .since = "1.0.0", .summary = "Authenticate to the server",
     .run = cmd_auth},
    {.name = "client", .arity = -2, .flags = "", .acl = "@slow", .group = kConn, .since = "2.4.0",
     .summary = "A container for client connection commands", .subcommands = kClientSubs},
    {.name = "command", .arity = -1, .flags = "loading stale", .acl = "@slow @connection", .group = "server",
     .since = "2.8.13", .summary = "Get array of Redis command details", .run = cmd_command,
     .subcommands = kCommandSubs},
    {.name = "config", .arity = -2, .flags = "", .acl = "@slow", .group = "server", .since = "2.0.0",
     .summary = "A container for server configuration commands", .subcommands = kConfigSubs},
    {.name = "info", .arity = -1, .flags = "loading stale", .acl = "@slow @dangerous", .group = "server",
     .since = "1.0.0", .summary = "Get information and statistics about the server and the ring", .run = cmd_info},
    {.name = "dbsize", .arity = 1, .flags = "readonly fast", .acl = "@keyspace @read @fast", .group = "server",
     .since = "1.0.0", .summary = "Return the number of endpoints on the ring", .run = cmd_dbsize},
    {.name = "ring.owners", .arity = 3, .flags = "readonly fast", .first_key = 1, .last_key = 1, .key_step = 1,
     .acl = "@read @fast", .group = "ring", .since = "0.1.0",
     .summary = "Get up to N distinct endpoints for a key, owner first (failover order)", .run = cmd_ring_owners},
    {.name = "ring.checksum", .arity = 1, .flags = "readonly fast", .acl = "@read @fast", .group = "ring",
     .since = "0.1.0", .summary = "Get the checksum of the ring's endpoint set", .run = cmd_ring_checksum},
    {.name = "ring.nodes", .arity = 1, .flags = "readonly fast", .acl = "@read @fast", .group = "ring",
     .since = "0.1.0", .summary = "Get the ring's endpoints, sorted", .run = cmd_ring_nodes},
    {.name = "ring.services", .arity = 1, .flags = "readonly fast", .acl = "@read @fast", .group = "ring",
     .since = "0.1.0", .summary = "Get the service names; the i-th is database i for SELECT",
     .run = cmd_ring_services},
    {.name = "ring.dump", .arity = 1, .flags = "readonly", .acl = "@read @slow", .group = "ring", .since = "0.2.0",
     .summary = "Get the ring as a binary image for lookups outside the agent (ring/dump.h)", .run = cmd_ring_dump},
}};

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool equals_nocase(std::string_view arg, std::string_view name) {
  if (arg.size() != name.size()) return false;
  for (std::size_t i = 0; i < arg.size(); ++i) {
    if (lower(arg[i]) != name[i]) return false;
  }
  return true;
}

const CommandSpec* find_command(std::string_view name) {
  for (const CommandSpec& cmd : kCommands) {
    if (equals_nocase(name, cmd.name)) return &cmd;
  }
  return nullptr;
}

const CommandSpec* find_subcommand(const CommandSpec& container, std::string_view name) {
  for (const CommandSpec& sub : container.subcommands) {
    const std::string_view short_name = sub.name.substr(sub.name.find('|') + 1);
    if (equals_nocase(name, short_name)) return &sub;
  }
  return nullptr;
}

std::span<const CommandSpec> all_commands() { return kCommands; }
static_assert(kCommands.size() <= Stats::kMaxCommands, "Stats::calls has a slot per command");

}  // namespace ringd::resp
