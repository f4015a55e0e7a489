// resp/cmd_ring.cc — lookups on the ring.
//
//   GET key            -> bulk "ip:port", or null when the ring is empty
//   MGET key [key ...] -> array of the same, one per key
//   DBSIZE             -> integer: endpoints on the ring
//   RING.OWNERS key n  -> array of up to n distinct endpoints, owner first:
//                         where to fail over when the owner does not answer
//   RING.CHECKSUM      -> bulk: the ring checksum (same as /ring "checksum");
//                         equal on two agents when their rings are equal
//   RING.NODES         -> array of the ring's endpoints, sorted
//   RING.SERVICES      -> array of the service names, sorted: element i (from
//                         1, as redis-cli numbers them) is database i for
//                         SELECT; empty when no member carries a service tag
//
// All but RING.SERVICES read the ring of the connection's database (SELECT).
#include <algorithm>
#include <cstdint>

#include "resp/handlers.h"
#include "resp/parser.h"
#include "resp/writer.h"

namespace ringd::resp {

namespace {
// The owner of key as a bulk string, or null on an empty ring.
void append_owner(std::string_view key, Context& ctx) {
  const std::string_view reply = ctx.backend.owner_bulk(key);
  if (reply.empty()) {
    append_null(ctx.out, ctx.client.proto);
  } else {
    ctx.out.append(reply);
  }
}
}  // namespace

Outcome cmd_get(Args args, Context& ctx) {
  append_owner(args[1], ctx);
  return Outcome::kContinue;
}

Outcome cmd_mget(Args args, Context& ctx) {
  append_array_header(ctx.out, args.size() - 1);
  for (std::size_t i = 1; i < args.size(); ++i) append_owner(args[i], ctx);
  return Outcome::kContinue;
}

Outcome cmd_dbsize(Args, Context& ctx) {
  append_integer(ctx.out, static_cast<std::int64_t>(ctx.backend.nodes().size()));
  return Outcome::kContinue;
}

Outcome cmd_ring_owners(Args args, Context& ctx) {
  std::int64_t n = 0;
  if (!parse_redis_int(args[2], n)) {
    append_error(ctx.out, "ERR value is not an integer or out of range");
    return Outcome::kContinue;
  }
  if (n <= 0) {
    append_error(ctx.out, "ERR value is out of range, must be positive");
    return Outcome::kContinue;
  }
  const std::size_t want = std::min<std::size_t>(static_cast<std::size_t>(n), ctx.backend.nodes().size());
  ctx.scratch.clear();
  if (want > 0) ctx.backend.owners(args[1], want, ctx.scratch);
  append_array_header(ctx.out, ctx.scratch.size());
  for (std::string_view endpoint : ctx.scratch) append_bulk(ctx.out, endpoint);
  return Outcome::kContinue;
}

Outcome cmd_ring_checksum(Args, Context& ctx) {
  append_bulk(ctx.out, ctx.backend.checksum());
  return Outcome::kContinue;
}

Outcome cmd_ring_dump(Args, Context& ctx) {
  append_bulk(ctx.out, ctx.backend.dump());
  return Outcome::kContinue;
}

Outcome cmd_ring_nodes(Args, Context& ctx) {
  const auto nodes = ctx.backend.nodes();
  append_array_header(ctx.out, nodes.size());
  for (const std::string& node : nodes) append_bulk(ctx.out, node);
  return Outcome::kContinue;
}

Outcome cmd_ring_services(Args, Context& ctx) {
  const auto services = ctx.backend.services();
  append_array_header(ctx.out, services.size());
  for (const std::string& name : services) append_bulk(ctx.out, name);
  return Outcome::kContinue;
}

}  // namespace ringd::resp
