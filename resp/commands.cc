#include "resp/commands.h"

#include <array>
#include <cstdint>

#include "resp/parser.h"
#include "resp/writer.h"

namespace ringd::resp {
namespace {

using Args = std::span<const std::string_view>;

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// `name` is lower case.
bool equals_nocase(std::string_view arg, std::string_view name) {
  if (arg.size() != name.size()) return false;
  for (std::size_t i = 0; i < arg.size(); ++i) {
    if (lower(arg[i]) != name[i]) return false;
  }
  return true;
}

// What printf("%.*s") prints of a Redis argument: up to the first NUL, at
// most `max` bytes.
std::string_view c_prefix(std::string_view s, std::size_t max) {
  const std::size_t nul = s.find('\0');
  if (nul != std::string_view::npos) s = s.substr(0, nul);
  return s.substr(0, max);
}

Outcome cmd_get(Args args, const Backend& backend, std::string& out) {
  if (auto owner = backend.owner(args[1])) {
    append_bulk(out, *owner);
  } else {
    append_nil(out);
  }
  return Outcome::kContinue;
}

Outcome cmd_select(Args args, const Backend&, std::string& out) {
  // Redis: getIntFromObjectOrReply() (string2ll, then the int range), then
  // selectDb() against the 16 default databases.
  std::int64_t id = 0;
  if (!parse_redis_int(args[1], id)) {
    append_error(out, "ERR value is not an integer or out of range");
  } else if (id < INT32_MIN || id > INT32_MAX) {
    append_error(out, "ERR value is out of range, value must between -2147483648 and 2147483647");
  } else if (id < 0 || id >= 16) {
    append_error(out, "ERR DB index is out of range");
  } else {
    append_simple(out, "OK");
  }
  return Outcome::kContinue;
}

Outcome cmd_ping(Args args, const Backend&, std::string& out) {
  if (args.size() == 1) {
    append_simple(out, "PONG");
  } else {
    append_bulk(out, args[1]);
  }
  return Outcome::kContinue;
}

Outcome cmd_echo(Args args, const Backend&, std::string& out) {
  append_bulk(out, args[1]);
  return Outcome::kContinue;
}

Outcome cmd_quit(Args, const Backend&, std::string& out) {
  append_simple(out, "OK");
  return Outcome::kClose;
}

struct Command {
  std::string_view name;  // lower case, as Redis prints it in arity errors
  int arity;              // Redis convention: N exactly, -N at least N
  int max_args;           // 0: no upper bound beyond arity
  Outcome (*run)(Args, const Backend&, std::string&);
};

// GET first: it is nearly all of the traffic.
constexpr std::array<Command, 5> kCommands{{
    {"get", 2, 0, cmd_get},
    {"select", 2, 0, cmd_select},
    {"ping", -1, 2, cmd_ping},  // Redis: arity -1, then pingCommand rejects > 2
    {"echo", 2, 0, cmd_echo},
    {"quit", -1, 0, cmd_quit},
}};

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

}  // namespace

Outcome dispatch(Args args, const Backend& backend, Stats& stats, std::string& out) {
  stats.commands.fetch_add(1, std::memory_order_relaxed);
  const std::string_view name = args[0];
  // Redis compares with strcasecmp(), which stops at a NUL byte.
  const std::string_view cname = c_prefix(name, name.size());
  if (equals_nocase(cname, "post") || equals_nocase(cname, "host:")) {
    stats.cross_protocol.fetch_add(1, std::memory_order_relaxed);
    return Outcome::kClose;
  }
  for (const Command& cmd : kCommands) {
    if (!equals_nocase(name, cmd.name)) continue;
    const auto argc = static_cast<std::int64_t>(args.size());
    const bool arity_ok = cmd.arity > 0 ? argc == cmd.arity : argc >= -cmd.arity;
    if (!arity_ok || (cmd.max_args > 0 && argc > cmd.max_args)) {
      stats.wrong_arity.fetch_add(1, std::memory_order_relaxed);
      std::string msg = "ERR wrong number of arguments for '";
      msg.append(cmd.name);
      msg.append("' command");
      append_error(out, msg);
      return Outcome::kContinue;
    }
    return cmd.run(args, backend, out);
  }
  stats.unknown_commands.fetch_add(1, std::memory_order_relaxed);
  append_unknown_command(args, out);
  return Outcome::kContinue;
}

}  // namespace ringd::resp
