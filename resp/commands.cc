#include "resp/commands.h"

#include <cstdint>

#include "resp/command_table.h"
#include "resp/handlers.h"
#include "resp/writer.h"

namespace ringd::resp {
namespace {

void append_unknown_command(Args args, std::string& out) {
  // Redis 7 commandCheckExistence():
  //   "unknown command '%.128s', with args beginning with: " followed by
  //   "'%.*s' " per argument while the list is under 128 bytes, each
  //   argument cut to what still fits in 128.
  std::string msg;
  msg.reserve(200);
  msg.append("ERR unknown command '");
  msg.append(c_prefix(args[0], 128));
  msg.append("', with args beginning with: ");
  const std::size_t list_start = msg.size();
  for (std::size_t i = 1; i < args.size() && msg.size() - list_start < 128; ++i) {
    msg.push_back('\'');
    msg.append(c_prefix(args[i], 128 - (msg.size() - 1 - list_start)));
    msg.append("' ");
  }
  append_error(out, msg);  // maps CR/LF to spaces, like Redis
}

void append_unknown_subcommand(Args args, std::string_view container, std::string& out) {
  // "unknown subcommand '%.128s'. Try %s HELP." with the container upper-cased.
  std::string msg = "ERR unknown subcommand '";
  msg.append(c_prefix(args[1], 128));
  msg.append("'. Try ");
  for (char c : container) msg.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  msg.append(" HELP.");
  append_error(out, msg);
}

bool arity_ok(const CommandSpec& cmd, std::size_t argc) {
  const auto n = static_cast<std::int64_t>(argc);
  const bool ok = cmd.arity > 0 ? n == cmd.arity : n >= -cmd.arity;
  return ok && (cmd.max_args == 0 || n <= cmd.max_args);
}

// GET is nearly all of the traffic: recognised without the table walk.
const CommandSpec& get_spec() {
  static const CommandSpec* const kGet = find_command("get");
  return *kGet;
}

}  // namespace

std::size_t get_command_index() { return command_index(get_spec()); }

void dispatch_get(std::string_view key, Context& ctx) {
  const CommandSpec& get = get_spec();
  ctx.client.last_command = get.name;
  const std::string_view args[] = {get.name, key};
  get.run(Args(args), ctx);
}

Outcome dispatch(Args args, Context& ctx) {
  const std::string_view name = args[0];
  // Redis compares with strcasecmp(), which stops at a NUL byte. Only names
  // starting with p or h can match, so GET skips the NUL search.
  const char first = name.empty() ? '\0' : static_cast<char>(name[0] | 0x20);
  if (first == 'p' || first == 'h') {
    const std::string_view cname = c_prefix(name, name.size());
    if (equals_nocase(cname, "post") || equals_nocase(cname, "host:")) {
      ctx.stats.cross_protocol.fetch_add(1, std::memory_order_relaxed);
      return Outcome::kClose;
    }
  }
  const bool is_get = name.size() == 3 && (name[0] | 0x20) == 'g' && (name[1] | 0x20) == 'e' &&
                      (name[2] | 0x20) == 't';
  const CommandSpec* cmd = is_get ? &get_spec() : find_command(name);
  if (cmd == nullptr) {
    ctx.stats.unknown_commands.fetch_add(1, std::memory_order_relaxed);
    append_unknown_command(args, ctx.out);
    return Outcome::kContinue;
  }
  const CommandSpec& top = *cmd;
  if (!cmd->subcommands.empty() && args.size() >= 2) {
    const CommandSpec* sub = find_subcommand(*cmd, args[1]);
    if (sub == nullptr) {
      ctx.stats.unknown_commands.fetch_add(1, std::memory_order_relaxed);
      append_unknown_subcommand(args, cmd->name, ctx.out);
      return Outcome::kContinue;
    }
    cmd = sub;
  }
  if (!arity_ok(*cmd, args.size())) {
    ctx.stats.wrong_arity.fetch_add(1, std::memory_order_relaxed);
    std::string msg = "ERR wrong number of arguments for '";
    msg.append(cmd->name);
    msg.append("' command");
    append_error(ctx.out, msg);
    return Outcome::kContinue;
  }
  if (!ctx.client.authenticated && !cmd->no_auth) {
    ctx.stats.noauth_rejections.fetch_add(1, std::memory_order_relaxed);
    append_error(ctx.out, "NOAUTH Authentication required.");
    return Outcome::kContinue;
  }
  ctx.client.last_command = cmd->name;
  ctx.stats.calls[command_index(top)].fetch_add(1, std::memory_order_relaxed);
  return cmd->run(args, ctx);
}

}  // namespace ringd::resp
