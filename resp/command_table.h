// resp/command_table.h — every command ringd answers, with the metadata
// COMMAND INFO / COMMAND DOCS report (modelled on Redis 7.0's command table).
//
// Container commands (CLIENT, COMMAND, CONFIG) list their subcommands; a
// subcommand's full name is "container|sub" as Redis prints it in errors.
// Dispatch (commands.cc) checks, in Redis 7's order: known command, known
// subcommand, arity, authentication; then runs the handler.
#pragma once

#include <span>
#include <string_view>

#include "resp/context.h"

namespace ringd::resp {

struct CommandSpec {
  std::string_view name;   // lower case; "client|setname" for a subcommand
  int arity;               // Redis convention: N exactly, -N at least N
  int max_args = 0;        // > 0: more arguments are an arity error too (PING)
  bool no_auth = false;    // allowed before AUTH (AUTH, HELLO, QUIT)
  std::string_view flags;  // COMMAND INFO flags, space separated
  int first_key = 0, last_key = 0, key_step = 0;
  std::string_view acl;    // ACL categories, space separated ("@read @fast")
  std::string_view group, since, summary;  // COMMAND DOCS
  Outcome (*run)(Args, Context&) = nullptr;
  std::span<const CommandSpec> subcommands = {};
};

// Top-level command by name (case-insensitive, exact bytes); nullptr if none.
const CommandSpec* find_command(std::string_view name);
// Subcommand of `container` by its short name ("setname"); nullptr if none.
const CommandSpec* find_subcommand(const CommandSpec& container, std::string_view name);
// Every top-level command, in table order.
std::span<const CommandSpec> all_commands();
// A top-level command's position in all_commands() (Stats::calls).
inline std::size_t command_index(const CommandSpec& top) {
  return static_cast<std::size_t>(&top - all_commands().data());
}

// Case-insensitive comparison with a lower-case `name`.
bool equals_nocase(std::string_view arg, std::string_view name);

}  // namespace ringd::resp
