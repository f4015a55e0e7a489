// resp/cmd_client.cc — CLIENT ID / SETNAME / GETNAME / INFO / HELP.
#include <array>
#include <cstdint>
#include <string>

#include "resp/handlers.h"
#include "resp/writer.h"

namespace ringd::resp {

Outcome cmd_client_id(Args, Context& ctx) {
  append_integer(ctx.out, static_cast<std::int64_t>(ctx.client.id));
  return Outcome::kContinue;
}

Outcome cmd_client_setname(Args args, Context& ctx) {
  if (!valid_client_name(args[2])) {
    append_error(ctx.out, "ERR Client names cannot contain spaces, newlines or special characters.");
    return Outcome::kContinue;
  }
  ctx.client.name.assign(args[2]);  // "" clears the name, as in Redis
  append_simple(ctx.out, "OK");
  return Outcome::kContinue;
}

Outcome cmd_client_getname(Args, Context& ctx) {
  if (ctx.client.name.empty()) {
    append_null(ctx.out, ctx.client.proto);
  } else {
    append_bulk(ctx.out, ctx.client.name);
  }
  return Outcome::kContinue;
}

Outcome cmd_client_info(Args, Context& ctx) {
  // Redis 7.0's catClientInfoString() layout; the buffer figures Redis keeps
  // per client do not exist here and read 0.
  const ClientState& c = ctx.client;
  const std::int64_t now = ctx.backend.now_seconds();
  std::string line;
  line.reserve(320);
  line.append("id=").append(std::to_string(c.id));
  line.append(" addr=").append(c.addr);
  line.append(" laddr=").append(c.laddr);
  line.append(" fd=").append(std::to_string(c.fd));
  line.append(" name=").append(c.name);
  line.append(" age=").append(std::to_string(c.created_s > 0 ? now - c.created_s : 0));
  line.append(" idle=").append(std::to_string(c.last_s > 0 ? now - c.last_s : 0));
  line.append(" flags=N db=").append(std::to_string(c.db));
  line.append(
      " sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 "
      "omem=0 tot-mem=0 events=r cmd=");
  line.append(c.last_command);
  line.append(" user=default redir=-1 resp=").append(std::to_string(c.proto));
  line.push_back('\n');
  append_verbatim(ctx.out, line, c.proto);
  return Outcome::kContinue;
}

Outcome cmd_client_help(Args, Context& ctx) {
  constexpr std::array<std::string_view, 8> kLines{
      "GETNAME",
      "    Return the name of the current connection.",
      "ID",
      "    Return the ID of the current connection.",
      "INFO",
      "    Return information about the current client connection.",
      "SETNAME <name>",
      "    Assign the name <name> to the current connection.",
  };
  append_help(ctx.out, "client", kLines);
  return Outcome::kContinue;
}

}  // namespace ringd::resp
