// resp/cmd_connection.cc — connection commands, with Redis 7.0's replies.
//
//   PING [msg]  -> +PONG, or msg as a bulk string
//   ECHO msg    -> msg as a bulk string
//   QUIT        -> +OK, then the connection closes
//   SELECT n    -> +OK, or Redis's errors. Picks the ring the lookups of
//                  this connection read: 0 is every endpoint; when members
//                  carry service=NAME tags, 1..k are the services in sorted
//                  name order (RING.SERVICES lists them) and k+1 and above
//                  are out of range; without services 0..15 are accepted and
//                  all read the one ring, as a no-op.
//   HELLO [2|3 [AUTH user pass] [SETNAME name]]
//               -> switches to RESP2/RESP3; replies a map (RESP3) or a flat
//                  array (RESP2) of server, version, proto, id, mode, role,
//                  modules
//   AUTH [user] pass
//               -> +OK, or WRONGPASS; the only user is "default"
#include <cstdint>

#include "resp/command_table.h"
#include "resp/handlers.h"
#include "resp/parser.h"
#include "resp/version.h"
#include "resp/writer.h"

namespace ringd::resp {
namespace {

constexpr std::string_view kWrongPass = "WRONGPASS invalid username-password pair or user is disabled.";

// ACLAuthenticateUser() for the single "default" user.
bool authenticate(Context& ctx, std::string_view user, std::string_view pass) {
  const bool ok = user == "default" && (ctx.password == nullptr || password_matches(pass, *ctx.password));
  if (ok) {
    ctx.client.authenticated = true;
  } else {
    ctx.stats.auth_failures.fetch_add(1, std::memory_order_relaxed);
  }
  return ok;
}

}  // namespace

std::string_view c_prefix(std::string_view s, std::size_t max) {
  const std::size_t nul = s.find('\0');
  if (nul != std::string_view::npos) s = s.substr(0, nul);
  return s.substr(0, max);
}

bool valid_client_name(std::string_view name) {
  for (char c : name) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

bool password_matches(std::string_view candidate, std::string_view password) {
  // Time depends on the lengths only, not on where the bytes differ.
  unsigned char diff = candidate.size() == password.size() ? 0 : 1;
  const std::size_t n = std::max(candidate.size(), password.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto a = static_cast<unsigned char>(i < candidate.size() ? candidate[i] : 0);
    const auto b = static_cast<unsigned char>(i < password.size() ? password[i] : 0);
    diff = static_cast<unsigned char>(diff | (a ^ b));
  }
  return diff == 0;
}

void append_help(std::string& out, std::string_view container, std::span<const std::string_view> lines) {
  append_array_header(out, lines.size() + 3);
  std::string first;
  for (char c : container) first.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  first.append(" <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
  append_simple(out, first);
  for (std::string_view line : lines) append_simple(out, line);
  append_simple(out, "HELP");
  append_simple(out, "    Prints this help.");
}

Outcome cmd_ping(Args args, Context& ctx) {
  if (args.size() == 1) {
    append_simple(ctx.out, "PONG");
  } else {
    append_bulk(ctx.out, args[1]);
  }
  return Outcome::kContinue;
}

Outcome cmd_echo(Args args, Context& ctx) {
  append_bulk(ctx.out, args[1]);
  return Outcome::kContinue;
}

Outcome cmd_quit(Args, Context& ctx) {
  append_simple(ctx.out, "OK");
  return Outcome::kClose;
}

Outcome cmd_select(Args args, Context& ctx) {
  // Redis: getIntFromObjectOrReply() (string2ll, then the int range), then
  // selectDb() against the 16 default databases.
  std::int64_t id = 0;
  if (!parse_redis_int(args[1], id)) {
    append_error(ctx.out, "ERR value is not an integer or out of range");
  } else if (id < INT32_MIN || id > INT32_MAX) {
    append_error(ctx.out, "ERR value is out of range, value must between -2147483648 and 2147483647");
  } else if (id < 0 || !ctx.backend.select(static_cast<std::size_t>(id))) {
    append_error(ctx.out, "ERR DB index is out of range");
  } else {
    ctx.client.db = static_cast<int>(id);
    append_simple(ctx.out, "OK");
  }
  return Outcome::kContinue;
}

Outcome cmd_hello(Args args, Context& ctx) {
  std::int64_t ver = 0;
  std::size_t next = 1;
  if (args.size() >= 2) {
    if (!parse_redis_int(args[next++], ver)) {
      append_error(ctx.out, "ERR Protocol version is not an integer or out of range");
      return Outcome::kContinue;
    }
    if (ver < 2 || ver > 3) {
      append_error(ctx.out, "NOPROTO unsupported protocol version");
      return Outcome::kContinue;
    }
  }
  std::string_view setname;
  bool has_setname = false;
  for (std::size_t j = next; j < args.size(); ++j) {
    const std::size_t more = args.size() - 1 - j;
    if (equals_nocase(c_prefix(args[j], args[j].size()), "auth") && more >= 2) {
      if (!authenticate(ctx, args[j + 1], args[j + 2])) {
        append_error(ctx.out, kWrongPass);
        return Outcome::kContinue;
      }
      j += 2;
    } else if (equals_nocase(c_prefix(args[j], args[j].size()), "setname") && more >= 1) {
      setname = args[j + 1];
      if (!valid_client_name(setname)) {
        append_error(ctx.out, "ERR Client names cannot contain spaces, newlines or special characters.");
        return Outcome::kContinue;
      }
      has_setname = true;
      ++j;
    } else {
      std::string msg = "ERR Syntax error in HELLO option '";
      msg.append(c_prefix(args[j], args[j].size()));
      msg.push_back('\'');
      append_error(ctx.out, msg);
      return Outcome::kContinue;
    }
  }
  if (!ctx.client.authenticated) {
    append_error(ctx.out,
                 "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
                 "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
                 "select the RESP protocol version at the same time");
    return Outcome::kContinue;
  }
  if (has_setname) ctx.client.name.assign(setname);
  if (ver != 0) ctx.client.proto = static_cast<int>(ver);
  std::string& out = ctx.out;
  const int proto = ctx.client.proto;
  append_map_header(out, 7, proto);
  append_bulk(out, "server");
  append_bulk(out, "redis");
  append_bulk(out, "version");
  append_bulk(out, kRedisVersion);
  append_bulk(out, "proto");
  append_integer(out, proto);
  append_bulk(out, "id");
  append_integer(out, static_cast<std::int64_t>(ctx.client.id));
  append_bulk(out, "mode");
  append_bulk(out, "standalone");
  append_bulk(out, "role");
  append_bulk(out, "master");
  append_bulk(out, "modules");
  append_array_header(out, 0);
  return Outcome::kContinue;
}

Outcome cmd_auth(Args args, Context& ctx) {
  if (args.size() > 3) {
    append_error(ctx.out, "ERR syntax error");
    return Outcome::kContinue;
  }
  if (args.size() == 2 && ctx.password == nullptr) {
    append_error(ctx.out,
                 "ERR AUTH <password> called without any password configured for the default user. "
                 "Are you sure your configuration is correct?");
    return Outcome::kContinue;
  }
  const std::string_view user = args.size() == 2 ? std::string_view("default") : args[1];
  if (authenticate(ctx, user, args.back())) {
    append_simple(ctx.out, "OK");
  } else {
    append_error(ctx.out, kWrongPass);
  }
  return Outcome::kContinue;
}

}  // namespace ringd::resp
